"""Separation power of high-level-feature histograms, as the CaloChallenge 2022 evaluation.

The separation power (triangular discrimination) of two histograms normalised to unit sum is

    S = 1/2 sum_i (h1_i - h2_i)^2 / (h1_i + h2_i),

0 for identical and 1 for disjoint distributions (eq. 15 of arXiv:2009.03796). As in
``code/evaluate_plotting_helper.py`` (CaloChallenge/homepage, commit 9b41df7), each histogram is
``np.histogram(..., density=True)`` times the bin widths (entries outside the binning are not
counted, so each histogram sums to 1 over its bins), empty bins are handled by adding 1e-16 to
the denominator, and the binnings are the official ones:

========================  ===================================  ===================================
histogram (name)          datasets 2 and 3                     dataset 1 (photons, pions)
========================  ===================================  ===================================
``E_ratio`` E_tot/E_inc   100 bins on [0.5, 1.5]               same
``E_ratio_E{E}``          --                                   per E_inc = 2^8..2^22 MeV, 20 bins on
                                                               [0.4, 1.4] ([0.9, 1.1] photons from
                                                               4096 MeV on)
``E_layer_{l}``           40 log edges from the threshold to the reference's maximum in layer l
``EC_eta_{l}``/``phi``    100 bins on [-30, 30] mm             [-500, 500] layers 12, 13, else
                                                               [-100, 100]
``W_eta_{l}``/``phi``     100 bins on [0, 30] mm               [0, 400] layers 12, 13, else
                                                               [0, 100]
``EC_r_{l}``              100 bins on [0, 42] mm               [0, 1500] layers 12-14, else [0, 500]
``W_r_{l}``               100 bins on [0, 20] mm               [0, 1500] layers 12-14, else [0, 500]
``sparsity_{l}``          20 bins on [0, 1]                    same
``voxel_energy``          50 log edges from the threshold to the reference's largest voxel
========================  ===================================  ===================================

``evaluate.py -m hist`` at that commit computes ``E_ratio`` (and ``E_ratio_E{E}`` for dataset 1),
``E_layer``, ``EC_eta``, ``EC_phi``, ``W_eta``, ``W_phi`` and ``voxel_energy``
(:data:`OFFICIAL_HIST_FAMILIES`); the helper file also defines ``EC_r``, ``W_r`` and
``sparsity`` histograms, which are included here with its binnings.

One deviation: where a histogram has no entry inside its binning the official code divides
0 by 0 (NaN). Here such a histogram counts as disjoint from a non-empty one (S = 1) and
identical to another empty one (S = 0), so a mean over features never turns NaN.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from cern_ai_bench.data.calo_geometry import CaloGeometry
from cern_ai_bench.metrics.showers.hlf import ShowerFeatures

__all__ = [
    "OFFICIAL_HIST_FAMILIES",
    "FeatureHistogram",
    "family_means",
    "feature_histograms",
    "histogram_family",
    "histogram_separation",
    "separation_power",
    "separation_powers",
    "summarize",
]

#: Histogram families that ``evaluate.py -m hist`` evaluates (CaloChallenge/homepage 9b41df7).
OFFICIAL_HIST_FAMILIES: tuple[str, ...] = (
    "E_ratio",
    "E_ratio_E",
    "E_layer",
    "EC_eta",
    "EC_phi",
    "W_eta",
    "W_phi",
    "voxel_energy",
)

#: Voxel energies histogrammed at once (the voxel histogram covers N x V values).
_VOXEL_BLOCK = 1 << 22


def separation_power(h1: np.ndarray, h2: np.ndarray) -> float:
    """``1/2 sum (h1 - h2)^2 / (h1 + h2 + 1e-16)`` of two histograms normalised to unit sum.

    Args:
        h1, h2: bin contents of the same binning, each summing to 1 (probabilities per bin).

    Returns:
        The separation power in [0, 1]: 0 for identical, 1 for disjoint histograms.
    """
    h1 = np.asarray(h1, dtype=np.float64)
    h2 = np.asarray(h2, dtype=np.float64)
    if h1.shape != h2.shape:
        raise ValueError(f"histograms of different binnings: shapes {h1.shape} and {h2.shape}")
    ret = (h1 - h2) ** 2
    ret /= h1 + h2 + 1e-16  # empty bins contribute 0
    return float(0.5 * ret.sum())


def _counts(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Entries per bin exactly as ``np.histogram(values, edges)``: bins ``[e_i, e_{i+1})``,
    the last one closed, entries outside dropped; done in blocks without sorting."""
    counts = np.zeros(len(edges) - 1, dtype=np.int64)
    flat = values.reshape(-1)
    for lo in range(0, flat.size, _VOXEL_BLOCK):
        block = flat[lo : lo + _VOXEL_BLOCK]
        block = block[(block >= edges[0]) & (block <= edges[-1])]
        index = np.searchsorted(edges, block, side="right") - 1
        index[index == len(edges) - 1] = len(edges) - 2  # the right edge belongs to the last bin
        counts += np.bincount(index, minlength=len(edges) - 1)
    return counts


