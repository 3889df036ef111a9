"""Write the report: Markdown (with the plots as PNG files beside it) and one self-contained HTML.

The HTML page needs nothing else: CSS is inline and the plots are embedded as base64 PNG data
URLs, so it can be mailed or attached to a ticket and opens offline. All files are written
atomically, so an interrupted run never leaves a half-written report.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Sequence
from pathlib import Path

from cern_ai_bench import __version__
from cern_ai_bench.bench.report.plots import PLOT_NAMES, Plot
from cern_ai_bench.bench.report.tables import (
    RECORD_COLUMNS,
    SYSTEM_COLUMNS,
    Report,
    benchmark_columns,
    record_cells,
)
from cern_ai_bench.data.files import atomic_path, atomic_write_text

TITLE = "cern_ai_bench comparison report"
MARKDOWN_NAME = "report.md"
HTML_NAME = "report.html"

_HOW_TO_READ = (
    "Rows with the same benchmark, system and configuration are repeats of one measurement: "
    "`n` counts them. Times and rates (train samples/s and its IQR over timed windows, "
    "latencies, inference samples/s, time to target) are the olympic mean over the runs "
    "(the fastest and slowest run dropped, MLPerf Training's rule; the plain mean when n < 3); "
    "the quality metric is the plain mean, memory peaks the maximum. Latencies are single "
    "calls at batch 1; `—` means not measured or not applicable (time to target needs "
    "`trainer.target`). Systems are identified by CPU model and cores, GPUs, torch and CUDA, "
    "not by host name."
)
_MIXED_DATA = (
    "Rows differ in data size (column `data`): their quality numbers are not comparable, "
    "their speeds are."
)
_NO_TTT = (
    "No record has a time to target (no `trainer.target` was set, or no run reached it), "
    "so there is no time-to-target plot."
)

_CSS = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1400px; color: #222; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; font-size: 0.85em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.5em; }
th { background: #f0f0f0; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
tr:nth-child(even) td { background: #fafafa; }
p.note { color: #555; font-size: 0.9em; }
img { max-width: 100%; }
"""


def write_report(report: Report, plots: Sequence[Plot], out_dir: str | Path) -> list[Path]:
    """Write ``report.md``, ``report.html`` and one PNG per plot into ``out_dir``."""
    out = Path(out_dir)
    written = []
    for plot in plots:
        target = out / f"{plot.name}.png"
        with atomic_path(target) as tmp:
            tmp.write_bytes(plot.png)
        written.append(target)
    for name in set(PLOT_NAMES) - {p.name for p in plots}:
        (out / f"{name}.png").unlink(missing_ok=True)  # a figure of an earlier report
    for name, text in (
        (MARKDOWN_NAME, render_markdown(report, plots)),
        (HTML_NAME, render_html(report, plots)),
    ):
        atomic_write_text(out / name, text)
        written.append(out / name)
    return written


def _summary(report: Report) -> str:
    return (
        f"Built by `cern-ai-bench-report` (cern_ai_bench {__version__}) from result records: "
        f"{report.counts}."
    )


def render_markdown(report: Report, plots: Sequence[Plot]) -> str:
    """The report as GitHub-flavoured Markdown; plots are linked as ``<name>.png`` beside it."""
    lines = [f"# {TITLE}", "", _summary(report), "", _HOW_TO_READ, "", "## Systems", ""]
    lines += _md_table(SYSTEM_COLUMNS, [row.cells() for row in report.systems])
    lines += ["", "## Benchmarks"]
    for table in report.tables:
        lines += ["", f"### {table.key.title}", "", f"Metric: test `{table.metric}`."]
        if table.mixed_data:
            lines += ["", _MIXED_DATA]
        rows = [r.cells() for r in table.rows]
        lines += ["", *_md_table(benchmark_columns(table.metric), rows)]
    lines += ["", "## Plots"]
    for plot in plots:
        lines += [
            "",
            f"### {plot.title}",
            "",
            plot.caption,
            "",
            f"![{plot.title}]({plot.name}.png)",
        ]
    if "time_to_target" not in {p.name for p in plots}:
        lines += ["", _NO_TTT]
    lines += ["", "## Records", ""]
    lines += _md_table(RECORD_COLUMNS, [record_cells(run, report) for run in report.runs])
    if report.skipped:
        lines += ["", "## Skipped files", "", *(f"- {line}" for line in report.skipped)]
    return "\n".join(lines) + "\n"


def _md_table(columns: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    def line(cells: Sequence[str]) -> str:
        return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"

    return [line(columns), "|" + "---|" * len(columns)] + [line(row) for row in rows]


def render_html(report: Report, plots: Sequence[Plot]) -> str:
    """The report as one HTML page with inline CSS and the plots as data URLs."""
    esc = html.escape
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{esc(TITLE)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{esc(TITLE)}</h1>",
        f"<p>{_inline_code(_summary(report))}</p>",
        f'<p class="note">{_inline_code(_HOW_TO_READ)}</p>',
        "<h2>Systems</h2>",
        _html_table("systems", SYSTEM_COLUMNS, [row.cells() for row in report.systems]),
        "<h2>Benchmarks</h2>",
    ]
    for table in report.tables:
        parts.append(f"<h3>{esc(table.key.title)}</h3>")
        parts.append(f"<p>Metric: test <code>{esc(table.metric)}</code>.</p>")
        if table.mixed_data:
            parts.append(f'<p class="note">{_inline_code(_MIXED_DATA)}</p>')
        columns = benchmark_columns(table.metric)
        parts.append(
            _html_table("benchmark", columns, [r.cells() for r in table.rows], first_num=4)
        )
    parts.append("<h2>Plots</h2>")
    for plot in plots:
        data = base64.b64encode(plot.png).decode("ascii")
        parts += [
            f"<h3>{esc(plot.title)}</h3>",
            f'<p class="note">{esc(plot.caption)}</p>',
            f'<img alt="{esc(plot.title)}" src="data:image/png;base64,{data}">',
        ]
    if "time_to_target" not in {p.name for p in plots}:
        parts.append(f'<p class="note">{_inline_code(_NO_TTT)}</p>')
    parts.append("<h2>Records</h2>")
    parts.append(
        _html_table("records", RECORD_COLUMNS, [record_cells(r, report) for r in report.runs])
    )
    if report.skipped:
        items = "".join(f"<li>{esc(line)}</li>" for line in report.skipped)
        parts += ["<h2>Skipped files</h2>", f"<ul>{items}</ul>"]
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def _html_table(
    kind: str, columns: Sequence[str], rows: Sequence[Sequence[str]], first_num: int | None = None
) -> str:
    """A table; cells from column ``first_num`` on are numbers (right-aligned)."""
    esc = html.escape
    head = "".join(f"<th>{esc(c)}</th>" for c in columns)
    body = []
    for row in rows:
        cells = []
        for index, cell in enumerate(row):
            numeric = first_num is not None and index >= first_num
            cells.append(
                f'<td class="num">{esc(cell)}</td>' if numeric else f"<td>{esc(cell)}</td>"
            )
        body.append(f"<tr>{''.join(cells)}</tr>")
    return f'<table class="{kind}"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>'


def _inline_code(text: str) -> str:
    """Escape ``text`` and turn Markdown `code` spans into <code> elements."""
    pieces = html.escape(text).split("`")
    return "".join(f"<code>{p}</code>" if i % 2 else p for i, p in enumerate(pieces))
