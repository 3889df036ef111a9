"""The real generator (Pythia 8 + FastJet) on a small sample: physics, format, reproducibility.

One module-scoped sample of 100 jets per class (two worker processes, ~20-30 s on two cores)
serves every test; the seed is fixed, so the numbers checked here are the same on every run
with the pinned pythia8mc and fastjet versions.
"""

from __future__ import annotations

import json
from pathlib import Path

import h5py
import numpy as np
import pytest

from cern_ai_bench.config import DatasetConfig
from cern_ai_bench.data.embedded import read_embedded_folder
from cern_ai_bench.data.files import sha256_of
from cern_ai_bench.data.hls4ml_columns import HLF_COLUMN_INDICES, JET_FEATURE_NAMES
from cern_ai_bench.generate.jets import ensure_embedded_jets
from cern_ai_bench.generate.jets_physics import PHYSICS

pytestmark = pytest.mark.slow

JETS_PER_CLASS = 100
COLUMN = {name.removeprefix("j_"): index for index, name in enumerate(JET_FEATURE_NAMES)}
CLASSES = ("g", "q", "W", "Z", "t")


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return ensure_embedded_jets(
        tmp_path_factory.mktemp("data"),
        jets_per_class=JETS_PER_CLASS,
        seed=11,
        workers=2,
        progress=False,
    )


@pytest.fixture(scope="module")
def jets(sample: Path) -> dict[str, np.ndarray]:
    """``jets`` rows of both splits, grouped by class."""
    tables = []
    for path in sorted(sample.glob("*/*.h5")):
        with h5py.File(path, "r") as handle:
            tables.append(handle["jets"][()])
    table = np.concatenate(tables)
    labels = np.argmax(table[:, 53:58], axis=1)
    return {name: table[labels == i, :53] for i, name in enumerate(CLASSES)}


def peak(values: np.ndarray, width: float = 20.0) -> float:
    """Mode estimate: centre of the ``width``-wide mass window (GeV) holding the most jets."""
    centres = np.arange(40.0, 250.0, 0.5)
    counts = (np.abs(values[None, :] - centres[:, None]) < width / 2).sum(axis=1)
    return float(centres[np.argmax(counts)])


@pytest.mark.parametrize(("label", "nominal"), [("W", 80.4), ("Z", 91.2), ("t", 172.5)])
def test_groomed_mass_peaks(jets: dict[str, np.ndarray], label: str, nominal: float) -> None:
    """mMDT masses peak at the W, Z and top masses (seed 11: 79.4/77.0, 88.9/88.5, 172/174.5)."""
    mass = jets[label][:, COLUMN["mass_mmdt"]]
    assert abs(np.median(mass) - nominal) < 10
    assert abs(peak(mass) - nominal) < 10
    medians = [np.median(jets[c][:, COLUMN["mass_mmdt"]]) for c in ("W", "Z", "t")]
    assert medians == sorted(medians)


def test_light_jets_are_light(jets: dict[str, np.ndarray]) -> None:
    assert np.median(jets["q"][:, COLUMN["mass_mmdt"]]) < 40
    # Gluons radiate more than quarks: more constituents and heavier groomed jets.
    assert np.median(jets["g"][:, COLUMN["multiplicity"]]) > np.median(
        jets["q"][:, COLUMN["multiplicity"]]
    )
    assert np.median(jets["g"][:, COLUMN["mass_mmdt"]]) > np.median(
        jets["q"][:, COLUMN["mass_mmdt"]]
    )
    # Three-prong tops have lower tau3/tau2 than two-prong W and Z jets.
    assert np.median(jets["t"][:, COLUMN["tau32_b1"]]) < np.median(jets["W"][:, COLUMN["tau32_b1"]])


def test_selection_and_features(jets: dict[str, np.ndarray]) -> None:
    for label, table in jets.items():
        assert len(table) == JETS_PER_CLASS, label
        pt, eta = table[:, COLUMN["pt"]], table[:, COLUMN["eta"]]
        assert np.all((pt >= PHYSICS.jet_pt_min) & (pt <= PHYSICS.jet_pt_max)), label
        assert np.all(np.abs(eta) < PHYSICS.jet_abs_eta_max), label
        assert np.isfinite(table[:, list(HLF_COLUMN_INDICES)]).all(), label
        assert np.all(table[:, COLUMN["mass_mmdt"]] <= table[:, COLUMN["mass"]] + 1e-3)


def test_constituents_are_consistent_with_the_jet(sample: Path) -> None:
    path = next((sample / "train").glob("*.h5"))
    with h5py.File(path, "r") as handle:
        table, particles = handle["jets"][()], handle["jetConstituentList"][()]
    present = particles[..., 3] > 0
    multiplicity = table[:, COLUMN["multiplicity"]]
    np.testing.assert_array_equal(present.sum(axis=1), np.minimum(multiplicity, 150))
    assert not particles[~present].any()
    pt = particles[..., 5]
    assert np.all(np.diff(pt, axis=1) <= 0)  # pT-ordered, padding last
    whole = multiplicity <= 150
    summed = particles[whole][..., :2].sum(axis=1)
    np.testing.assert_allclose(
        np.hypot(summed[:, 0], summed[:, 1]), table[whole, COLUMN["pt"]], rtol=1e-4
    )
    np.testing.assert_allclose(particles[whole][..., 4].sum(axis=1), 1.0, rtol=1e-4)  # erel
    # deltaR (pseudorapidity) of an R = 0.8 (rapidity) jet: soft massive hadrons may lie far out.
    hard = particles[present & (pt > 1.0)]
    assert np.all(hard[:, 13] < 1.0)


def test_project_loader_reads_the_sample(sample: Path) -> None:
    data = read_embedded_folder(
        sample, DatasetConfig(name="embedded_jets", n_constituents=30), progress=False
    )
    assert len(data.train) + len(data.val) == 5 * 80 and len(data.test) == 5 * 20
    np.testing.assert_array_equal(np.bincount(data.test.labels), [20] * 5)
    assert data.train.constituents is not None and data.train.constituents.shape[1:] == (30, 4)
    assert len(data.files) == len(list(sample.glob("*/*.h5")))
    for info in data.files:  # the provenance taken from the manifest is the files' own
        assert info.sha256 == sha256_of(info.path)


def test_manifest_statistics(sample: Path) -> None:
    manifest = json.loads((sample / "manifest.json").read_text())
    stats = manifest["statistics"]["classes"]
    for label in CLASSES:
        assert stats[label]["jets"] == JETS_PER_CLASS
        assert stats[label]["events"] >= JETS_PER_CLASS / 2
    assert manifest["statistics"]["workers"] == 2


def test_output_does_not_depend_on_worker_count(tmp_path: Path) -> None:
    def digests(workers: int) -> list[str]:
        folder = ensure_embedded_jets(
            tmp_path / str(workers), jets_per_class=5, workers=workers, progress=False
        )
        manifest = json.loads((folder / "manifest.json").read_text())
        return [entry["sha256"] for entry in manifest["files"]]

    assert digests(1) == digests(2)
