"""Longitudinal layouts of the GFlash simulator for the CaloChallenge geometries."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from cern_ai_bench.data.calo_geometry import GeometryError, get_geometry, parse_binning_xml
from cern_ai_bench.generate.gflash_geometry import (
    ATLAS_BARREL_DEPTHS_X0,
    PAR04_THRESHOLD_MEV,
    layout_for,
)
from cern_ai_bench.generate.gflash_params import ATLAS_PB_LAR, PAR04_SIW


@pytest.mark.parametrize("name", ["ds2", "ds3"])
def test_par04_layout(name: str) -> None:
    layout = layout_for(get_geometry(name))
    assert layout.medium == PAR04_SIW
    assert not layout.photon
    depths = np.array(layout.layer_depths_x0)
    assert depths.shape == (45, 2)
    thickness = np.diff(depths, axis=1)[:, 0]
    np.testing.assert_allclose(thickness, 3.4 / PAR04_SIW.x0_mm)  # 0.806 X0 per readout layer
    assert thickness[0] == pytest.approx(0.806, abs=0.001)
    np.testing.assert_allclose(depths[1:, 0], depths[:-1, 1])  # contiguous from depth 0
    assert depths[0, 0] == 0
    assert depths[-1, 1] == pytest.approx(36.26, abs=0.01)
    assert layout.readout_threshold_mev == pytest.approx(0.5e-3 / 0.033)
    assert layout.readout_threshold_mev == PAR04_THRESHOLD_MEV


def test_atlas_photon_layout() -> None:
    geometry = get_geometry("ds1_photons")
    layout = layout_for(geometry)
    assert layout.photon and layout.medium == ATLAS_PB_LAR
    placed = [i for i, d in enumerate(layout.layer_depths_x0) if d is not None]
    assert placed == list(geometry.relevant_layers) == [0, 1, 2, 3, 12]
    ordered = [layout.layer_depths_x0[i] for i in placed]
    for (a0, a1), (b0, b1) in itertools.pairwise(ordered):
        assert a0 < a1 <= b0 < b1  # in depth order, no overlaps
    # EM barrel strips / middle / back ~4.3 / 16 / 2 X0, > 22 X0 of EM calorimeter in all.
    widths = {i: d[1] - d[0] for i, d in ATLAS_BARREL_DEPTHS_X0.items()}
    assert widths[1] == pytest.approx(4.3) and widths[2] == pytest.approx(16)
    assert widths[3] == pytest.approx(2)
    assert 0 < layout.readout_threshold_mev < geometry.eval_threshold_mev


def test_steps_split_layers_and_cover_them() -> None:
    layout = layout_for(get_geometry("ds1_photons"))
    lo, hi, layer = layout.steps(1.0)
    assert np.all(hi - lo <= 1.0 + 1e-12) and np.all(hi > lo)
    for index in (0, 1, 2, 3, 12):
        mine = layer == index
        start, end = layout.layer_depths_x0[index]
        assert lo[mine].min() == pytest.approx(start) and hi[mine].max() == pytest.approx(end)
        assert np.sum(hi[mine] - lo[mine]) == pytest.approx(end - start)
    assert np.sum(layer == 2) == 16  # 16 X0 in steps of at most 1 X0
    lo, hi, layer = layout_for(get_geometry("ds2")).steps(1.0)
    np.testing.assert_array_equal(layer, np.arange(45))  # 0.806 X0 layers need no split
    with pytest.raises(ValueError, match="max_step_x0"):
        layout.steps(0.0)


def test_pions_are_rejected_clearly() -> None:
    with pytest.raises(GeometryError, match="hadronic"):
        layout_for(get_geometry("ds1_pions"))


def test_genuine_binning_files_are_recognised(shared_data) -> None:
    folder = shared_data / "calochallenge"
    for stem, particle in (("2", None), ("3", None), ("1_photons", "photon")):
        geometry = parse_binning_xml(folder / f"binning_dataset_{stem}.xml", particle)
        layout = layout_for(geometry)
        assert len(layout.layer_depths_x0) == len(geometry.layers)
