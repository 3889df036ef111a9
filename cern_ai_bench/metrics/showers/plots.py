"""Histograms of reference vs generated shower features, one multi-panel PNG per family.

The panels show exactly the histograms the separation power is computed from (official
CaloChallenge binnings, see :mod:`~cern_ai_bench.metrics.showers.separation`), with the
separation power in each legend. Figures are drawn with Matplotlib's object API on the Agg
canvas (no pyplot state, no display) and written atomically.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from cern_ai_bench.data.calo_geometry import CaloGeometry
from cern_ai_bench.data.files import atomic_path
from cern_ai_bench.metrics.showers.hlf import ShowerFeatures
from cern_ai_bench.metrics.showers.separation import FeatureHistogram, feature_histograms

__all__ = ["FAMILY_TITLES", "plot_feature_histograms"]

#: Families drawn, in order, with their axis labels.
FAMILY_TITLES: dict[str, str] = {
    "E_ratio": "E_tot / E_inc",
    "E_ratio_E": "E_tot / E_inc per incident energy",
    "E_layer": "layer energy [MeV]",
    "EC_eta": "centre of energy in eta [mm]",
    "EC_phi": "centre of energy in phi [mm]",
    "W_eta": "width in eta [mm]",
    "W_phi": "width in phi [mm]",
    "EC_r": "centre of energy in r [mm]",
    "W_r": "width in r [mm]",
    "sparsity": "fraction of empty voxels",
    "voxel_energy": "voxel energy [MeV]",
}


def _pick(histograms: list[FeatureHistogram], max_panels: int) -> list[FeatureHistogram]:
    """At most ``max_panels`` histograms, evenly spread over the layers."""
    if len(histograms) <= max_panels:
        return histograms
    index = np.unique(np.linspace(0, len(histograms) - 1, max_panels).round().astype(int))
    return [histograms[i] for i in index]


def _draw(ax, hist: FeatureHistogram) -> None:
    ax.set_title(hist.name, fontsize=8)
    if hist.edges.size < 2:
        ax.text(0.5, 0.5, "no entries above threshold", ha="center", va="center", fontsize=7)
        return
    ax.stairs(hist.reference, hist.edges, fill=True, alpha=0.3, label="reference")
    ax.stairs(
        hist.generated, hist.edges, linewidth=1.5, label=f"generated\nS = {hist.separation:.4f}"
    )
    if hist.log_x:
        ax.set_xscale("log")
    positive = np.concatenate([hist.reference, hist.generated])
    positive = positive[positive > 0]
    if positive.size:
        ax.set_yscale("log")
        ax.set_ylim(positive.min() / 2, positive.max() * 2)
    # Few ticks: tick layout dominates the drawing time of many small panels.
    ax.minorticks_off()
    if not hist.log_x:
        ax.locator_params(axis="x", nbins=4)
    ax.tick_params(labelsize=6)
    ax.legend(fontsize=6, frameon=False)


def plot_feature_histograms(
    reference: ShowerFeatures,
    generated: ShowerFeatures,
    geometry: CaloGeometry,
    out_dir: str | Path,
    *,
    max_panels: int = 20,
    dpi: int = 100,
) -> list[Path]:
    """Write one PNG per feature family (``hist_<family>.png``) into ``out_dir``.

    Args:
        reference, generated: features of the two samples (same geometry).
        geometry: the dataset geometry.
        out_dir: destination folder (created if needed).
        max_panels: per-layer families show at most this many layers, evenly spread.
        dpi: resolution of the PNGs.

    Returns:
        The paths written, in the order of :data:`FAMILY_TITLES`.
    """
    out_dir = Path(out_dir)
    by_family: dict[str, list[FeatureHistogram]] = {}
    for hist in feature_histograms(reference, generated, geometry):
        by_family.setdefault(hist.family, []).append(hist)
    written = []
    for family, title in FAMILY_TITLES.items():
        if family not in by_family:
            continue
        panels = _pick(by_family[family], max_panels)
        cols = min(5, len(panels))
        rows = math.ceil(len(panels) / cols)
        height = 2.6 * rows + 0.5
        fig = Figure(figsize=(3.2 * cols, height), dpi=dpi)
        FigureCanvasAgg(fig)
        for k, hist in enumerate(panels):
            _draw(fig.add_subplot(rows, cols, k + 1), hist)
        fig.suptitle(f"{title} ({geometry.name})", fontsize=10)
        # Fixed margins in inches (tight_layout would triple the drawing time).
        fig.subplots_adjust(
            left=0.5 / (3.2 * cols),
            right=0.98,
            bottom=0.35 / height,
            top=1 - 0.75 / height,
            wspace=0.3,
            hspace=0.45,
        )
        path = out_dir / f"hist_{family}.png"
        with atomic_path(path) as tmp:
            fig.savefig(tmp, format="png")
        written.append(path)
    return written
