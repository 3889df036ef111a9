"""CaloChallenge 2022 voxel geometries: binning XML parser and the four embedded geometries.

A geometry is a list of calorimeter layers, each with radial bin edges (mm, from the shower
axis) and a number of equal angular bins over [-pi, pi). A layer with no radial bins has no
voxels. Voxels are flattened layer by layer, and within a layer angle-major with the radius
fastest: voxel ``(layer, alpha, r)``, as the official ``XMLHandler`` orders them
(CaloChallenge/homepage, ``code/XMLHandler.py``).

The embedded geometries repeat the numbers of the official binning files
(``code/binning_dataset_{1_photons,1_pions,2,3}.xml`` of CaloChallenge/homepage at 9b41df7), so
the package works without those files; a test parses the genuine files and compares.
"""

from __future__ import annotations

import itertools
import math
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np


class GeometryError(ValueError):
    """A binning file or geometry request that cannot be used."""


@dataclass(frozen=True)
class LayerBinning:
    """One layer: radial bin edges in mm (empty: no voxels) and the number of angular bins."""

    layer_id: int
    r_edges: tuple[float, ...]
    n_alpha: int

    @property
    def n_r(self) -> int:
        return max(len(self.r_edges) - 1, 0)

    @property
    def n_voxels(self) -> int:
        return self.n_r * self.n_alpha


@dataclass(frozen=True)
class CaloGeometry:
    """A CaloChallenge voxel geometry.

    Attributes:
        name: ``ds1_photons``, ``ds1_pions``, ``ds2`` or ``ds3`` (or a parsed file's stem).
        particle: the ``Bin`` name of the binning file (``photon``, ``pion``, ``electron``).
        pid: its PDG id.
        layers: every layer in file order, including layers without voxels.
        eval_threshold_mev: voxels below this energy are zeroed before evaluation
            (``evaluate.py``: 1 MeV for dataset 1, 0.5 keV / 0.033 for datasets 2 and 3).
    """

    name: str
    particle: str
    pid: int
    layers: tuple[LayerBinning, ...]
    eval_threshold_mev: float

    @property
    def n_voxels(self) -> int:
        return sum(layer.n_voxels for layer in self.layers)

    @property
    def relevant_layers(self) -> tuple[int, ...]:
        """Indices of the layers that have voxels."""
        return tuple(i for i, layer in enumerate(self.layers) if layer.n_voxels > 0)

    @property
    def alpha_binned_layers(self) -> tuple[int, ...]:
        """Indices of the layers with more than one angular bin (they get eta/phi features)."""
        return tuple(i for i, layer in enumerate(self.layers) if layer.n_alpha > 1)

    @cached_property
    def layer_bounds(self) -> np.ndarray:
        """Voxel index boundaries (n_layers + 1,): layer ``i`` is ``[b[i], b[i + 1])``."""
        return np.concatenate([[0], np.cumsum([layer.n_voxels for layer in self.layers])])

    def layer_slice(self, index: int) -> slice:
        return slice(int(self.layer_bounds[index]), int(self.layer_bounds[index + 1]))

    @cached_property
    def voxel_r(self) -> np.ndarray:
        """Radial bin centre (mm) of every voxel, (n_voxels,)."""
        return np.concatenate([_layer_grid(layer)[0].ravel() for layer in self.layers])

    @cached_property
    def voxel_alpha(self) -> np.ndarray:
        """Angular bin centre (rad) of every voxel, (n_voxels,); 0 for unbinned layers."""
        return np.concatenate([_layer_grid(layer)[1].ravel() for layer in self.layers])

    @cached_property
    def voxel_eta(self) -> np.ndarray:
        """``r cos(alpha)`` (mm), what the official code calls eta."""
        return self.voxel_r * np.cos(self.voxel_alpha)

    @cached_property
    def voxel_phi(self) -> np.ndarray:
        """``r sin(alpha)`` (mm), what the official code calls phi."""
        return self.voxel_r * np.sin(self.voxel_alpha)

    def describe(self) -> str:
        shapes = ", ".join(
            f"L{layer.layer_id}: {layer.n_alpha}a x {layer.n_r}r"
            for layer in self.layers
            if layer.n_voxels
        )
        return f"{self.name} ({self.particle}, {self.n_voxels} voxels; {shapes})"


def _layer_grid(layer: LayerBinning) -> tuple[np.ndarray, np.ndarray]:
    """(r, alpha) centres of a layer's voxels, shape (n_alpha, n_r) each."""
    if layer.n_voxels == 0:
        return np.zeros((0, 0)), np.zeros((0, 0))
    edges = np.asarray(layer.r_edges, dtype=np.float64)
    r_mid = edges[:-1] + (edges[1:] - edges[:-1]) / 2
    a_edges = np.linspace(-math.pi, math.pi, layer.n_alpha + 1)
    a_mid = a_edges[:-1] + (a_edges[1:] - a_edges[:-1]) / 2
    r, alpha = np.meshgrid(r_mid, a_mid)  # (n_alpha, n_r): radius fastest
    return r, alpha


#: Official evaluation thresholds (``evaluate.py``): DS1 1 MeV; DS2/3 0.5 keV Si / 0.033.
_THRESHOLD_DS1_MEV = 1.0
_THRESHOLD_PAR04_MEV = 0.5e-3 / 0.033


