"""The report's figures as PNG bytes: one panel per benchmark, one colour per system.

Figures are drawn on matplotlib's Agg canvas without pyplot, so building a report touches no
global plotting state and needs no display. Margins are fixed rather than computed by a layout
engine, and log axes carry no minor ticks: together that halves the drawing time.
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable
from dataclasses import dataclass

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import FuncFormatter, LogLocator, NullLocator

from cern_ai_bench.bench.report.tables import BenchmarkTable, ConfigRow, Report

_MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")
_LINESTYLES = ("-", "--", ":", "-.")
_DPI = 80  # keeps the self-contained HTML page small
#: Every figure a report can have (file stems of the PNGs beside the Markdown).
PLOT_NAMES = ("throughput_vs_batch", "time_to_target", "quality_vs_speed")


@dataclass(frozen=True)
class Plot:
    name: str  # file stem, e.g. throughput_vs_batch
    title: str
    caption: str
    png: bytes


def make_plots(report: Report) -> list[Plot]:
    """Every figure that the records have data for (time to target only when measured)."""
    plots = []
    for name, title, caption, draw, wanted in (
        (
            "throughput_vs_batch",
            "Inference throughput vs batch size",
            "Inference samples/s at each batch size a record measured: batch 1 is 1000 / p50 "
            "latency (ms), the largest batch is the inference throughput, fastsim adds its "
            "shower-generation timings. One line per system and configuration "
            "(olympic mean over runs at each batch).",
            _draw_sweep,
            lambda row: bool(row.sweep),
        ),
        (
            "time_to_target",
            "Time to target",
            "Seconds from the first training step to the first evaluation meeting the quality "
            "target (olympic mean over runs; runs that missed it are not drawn).",
            _draw_time_to_target,
            lambda row: row.time_to_target_s is not None and math.isfinite(row.time_to_target_s),
        ),
        (
            "quality_vs_speed",
            "Quality vs training speed",
            "The benchmark's test metric against training samples/s, one marker per run, "
            "coloured by system.",
            _draw_quality_vs_speed,
            lambda row: any(p.metric is not None and p.train_throughput for p in row.runs),
        ),
    ):
        tables = [t for t in report.tables if any(wanted(row) for row in t.rows)]
        if tables:
            plots.append(Plot(name, title, caption, _grid(report, tables, draw)))
    return plots


def system_colours(report: Report) -> dict[str, str]:
    """A fixed colour per system id (matplotlib's tab10 cycle)."""
    return {row.id: f"C{i % 10}" for i, row in enumerate(report.systems)}


def _grid(
    report: Report,
    tables: list[BenchmarkTable],
    draw: Callable[[Axes, BenchmarkTable, dict[str, str]], None],
) -> bytes:
    ncols = min(3, len(tables))
    nrows = math.ceil(len(tables) / ncols)
    width, height = 5.0 * ncols, 3.7 * nrows + 0.5  # inches; 0.5 for the legend of systems
    fig = Figure(figsize=(width, height), dpi=_DPI)
    FigureCanvasAgg(fig)
    fig.subplots_adjust(
        left=0.8 / width,
        right=1 - 0.2 / width,
        bottom=0.55 / height,
        top=1 - 0.8 / height,
        wspace=0.3,
        hspace=0.55,
    )
    colours = system_colours(report)
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    for ax, table in zip(axes, tables, strict=False):
        draw(ax, table, colours)
        ax.set_title(table.key.title, fontsize=9)
        ax.margins(0.12)
        ax.grid(True, which="major", alpha=0.3)
        ax.tick_params(which="both", labelsize=7)
        _tidy_log_axes(ax)
    for ax in axes[len(tables) :]:
        ax.set_visible(False)
    handles = [Line2D([], [], color=colours[s.id], lw=3) for s in report.systems]
    labels = [f"{s.id}: {s.key.name} · torch {s.key.torch}" for s in report.systems]
    fig.legend(handles, labels, loc="upper center", ncols=min(3, len(labels)), fontsize=9)
    buffer = io.BytesIO()
    # No "Software" metadata: the bytes depend only on the data and matplotlib's drawing.
    fig.savefig(buffer, format="png", metadata={"Software": None})
    return buffer.getvalue()


def _tidy_log_axes(ax: Axes) -> None:
    """Readable ticks on log axes whatever their span: a span under 10x becomes linear, one
    under 100x gets ticks at 1, 2 and 5 per decade, a wider one ticks at each decade only."""
    for axis, limits, set_scale in (
        (ax.xaxis, ax.get_xlim(), ax.set_xscale),
        (ax.yaxis, ax.get_ylim(), ax.set_yscale),
    ):
        low, high = sorted(limits)
        if axis.get_scale() != "log" or low <= 0:
            continue
        if high / low < 10:
            set_scale("linear")
            continue
        if high / low < 100:
            axis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
            axis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:,.6g}"))
        axis.set_minor_locator(NullLocator())


