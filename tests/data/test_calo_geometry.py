"""CaloChallenge geometries: the genuine binning XML files against the embedded GEOMETRIES.

The genuine files (CaloChallenge/homepage@9b41df7, ``code/binning_dataset_*.xml``) are read from
``../shared/data/calochallenge/``; those tests skip when the folder is absent. The voxel
coordinates are recomputed here independently, following the official ``XMLHandler`` convention:
radial bin midpoints, angular centres = midpoints of ``linspace(-pi, pi, n_alpha + 1)``, voxels
ordered alpha-major with the radius fastest, ``eta = r cos(alpha)``, ``phi = r sin(alpha)``.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

from cern_ai_bench.data.calo_geometry import (
    GEOMETRIES,
    CaloGeometry,
    GeometryError,
    get_geometry,
    parse_binning_xml,
)

#: Embedded geometry name -> (binning file stem, Bin name, voxels, non-empty layers), as
#: published (CaloChallenge README: 368 voxels in 5 layers, 533 in 7, 45x16x9, 45x50x18).
PUBLISHED = {
    "ds1_photons": ("binning_dataset_1_photons", "photon", 368, 5),
    "ds1_pions": ("binning_dataset_1_pions", "pion", 533, 7),
    "ds2": ("binning_dataset_2", "electron", 6480, 45),
    "ds3": ("binning_dataset_3", "electron", 40500, 45),
}


def official_coordinates(layers: list[tuple[list[float], int]]) -> tuple[np.ndarray, ...]:
    """(r, alpha, eta, phi) of every voxel, computed the way XMLHandler does, with plain loops."""
    r_all, a_all = [], []
    for edges, n_alpha in layers:
        if len(edges) < 2:
            continue
        mids = [edges[i] + (edges[i + 1] - edges[i]) / 2 for i in range(len(edges) - 1)]
        alpha_edges = [-math.pi + 2 * math.pi * k / n_alpha for k in range(n_alpha + 1)]
        centres = [
            alpha_edges[k] + (alpha_edges[k + 1] - alpha_edges[k]) / 2 for k in range(n_alpha)
        ]
        for alpha in centres:  # alpha-major, radius fastest
            for r in mids:
                r_all.append(r)
                a_all.append(alpha)
    r, a = np.array(r_all), np.array(a_all)
    return r, a, r * np.cos(a), r * np.sin(a)


def raw_layers(path: Path) -> list[tuple[list[float], int]]:
    """Each ``<Layer>``'s ``r_edges`` and ``n_bin_alpha``, read with the standard library only."""
    (bin_,) = ET.parse(path).getroot()
    return [
        ([float(x) for x in layer.attrib["r_edges"].split(",")], int(layer.attrib["n_bin_alpha"]))
        for layer in bin_
    ]


@pytest.mark.parametrize("name", list(PUBLISHED))
def test_embedded_geometry_equals_the_genuine_file(shared_data: Path, name: str) -> None:
    stem, particle, n_voxels, n_layers = PUBLISHED[name]
    path = shared_data / "calochallenge" / f"{stem}.xml"
    parsed = parse_binning_xml(path, particle)
    embedded = get_geometry(name)

    assert parsed.n_voxels == embedded.n_voxels == n_voxels
    assert len(embedded.relevant_layers) == n_layers
    assert parsed.particle == embedded.particle == particle
    assert parsed.pid == embedded.pid
    assert parsed.eval_threshold_mev == pytest.approx(embedded.eval_threshold_mev)
    assert len(parsed.layers) == len(embedded.layers)
    for mine, genuine in zip(embedded.layers, parsed.layers, strict=True):
        assert mine.layer_id == genuine.layer_id
        assert mine.n_alpha == genuine.n_alpha, f"layer {mine.layer_id}"
        np.testing.assert_allclose(mine.r_edges, genuine.r_edges, rtol=0, atol=1e-9)

    # Voxel coordinates and layer boundaries, recomputed from the raw XML attributes.
    layers = raw_layers(path)
    r, alpha, eta, phi = official_coordinates(layers)
    for geometry in (embedded, parsed):
        np.testing.assert_allclose(geometry.voxel_r, r, atol=1e-9)
        np.testing.assert_allclose(geometry.voxel_alpha, alpha, atol=1e-12)
        np.testing.assert_allclose(geometry.voxel_eta, eta, atol=1e-9)
        np.testing.assert_allclose(geometry.voxel_phi, phi, atol=1e-9)
    bin_edges = np.cumsum([0] + [max(len(e) - 1, 0) * n for e, n in layers])
    np.testing.assert_array_equal(embedded.layer_bounds, bin_edges)
    assert embedded.relevant_layers == tuple(i for i, (e, _) in enumerate(layers) if len(e) > 1)
    assert embedded.alpha_binned_layers == tuple(i for i, (_, n) in enumerate(layers) if n > 1)