def _unit_histogram(counts: np.ndarray, edges: np.ndarray) -> np.ndarray | None:
    """``density * bin width`` as the official helper computes it; None without entries."""
    total = counts.sum()
    if total == 0:
        return None
    widths = np.diff(edges).astype(float)
    return counts / widths / total * np.diff(edges)


def histogram_separation(
    reference: np.ndarray, generated: np.ndarray, edges: np.ndarray
) -> tuple[float, np.ndarray, np.ndarray]:
    """Separation power of two samples histogrammed in ``edges``, as the official helper.

    Returns:
        ``(S, h_reference, h_generated)``: the separation power and the two unit-sum histograms
        (all zeros for a sample with no entry inside the binning; see the module docstring).
    """
    h_ref = _unit_histogram(_counts(np.asarray(reference), edges), edges)
    h_gen = _unit_histogram(_counts(np.asarray(generated), edges), edges)
    if h_ref is None or h_gen is None:
        empty = np.zeros(len(edges) - 1)
        both_empty = h_ref is None and h_gen is None
        value = 0.0 if both_empty else 1.0
        return value, empty if h_ref is None else h_ref, empty if h_gen is None else h_gen
    return separation_power(h_ref, h_gen), h_ref, h_gen


@dataclass(frozen=True)
class FeatureHistogram:
    """One compared histogram: its name, family, layer, binning and both unit-sum histograms."""

    name: str
    family: str
    layer: int | None
    edges: np.ndarray
    reference: np.ndarray
    generated: np.ndarray
    separation: float
    log_x: bool = False


def _dataset_kind(geometry: CaloGeometry) -> str:
    """``par04`` (datasets 2, 3), ``photons`` or ``pions`` (dataset 1), from the particle."""
    kinds = {"electron": "par04", "photon": "photons", "pion": "pions"}
    try:
        return kinds[geometry.particle]
    except KeyError:
        raise ValueError(
            f"geometry {geometry.name!r}: no CaloChallenge binning for particle "
            f"{geometry.particle!r} (expected one of {sorted(kinds)})"
        ) from None


def _linear_range(family: str, layer: int, kind: str) -> tuple[float, float]:
    """Range (mm) of the centre and width histograms, per ``evaluate_plotting_helper.py``."""
    if kind == "par04":
        return {
            "EC_eta": (-30.0, 30.0),
            "EC_phi": (-30.0, 30.0),
            "W_eta": (0.0, 30.0),
            "W_phi": (0.0, 30.0),
            "EC_r": (0.0, 42.0),
            "W_r": (0.0, 20.0),
        }[family]
    if family in ("EC_eta", "EC_phi"):
        return (-500.0, 500.0) if layer in (12, 13) else (-100.0, 100.0)
    if family in ("W_eta", "W_phi"):
        return (0.0, 400.0) if layer in (12, 13) else (0.0, 100.0)
    return (0.0, 1500.0) if layer in (12, 13, 14) else (0.0, 500.0)  # EC_r, W_r


def _log_edges(threshold: float, maximum: np.generic, n_edges: int) -> np.ndarray | None:
    """``np.logspace(log10(threshold), log10(maximum), n_edges)``; None when max <= threshold.

    ``maximum`` stays a NumPy scalar of the data's dtype: the official code takes ``log10`` of a
    float32 maximum in float32, which moves the last edge, and this must do the same.
    """
    if not maximum > threshold:
        return None
    return np.logspace(np.log10(threshold), np.log10(maximum), n_edges)


def _discrete_energy_histograms(
    reference: ShowerFeatures, generated: ShowerFeatures, kind: str
) -> Iterator[FeatureHistogram]:
    """E_tot/E_inc per discrete incident energy of dataset 1 (``plot_Etot_Einc_discrete``)."""
    targets = 2 ** np.linspace(8, 23, 16)
    edges = np.linspace(0.4, 1.4, 21)
    ref_e = reference.incident_energy
    gen_e = generated.incident_energy
    for i in range(len(targets) - 1):
        if i > 3 and kind == "photons":
            edges = np.linspace(0.9, 1.1, 21)
        ref_sel = (ref_e >= targets[i]) & (ref_e < targets[i + 1])
        if not ref_sel.any():
            continue  # an energy absent from the reference has no histogram to compare with
        gen_sel = (gen_e >= targets[i]) & (gen_e < targets[i + 1])
        value, h_ref, h_gen = histogram_separation(
            reference.E_tot[ref_sel] / ref_e[ref_sel],
            generated.E_tot[gen_sel] / gen_e[gen_sel],
            edges,
        )
        yield FeatureHistogram(
            f"E_ratio_E{int(targets[i])}", "E_ratio_E", None, edges, h_ref, h_gen, value
        )


