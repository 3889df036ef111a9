"""Comparison reports built from result records: tables, plots, Markdown and HTML.

Data flows one way: records (files) -> :mod:`collect` (read, group, olympic mean) ->
:mod:`tables` (rows) -> :mod:`plots` (PNG) and :mod:`render` (Markdown, HTML).
"""

from __future__ import annotations

from cern_ai_bench.bench.report.aggregate import build_report
from cern_ai_bench.bench.report.collect import ReportError, load_runs, olympic_mean
from cern_ai_bench.bench.report.plots import make_plots
from cern_ai_bench.bench.report.render import write_report

__all__ = ["ReportError", "build_report", "load_runs", "make_plots", "olympic_mean", "write_report"]