def parse_binning_xml(path: str | Path, particle: str | None = None) -> CaloGeometry:
    """Read a CaloChallenge binning XML file (``Bins > Bin > Layer``).

    Args:
        path: the file.
        particle: the ``Bin`` to read by name (``photon``, ``pion``, ``electron``); None takes
            the only ``Bin`` of the file.

    Raises:
        GeometryError: unreadable XML, missing attributes, or no matching ``Bin``.
    """
    path = Path(path)
    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError) as exc:
        raise GeometryError(f"{path}: not a readable binning XML file ({exc})") from exc
    bins = [b for b in root if b.tag == "Bin"]
    if particle is not None:
        bins = [b for b in bins if b.attrib.get("name") == particle]
    if len(bins) != 1:
        names = [b.attrib.get("name") for b in root if b.tag == "Bin"]
        raise GeometryError(
            f"{path}: expected one <Bin> named {particle!r}, found bins named {names}"
        )
    (bin_,) = bins
    layers = []
    for element in bin_:
        try:
            edges = tuple(float(s) for s in element.attrib["r_edges"].split(","))
            layer = LayerBinning(
                int(element.attrib["id"]),
                () if len(edges) < 2 else edges,
                int(element.attrib["n_bin_alpha"]),
            )
        except (KeyError, ValueError) as exc:
            raise GeometryError(f"{path}: bad <Layer> {element.attrib} ({exc})") from exc
        if layer.n_alpha < 1 or any(b <= a for a, b in itertools.pairwise(edges)):
            raise GeometryError(f"{path}: layer {layer.layer_id} has bad binning {element.attrib}")
        layers.append(layer)
    name = bin_.attrib.get("name", "")
    threshold = _THRESHOLD_PAR04_MEV if name == "electron" else _THRESHOLD_DS1_MEV
    return CaloGeometry(
        name=_geometry_name(path),
        particle=name,
        pid=int(bin_.attrib.get("pid", 0)),
        layers=tuple(layers),
        eval_threshold_mev=threshold,
    )


def _geometry_name(path: Path) -> str:
    """``binning_dataset_1_photons.xml`` -> ``ds1_photons``; other files keep their stem."""
    prefix = "binning_dataset_"
    return "ds" + path.stem[len(prefix) :] if path.stem.startswith(prefix) else path.stem


def _ds1(particle: str, pid: int, spec: dict[int, tuple[tuple[float, ...], int]]) -> CaloGeometry:
    """A dataset-1 geometry: 24 ATLAS layers, those not in ``spec`` without voxels."""
    layers = tuple(
        LayerBinning(i, *spec[i]) if i in spec else LayerBinning(i, (), 1) for i in range(24)
    )
    name = "ds1_photons" if particle == "photon" else "ds1_pions"
    return CaloGeometry(name, particle, pid, layers, _THRESHOLD_DS1_MEV)


def _par04(name: str, n_r: int, dr: float, n_alpha: int) -> CaloGeometry:
    """A Par04 (SiW) geometry: 45 identical readout layers, uniform radial bins."""
    edges = tuple(round(i * dr, 4) for i in range(n_r + 1))
    layers = tuple(LayerBinning(i, edges, n_alpha) for i in range(45))
    return CaloGeometry(name, "electron", 11, layers, _THRESHOLD_PAR04_MEV)


GEOMETRIES: dict[str, CaloGeometry] = {
    g.name: g
    for g in (
        _ds1(
            "photon",
            22,
            {
                0: ((0, 5, 10, 30, 50, 100, 200, 400, 600), 1),
                1: ((0, 2, 4, 6, 8, 10, 12, 15, 20, 30, 40, 50, 70, 90, 120, 150, 200), 10),
                2: (
                    (
                        0,
                        2,
                        5,
                        10,
                        15,
                        20,
                        25,
                        30,
                        40,
                        50,
                        60,
                        80,
                        100,
                        130,
                        160,
                        200,
                        250,
                        300,
                        350,
                        400,
                    ),
                    10,
                ),
                3: ((0, 50, 100, 200, 400, 600), 1),
                12: ((0, 100, 200, 400, 1000, 2000), 1),
            },
        ),
        _ds1(
            "pion",
            211,
            {
                0: ((0, 5, 10, 30, 50, 100, 200, 400, 600), 1),
                1: ((0, 1, 4, 7, 10, 15, 30, 50, 90, 150, 200), 10),
                2: ((0, 5, 10, 20, 30, 50, 80, 130, 200, 300, 400), 10),
                3: ((0, 50, 100, 200, 400, 600), 1),
                12: (
                    (0, 10, 20, 30, 50, 80, 100, 130, 160, 200, 250, 300, 350, 400, 1000, 2000),
                    10,
                ),
                13: (
                    (
                        0,
                        10,
                        20,
                        30,
                        50,
                        80,
                        100,
                        130,
                        160,
                        200,
                        250,
                        300,
                        350,
                        400,
                        600,
                        1000,
                        2000,
                    ),
                    10,
                ),
                14: ((0, 50, 100, 150, 200, 250, 300, 400, 600, 1000, 2000), 1),
            },
        ),
        _par04("ds2", n_r=9, dr=4.65, n_alpha=16),
        _par04("ds3", n_r=18, dr=2.325, n_alpha=50),
    )
}


def get_geometry(name: str) -> CaloGeometry:
    """An embedded geometry by name; GeometryError listing the valid names if unknown."""
    try:
        return GEOMETRIES[name]
    except KeyError:
        raise GeometryError(
            f"unknown calorimeter geometry {name!r}; valid: {', '.join(GEOMETRIES)}"
        ) from None