def feature_histograms(
    reference: ShowerFeatures, generated: ShowerFeatures, geometry: CaloGeometry
) -> list[FeatureHistogram]:
    """Every compared histogram with its binning and separation power (see module docstring).

    Args:
        reference: features of the reference (e.g. Geant4) showers; log binnings come from it.
        generated: features of the generated showers, same geometry.
        geometry: the dataset geometry (binning ranges and threshold).
    """
    if reference.layers != generated.layers or reference.geometry_name != geometry.name:
        raise ValueError(
            f"features of different geometries: reference {reference.geometry_name!r}, "
            f"generated {generated.geometry_name!r}, geometry {geometry.name!r}"
        )
    kind = _dataset_kind(geometry)
    threshold = geometry.eval_threshold_mev
    out: list[FeatureHistogram] = []

    def add(name: str, family: str, layer: int | None, ref, gen, edges, log_x=False) -> None:
        if edges is None:  # reference never above threshold: no official binning exists
            value = 1.0 if np.any(gen >= threshold) else 0.0
            empty = np.zeros(0)
            out.append(FeatureHistogram(name, family, layer, empty, empty, empty, value, log_x))
            return
        value, h_ref, h_gen = histogram_separation(ref, gen, edges)
        out.append(FeatureHistogram(name, family, layer, edges, h_ref, h_gen, value, log_x))

    add(
        "E_ratio",
        "E_ratio",
        None,
        reference.E_tot / reference.incident_energy,
        generated.E_tot / generated.incident_energy,
        np.linspace(0.5, 1.5, 101),
    )
    if kind != "par04":
        out += _discrete_energy_histograms(reference, generated, kind)
    for layer in reference.layers:
        ref, gen = reference.E_layer[layer], generated.E_layer[layer]
        edges = _log_edges(threshold, ref.max() if ref.size else np.float64(0), 40)
        add(f"E_layer_{layer}", "E_layer", layer, ref, gen, edges, log_x=True)
    for family in ("EC_eta", "EC_phi", "W_eta", "W_phi"):
        ref_family, gen_family = getattr(reference, family), getattr(generated, family)
        for layer in reference.alpha_layers:
            edges = np.linspace(*_linear_range(family, layer, kind), 101)
            add(f"{family}_{layer}", family, layer, ref_family[layer], gen_family[layer], edges)
    for family in ("EC_r", "W_r"):
        ref_family, gen_family = getattr(reference, family), getattr(generated, family)
        for layer in reference.layers:
            edges = np.linspace(*_linear_range(family, layer, kind), 101)
            add(f"{family}_{layer}", family, layer, ref_family[layer], gen_family[layer], edges)
    for layer in reference.layers:
        edges = np.linspace(0.0, 1.0, 21)
        add(
            f"sparsity_{layer}",
            "sparsity",
            layer,
            reference.sparsity[layer],
            generated.sparsity[layer],
            edges,
        )
    if reference.voxels is not None and generated.voxels is not None:
        voxels = reference.voxels
        edges = _log_edges(threshold, voxels.max() if voxels.size else np.float64(0), 50)
        add(
            "voxel_energy",
            "voxel_energy",
            None,
            reference.voxels,
            generated.voxels,
            edges,
            log_x=True,
        )
    return out


def separation_powers(
    reference: ShowerFeatures, generated: ShowerFeatures, geometry: CaloGeometry
) -> dict[str, float]:
    """Separation power per histogram, keyed by the stable names of the module docstring.

    ``E_ratio``; ``E_ratio_E{E}`` (dataset 1, per incident energy present in the reference);
    ``E_layer_{l}``, ``EC_r_{l}``, ``W_r_{l}``, ``sparsity_{l}`` per layer with voxels;
    ``EC_eta_{l}``, ``EC_phi_{l}``, ``W_eta_{l}``, ``W_phi_{l}`` per angle-binned layer;
    ``voxel_energy`` when both feature sets kept their voxels. ``l`` is the layer index.
    """
    return {h.name: h.separation for h in feature_histograms(reference, generated, geometry)}


def summarize(
    powers: dict[str, float], families: tuple[str, ...] | None = None
) -> dict[str, float | str]:
    """Mean and maximum separation power (and the worst histogram's name).

    Args:
        powers: the output of :func:`separation_powers`.
        families: keep only histograms of these families (e.g. :data:`OFFICIAL_HIST_FAMILIES`);
            None keeps all.
    """
    if families is not None:
        powers = {k: v for k, v in powers.items() if histogram_family(k) in families}
    if not powers:
        raise ValueError("no separation powers to summarize")
    worst = max(powers, key=powers.__getitem__)
    values = np.array(list(powers.values()))
    return {
        "mean": float(values.mean()),
        "max": float(values.max()),
        "worst": worst,
        "count": len(values),
    }


def family_means(powers: dict[str, float]) -> dict[str, float]:
    """Mean separation power per histogram family (``E_layer``, ``EC_eta``, ...)."""
    groups: dict[str, list[float]] = {}
    for name, value in powers.items():
        groups.setdefault(histogram_family(name), []).append(value)
    return {family: float(np.mean(values)) for family, values in groups.items()}


def histogram_family(name: str) -> str:
    """The family of a histogram name: ``E_layer_12`` -> ``E_layer``, ``E_ratio_E256`` ->
    ``E_ratio_E``."""
    if name.startswith("E_ratio_E"):
        return "E_ratio_E"
    head, _, tail = name.rpartition("_")
    return head if tail.isdigit() else name