#: Differing settings a legend entry names (more would overflow the plot).
_LEGEND_SETTINGS = 1


def _short(value: str, limit: int = 16) -> str:
    return value if len(value) <= limit else value[: limit - 1] + "…"


def _legend_label(row: ConfigRow, table: BenchmarkTable) -> str:
    config = row.config
    parts = [
        row.system_id,
        config.precision,
        "eager" if config.compile == "none" else config.compile,
    ]
    if config.device == "cpu" and config.threads is not None:
        parts.append(f"{config.threads} thr")
    if table.mixed_data:
        parts.append(config.data.split(" / ")[0])
    variant = [f"{key.rsplit('.', 1)[-1]}={_short(value)}" for key, value in row.variant]
    if len(variant) > _LEGEND_SETTINGS:  # the table row names them all
        more = len(variant) - _LEGEND_SETTINGS
        variant = [*variant[:_LEGEND_SETTINGS], f"+{more} more settings"]
    return " · ".join(parts + variant)


def _style(index: int) -> dict[str, str]:
    return {"marker": _MARKERS[index % len(_MARKERS)], "linestyle": _LINESTYLES[index % 4]}


def _draw_sweep(ax: Axes, table: BenchmarkTable, colours: dict[str, str]) -> None:
    for index, row in enumerate(table.rows):
        if not row.sweep:
            continue
        batches, rates = zip(*row.sweep, strict=True)
        ax.plot(
            batches,
            rates,
            color=colours[row.system_id],
            label=_legend_label(row, table),
            markersize=5,
            **_style(index),
        )
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("batch size", fontsize=8)
    ax.set_ylabel("inference samples/s", fontsize=8)
    ax.legend(fontsize=6)


def _draw_time_to_target(ax: Axes, table: BenchmarkTable, colours: dict[str, str]) -> None:
    rows = [
        r
        for r in table.rows
        if r.time_to_target_s is not None and math.isfinite(r.time_to_target_s)
    ]
    positions = list(range(len(rows)))
    ax.barh(
        positions,
        [r.time_to_target_s or 0.0 for r in rows],
        color=[colours[r.system_id] for r in rows],
        alpha=0.6,
    )
    for position, row in zip(positions, rows, strict=True):  # labels inside: no wide margin
        label = f" {_legend_label(row, table)} (n={row.n})"
        ax.text(0, position, label, va="center", ha="left", fontsize=7)
    ax.set_yticks([])
    ax.invert_yaxis()
    ax.set_xlabel("time to target (s)", fontsize=8)


def _draw_quality_vs_speed(ax: Axes, table: BenchmarkTable, colours: dict[str, str]) -> None:
    for index, row in enumerate(table.rows):
        points = [p for p in row.runs if p.metric is not None and p.train_throughput]
        if not points:
            continue
        ax.scatter(
            [p.train_throughput for p in points],
            [p.metric for p in points],
            color=colours[row.system_id],
            marker=_MARKERS[index % len(_MARKERS)],
            label=_legend_label(row, table),
            s=36,
        )
    ax.set_xscale("log")
    ax.ticklabel_format(axis="y", useOffset=False)  # metric values, not offsets from one
    ax.set_xlabel("train samples/s", fontsize=8)
    ax.set_ylabel(f"test {table.metric}", fontsize=8)
    ax.legend(fontsize=6)
