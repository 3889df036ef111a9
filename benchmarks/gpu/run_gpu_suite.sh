#!/usr/bin/env bash
# GPU reference runs: the CUDA paths (bf16 autocast, torch.compile, CUDA graphs through
# compile=reduce-overhead) of every use case, and the records committed under
# benchmarks/reference/<system>/.
#
#   bash benchmarks/gpu/run_gpu_suite.sh trigger|anomaly|fastsim [OUTDIR]
#
# Environment: DEVICE (default cuda), SCALE=small|full (small: a quick local check of this
# script on any device), CERN_AI_BENCH_DATA (generation cache). Each part writes its records
# and logs under OUTDIR (default gpu_runs/) and ends with a tarball of them.
set -euo pipefail
part=${1:?usage: run_gpu_suite.sh trigger|anomaly|fastsim [OUTDIR]}
out=${2:-gpu_runs}
device=${DEVICE:-cuda}
scale=${SCALE:-full}
mkdir -p "$out"
out=$(cd "$out" && pwd)
common=(trainer.device="$device" trainer.threads=4 trainer.progress=false)
run() { # name, overrides...
    local name=$1
    shift
    echo "=== $name: cern-ai-bench $*"
    cern-ai-bench "${common[@]}" "$@" hydra.run.dir="$out/$part/$name" 2>&1 | tee "$out/$part/$name.log"
}
mkdir -p "$out/$part"

if [[ $scale == small ]]; then
    jets=500 epochs=1 steps=20 showers=2000 fs_time=20 l1=2000 l1s=500
else
    jets=5000 epochs=20 steps=300 showers=30000 fs_time=100 l1=30000 l1s=3000
fi

case $part in
trigger)
    base=(task=trigger dataset.jets_per_class=$jets trainer.max_epochs=$epochs)
    for model in mlp pfn particle_transformer; do
        run "${model}_fp32" "${base[@]}" model=$model
        run "${model}_bf16_compile" "${base[@]}" model=$model trainer.precision=bf16 \
            trainer.compile=default
    done
    run mlp_bf16_cudagraphs "${base[@]}" model=mlp trainer.precision=bf16 \
        trainer.compile=reduce-overhead
    echo "=== ablation (trigger MLP)"
    cern-ai-bench-ablate --repeats 3 --steps $steps --out "$out/$part/ablation_mlp" \
        --vary trainer.loader=dataloader,resident --vary trainer.precision=fp32,bf16 \
        --vary trainer.compile=none,reduce-overhead \
        "${common[@]}" task=trigger dataset.jets_per_class=$jets model=mlp
    ;;
anomaly)
    base=(task=anomaly dataset.n_background_train=$l1 dataset.n_background_test=$l1
        dataset.n_signal_events=$l1s)
    run ae_fp32 "${base[@]}" model=ae
    run vae_fp32 "${base[@]}" model=vae
    run ae_bf16_compile "${base[@]}" model=ae trainer.precision=bf16 trainer.compile=default
    ;;
fastsim)
    base=(task=fastsim dataset.geometry=ds1_photons dataset.n_showers=$showers
        dataset.n_reference_showers=$((showers / 3)) trainer.max_time_s=$fs_time
        trainer.max_epochs=1000 task.evaluation.classifier_epochs=10
        task.evaluation.classifier_repeats=2 task.evaluation.fpd_min_samples=2000
        task.evaluation.val_showers=1000)
    run flow_matching_bf16_compile "${base[@]}" model=flow_matching trainer.precision=bf16 \
        trainer.compile=default
    run cvae_fp32 "${base[@]}" model=cvae
    ;;
*)
    echo "unknown part $part" >&2
    exit 2
    ;;
esac
find "$out/$part" -name '*.npy' -o -name '*.hdf5' -o -name '*.pt' | xargs -r rm -f
tar -czf "$out/$part.tar.gz" -C "$out" "$part"
echo "=== wrote $out/$part.tar.gz"
