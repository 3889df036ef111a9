"""Plot of SIC curves: significance improvement against signal efficiency, several scores.

The LHC Olympics weakly supervised results are shown this way (SIC = TPR / sqrt(FPR) against
TPR; CATHODE, Hallin et al., PRD 106 (2022) 055006, arXiv:2109.00546), with the random
classifier's SIC = sqrt(TPR) as the reference line. Drawn on a bare Agg canvas (no pyplot
state, no display) and written atomically.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from cern_ai_bench.data.files import atomic_path
from cern_ai_bench.metrics.anomaly_sic import SICCurve

__all__ = ["plot_sic_curves"]


def plot_sic_curves(
    curves: Mapping[str, SICCurve], path: str | Path, *, title: str = "", dpi: int = 100
) -> Path:
    """Draw each named SIC curve against TPR, with its max marked, into one PNG.

    Args:
        curves: label -> :class:`~cern_ai_bench.metrics.anomaly_sic.SICCurve` (empty curves
            are listed in the legend as such).
        path: the ``.png`` file to write (replaced if it exists).
        title: figure title.
        dpi: resolution.

    Returns:
        ``path``.
    """
    path = Path(path)
    fig = Figure(figsize=(5.5, 4.2), dpi=dpi)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    for label, curve in curves.items():
        if curve.sic.size == 0:
            ax.plot([], [], label=f"{label} (no point with >= {curve.min_background} bkg)")
            continue
        best = curve.maximum()
        (line,) = ax.plot(curve.tpr, curve.sic, label=f"{label}: max SIC {best.value:.2f}")
        ax.plot([best.tpr], [best.value], "o", color=line.get_color())
    grid = np.linspace(0.0, 1.0, 101)
    ax.plot(grid, np.sqrt(grid), ":", color="grey", label="random (SIC = sqrt(TPR))")
    ax.set_xlabel("signal efficiency (TPR)")
    ax.set_ylabel("SIC = TPR / sqrt(FPR)")
    ax.set_xlim(0.0, 1.0)
    ax.set_ylim(bottom=0.0)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    if title:
        ax.set_title(title, fontsize=9)
    fig.subplots_adjust(left=0.12, right=0.97, bottom=0.12, top=0.9 if title else 0.96)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png")
    return path
