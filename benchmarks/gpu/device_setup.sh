#!/usr/bin/env bash
# Set-up on a bare GPU machine with no network (this workplace's lent device): install the
# wheels carried in .whl/ and this checkout, without dependency resolution (torch, numpy,
# scipy, scikit-learn, h5py, pandas and matplotlib come with the machine's image).
# Usage: source benchmarks/gpu/device_setup.sh
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl
python3 -m pip install -q --no-index --no-deps --no-build-isolation --no-cache-dir --upgrade --target /tmp/pkg .
export PYTHONPATH=/tmp/pkg:/tmp/site PATH=/tmp/pkg/bin:$PATH CERN_AI_BENCH_DATA=/tmp/cab_data PYTHIA8DATA=/tmp/site/share/Pythia8/xmldoc
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv
python3 -c "import torch; print('torch', torch.__version__, torch.cuda.get_device_name())"
