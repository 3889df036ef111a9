"""Feature histogram PNGs: one per family, written atomically, separation power in the legend."""

from __future__ import annotations

import numpy as np

from cern_ai_bench.data.calo_geometry import get_geometry
from cern_ai_bench.metrics.showers import plots
from cern_ai_bench.metrics.showers.hlf import apply_threshold, high_level_features
from tests.metrics.shower_samples import synthetic_showers

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _features(name: str, seed: int, **kwargs):
    geometry = get_geometry(name)
    energy, showers = synthetic_showers(geometry, 400, np.random.default_rng(seed), **kwargs)
    return high_level_features(apply_threshold(showers, geometry), energy, geometry)


def test_one_png_per_feature_family(tmp_path):
    geometry = get_geometry("ds1_photons")
    ref = _features("ds1_photons", 0, energy_range=(256, 4.2e6), discrete=True)
    gen = _features("ds1_photons", 1, energy_range=(256, 4.2e6), discrete=True, response=0.9)
    paths = plots.plot_feature_histograms(ref, gen, geometry, tmp_path / "plots")
    names = [p.name for p in paths]
    assert names == [f"hist_{family}.png" for family in plots.FAMILY_TITLES]
    for path in paths:
        assert path.read_bytes()[:8] == PNG_SIGNATURE
    assert sorted(p.name for p in (tmp_path / "plots").iterdir()) == sorted(names)  # no .part


def test_many_layers_are_thinned_to_max_panels(tmp_path, monkeypatch):
    geometry = get_geometry("ds2")
    ref, gen = _features("ds2", 0), _features("ds2", 1, spread=1.3)
    drawn: dict[str, list[str]] = {}
    original = plots._draw

    def spy(ax, hist):
        drawn.setdefault(hist.family, []).append(hist.name)
        original(ax, hist)

    monkeypatch.setattr(plots, "_draw", spy)
    paths = plots.plot_feature_histograms(ref, gen, geometry, tmp_path, max_panels=6, dpi=40)
    assert len(paths) == 10  # no per-energy family for dataset 2
    assert drawn["E_layer"] == [f"E_layer_{i}" for i in (0, 9, 18, 26, 35, 44)]
    assert drawn["E_ratio"] == ["E_ratio"] and drawn["voxel_energy"] == ["voxel_energy"]


def test_the_legend_shows_the_separation_power(tmp_path, monkeypatch):
    geometry = get_geometry("ds1_photons")
    ref, gen = _features("ds1_photons", 0), _features("ds1_photons", 1, response=0.8)
    labels: list[str] = []
    original = plots._draw

    def spy(ax, hist):
        original(ax, hist)
        labels.extend(t.get_text() for t in ax.get_legend().get_texts())

    monkeypatch.setattr(plots, "_draw", spy)
    plots.plot_feature_histograms(ref, gen, geometry, tmp_path, dpi=40)
    assert any(label.startswith("generated\nS = 0.") for label in labels)
