"""Command-line entry point ``cern-ai-bench``: parse the Hydra config and dispatch.

Examples::

    cern-ai-bench                                   # the quick suite: all three use cases
    cern-ai-bench suite=throughput trainer.device=cuda   # a suite, every benchmark on the GPU
    cern-ai-bench task=trigger                      # one benchmark: hls4ml MLP, embedded jets
    cern-ai-bench model=pfn                         # Particle Flow Network on constituents
    cern-ai-bench dataset=hls4ml trainer.device=cuda trainer.precision=bf16
    cern-ai-bench dataset.jets_per_class=20000 task.baselines=[gbt]
    cern-ai-bench --help                            # config groups and every option

Errors caused by the input (missing or corrupt data, bad config values) end the run with one
message naming what was wrong and exit code 2, not with a traceback.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig

from cern_ai_bench.bench.suite import is_suite_command
from cern_ai_bench.config import ConfigError, register_configs, validate_config
from cern_ai_bench.engine.distributed import shutdown_distributed

log = logging.getLogger("cern_ai_bench")


def user_errors() -> tuple[type[BaseException], ...]:
    """Exception types that mean bad input rather than a bug (imported lazily)."""
    from cern_ai_bench.bench.record import RecordError
    from cern_ai_bench.data.errors import DataError
    from cern_ai_bench.data.schema import SchemaError
    from cern_ai_bench.engine.checkpoint import CheckpointError
    from cern_ai_bench.engine.loop import TrainingDiverged
    from cern_ai_bench.tasks.trigger import TaskError

    return (
        ConfigError,
        DataError,
        SchemaError,
        CheckpointError,
        TrainingDiverged,
        TaskError,
        RecordError,
    )


@hydra.main(version_base="1.3", config_path="pkg://cern_ai_bench.configs", config_name="main")
def _run(cfg: DictConfig) -> None:
    from cern_ai_bench.bench.run import run_benchmark
    from cern_ai_bench.bench.summary import format_summary

    run_dir = Path(HydraConfig.get().runtime.output_dir)
    logging.getLogger("numexpr").setLevel(logging.WARNING)  # pandas' thread-count notice
    try:
        validate_config(cfg)
        record = run_benchmark(cfg, run_dir)
    except user_errors() as error:
        log.error("%s", error)
        sys.stderr.write(f"cern-ai-bench: error: {error}\n")
        sys.exit(2)
    except KeyboardInterrupt:
        sys.stderr.write(
            f"cern-ai-bench: interrupted; rerun the same command with hydra.run.dir={run_dir} "
            "to resume from the last checkpoint\n"
        )
        sys.exit(130)
    finally:
        shutdown_distributed()
    if record is not None:  # rank 0
        sys.stdout.write(format_summary(record, run_dir) + "\n")


def main() -> None:
    """Console-script entry point: a suite (no arguments, or ``suite=NAME``) or one run."""
    register_configs()
    if is_suite_command(sys.argv[1:]):
        sys.exit(_suite(sys.argv[1:]))
    _run()


def _suite(args: list[str]) -> int:
    """Run a suite (:mod:`cern_ai_bench.bench.suite`); exit code 0, or 1 if a benchmark failed."""
    from cern_ai_bench.bench.suite import (
        FINISHED,
        default_suite_dir,
        load_suite,
        parse_suite_args,
        run_suite,
    )

    logging.basicConfig(level=logging.INFO, format="[%(asctime)s][%(name)s] %(message)s")
    logging.getLogger("numexpr").setLevel(logging.WARNING)
    try:
        name, seeds, folder, common = parse_suite_args(args)
        suite = load_suite(name)
        folder = folder or default_suite_dir(name)
        summary = run_suite(suite, folder, common, seeds=seeds)
    except ConfigError as error:
        sys.stderr.write(f"cern-ai-bench: error: {error}\n")
        return 2
    except KeyboardInterrupt:
        sys.stderr.write(
            f"cern-ai-bench: interrupted; rerun with hydra.run.dir={folder} to keep the finished "
            "benchmarks and resume the others\n"
        )
        return 130
    finally:
        shutdown_distributed()
    failed = [r["benchmark"] for r in summary["runs"] if r["status"] not in FINISHED]
    missed = [r["benchmark"] for r in summary["runs"] if r["status"] == "not_converged"]
    report = summary.get("report") or {}
    sys.stdout.write(
        f"suite {name}: {len(summary['runs']) - len(failed)} of {len(summary['runs'])} runs "
        f"finished; {folder / 'suite.json'}"
        + (f"; report {report.get('html')}" if report else "")
        + (f"; target not reached: {', '.join(missed)}" if missed else "")
        + (f"; failed: {', '.join(failed)}" if failed else "")
        + "\n"
    )
    for bench, ttt in (summary.get("time_to_target") or {}).items():
        spread = ttt["spread"] or {}
        mean = ttt["olympic_mean_s"]
        sys.stdout.write(
            f"  {bench}: time to target over {ttt['n_runs']} seeds: "
            + (
                f"olympic mean {mean:.2f} s, median {spread['median']:.2f} s "
                f"[{spread['p16']:.2f}, {spread['p84']:.2f}]"
                if mean is not None
                else "no olympic mean (a run missed the target and cannot be dropped)"
            )
            + (f"; not counted: {len(ttt['invalid'])}" if ttt["invalid"] else "")
            + "\n"
        )
    return 1 if failed else 0


if __name__ == "__main__":
    main()