def test_published_layer_structure() -> None:
    """Alpha-binned layers and voxel counts per layer as the README and XML files give them."""
    assert get_geometry("ds1_photons").alpha_binned_layers == (1, 2)
    assert get_geometry("ds1_pions").alpha_binned_layers == (1, 2, 12, 13)
    assert get_geometry("ds1_pions").relevant_layers == (0, 1, 2, 3, 12, 13, 14)
    photons = get_geometry("ds1_photons")
    counts = [photons.layers[i].n_voxels for i in photons.relevant_layers]
    assert counts == [8, 160, 190, 5, 5]
    ds2 = get_geometry("ds2")
    assert ds2.layer_slice(1) == slice(144, 288)
    # DS2/3 reshape (N, 45, n_alpha, n_r): voxel index = layer * a * r + alpha * r + radius.
    index = 7 * 144 + 3 * 9 + 5
    assert ds2.voxel_r[index] == pytest.approx(4.65 * 5.5)
    assert ds2.voxel_alpha[index] == pytest.approx(-math.pi + 3.5 * 2 * math.pi / 16)
    assert get_geometry("ds3").eval_threshold_mev == pytest.approx(0.5e-3 / 0.033)
    assert get_geometry("ds1_pions").eval_threshold_mev == 1.0


def test_unbinned_layer_has_alpha_zero() -> None:
    photons = get_geometry("ds1_photons")
    layer0 = photons.layer_slice(0)
    np.testing.assert_array_equal(photons.voxel_alpha[layer0], 0.0)
    np.testing.assert_allclose(photons.voxel_eta[layer0], photons.voxel_r[layer0])
    np.testing.assert_array_equal(photons.voxel_phi[layer0], 0.0)


def test_unknown_geometry_lists_the_valid_names() -> None:
    with pytest.raises(GeometryError, match="ds1_photons, ds1_pions, ds2, ds3"):
        get_geometry("ds4")
    assert isinstance(GEOMETRIES["ds2"], CaloGeometry)


GOOD_LAYER = '<Layer id="0" r_edges="0,1,2" n_bin_alpha="4" />'


@pytest.mark.parametrize(
    ("text", "particle", "match"),
    [
        ("<Bins><Bin name='photon'>", None, "not a readable binning XML"),
        ("", None, "not a readable binning XML"),
        (f"<Bins><Bin name='photon'>{GOOD_LAYER}</Bin></Bins>", "pion", "named 'pion'"),
        (
            f"<Bins><Bin name='a'>{GOOD_LAYER}</Bin><Bin name='b'>{GOOD_LAYER}</Bin></Bins>",
            None,
            "expected one <Bin>",
        ),
        ("<Bins><Bin name='e'><Layer id='0' n_bin_alpha='1'/></Bin></Bins>", None, "bad <Layer>"),
        (
            "<Bins><Bin name='e'><Layer id='0' r_edges='0,x' n_bin_alpha='1'/></Bin></Bins>",
            None,
            "bad <Layer>",
        ),
        (
            "<Bins><Bin name='e'><Layer id='0' r_edges='0,2,1' n_bin_alpha='1'/></Bin></Bins>",
            None,
            "bad binning",
        ),
        (
            "<Bins><Bin name='e'><Layer id='0' r_edges='0,1' n_bin_alpha='0'/></Bin></Bins>",
            None,
            "bad binning",
        ),
    ],
)
def test_bad_xml_is_a_geometry_error(
    tmp_path: Path, text: str, particle: str | None, match: str
) -> None:
    path = tmp_path / "binning_bad.xml"
    path.write_text(text)
    with pytest.raises(GeometryError, match=match) as caught:
        parse_binning_xml(path, particle)
    assert str(path) in str(caught.value)


def test_missing_xml_is_a_geometry_error(tmp_path: Path) -> None:
    with pytest.raises(GeometryError, match="not a readable binning XML"):
        parse_binning_xml(tmp_path / "absent.xml")
