"""``cern-ai-bench-report``: aggregate result records into a Markdown and an HTML comparison.

Example (the committed reference records)::

    cern-ai-bench-report benchmarks/reference --out benchmarks/report
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from cern_ai_bench.bench.record import RecordError
from cern_ai_bench.bench.report.aggregate import build_report
from cern_ai_bench.bench.report.collect import ReportError, load_runs
from cern_ai_bench.bench.report.plots import make_plots
from cern_ai_bench.bench.report.render import write_report

PROG = "cern-ai-bench-report"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description=(
            "Aggregate result records (record.json) from any number of runs and machines\n"
            "into one comparison: a table of systems, and per benchmark one row per system\n"
            "and configuration with quality, training throughput, inference latency and\n"
            "throughput, time to target and peak memory (repeated runs olympic-averaged:\n"
            "fastest and slowest dropped), plus plots. Writes DIR/report.md, DIR/report.html\n"
            "(self-contained: plots and CSS inline) and the plots as PNG files beside them."
        ),
        epilog="examples:\n"
        f"  {PROG} outputs/                      # every record under outputs/\n"
        f"  {PROG} run1/record.json run2/record.json --out cmp\n"
        f"  {PROG} benchmarks/reference --out benchmarks/report\n\n"
        "JSON files that are not records (e.g. ablation tables) are skipped with a warning;\n"
        "a file that looks like a record but is malformed stops the report (exit status 2).",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "paths",
        nargs="+",
        metavar="RECORD_OR_FOLDER",
        help="record files, or folders searched recursively for *.json",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("report"),
        metavar="DIR",
        help="folder to write the report into (created if needed; default: report/)",
    )
    return parser


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point; exits with status 2 on bad input."""
    args = _parser().parse_args(argv)
    try:
        collection = load_runs(args.paths)
    except (ReportError, RecordError) as error:
        _fail(str(error))
    for line in collection.skipped:
        sys.stderr.write(f"{PROG}: warning: {line}\n")
    if not collection.runs:
        _fail(f"no result record found in {' '.join(map(str, args.paths))}")
    report = build_report(collection)
    written = write_report(report, make_plots(report), args.out)
    sys.stdout.write(f"{PROG}: {report.counts}; wrote {', '.join(str(p) for p in written)}\n")


def _fail(message: str) -> None:
    sys.stderr.write(f"{PROG}: error: {message}\n")
    raise SystemExit(2)


if __name__ == "__main__":
    main()
