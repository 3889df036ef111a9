"""Orchestration of the embedded shower sample (chunks, workers, cache, resume), without GFlash.

The simulator is the cheap stand-in of ``shower_standin.py``; ``test_gflash*.py`` test the
physics. The stand-in module is imported from this folder put on ``sys.path``, so spawned
workers can import it too.
"""

from __future__ import annotations

import importlib
import json
import logging
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest
from scipy import stats

import cern_ai_bench.generate.pool as pool_module
import cern_ai_bench.generate.showers as showers_module
from cern_ai_bench.data.calo_geometry import get_geometry
from cern_ai_bench.data.calochallenge import read_showers
from cern_ai_bench.data.files import sha256_of
from cern_ai_bench.generate.parameters import GeneratorParameterError
from cern_ai_bench.generate.showers import (
    ShowerChunk,
    ensure_embedded_showers,
    plan_chunks,
    sample_incident_energies,
    sample_key,
    sample_parameters,
    simulate_chunk,
)

PHOTONS = get_geometry("ds1_photons")
#: 7 training and 5 reference showers in chunks of 3: chunks train 3+3+1, reference 3+2.
SMALL = {"geometry": "ds1_photons", "n_showers": 7, "n_reference": 5, "seed": 3}


@pytest.fixture
def standin(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    monkeypatch.syspath_prepend(str(Path(__file__).parent))
    monkeypatch.setattr(showers_module, "SHOWERS_PER_CHUNK", 3)
    return importlib.import_module("shower_standin")


def count_chunks(
    monkeypatch: pytest.MonkeyPatch, *, interrupt_after: int | None = None
) -> list[ShowerChunk]:
    """Wrap ``simulate_chunk`` (one worker) to record chunks; raise Ctrl-C after ``k`` chunks."""
    calls: list[ShowerChunk] = []

    def wrapped(chunk: ShowerChunk) -> tuple:
        if len(calls) == interrupt_after:
            raise KeyboardInterrupt
        calls.append(chunk)
        return simulate_chunk(chunk)

    monkeypatch.setattr(showers_module, "simulate_chunk", wrapped)
    return calls


def run(
    data_dir: Path, simulator: Callable, *, workers: int = 1, **overrides: object
) -> tuple[Path, Path]:
    return ensure_embedded_showers(
        data_dir, simulator=simulator, workers=workers, progress=False, **{**SMALL, **overrides}
    )


def digests(paths: tuple[Path, Path]) -> list[str]:
    return [sha256_of(path) for path in paths]


def test_files_manifest_and_layout(tmp_path: Path, standin: ModuleType) -> None:
    train, reference = run(tmp_path, standin.standin_simulator)
    parameters = sample_parameters(**SMALL, simulator=standin.standin_simulator)
    folder = tmp_path / "embedded_showers" / sample_key(parameters)
    assert (train, reference) == (folder / "showers_train.hdf5", folder / "showers_reference.hdf5")
    assert sorted(p.name for p in folder.iterdir()) == [
        "manifest.json",
        "showers_reference.hdf5",
        "showers_train.hdf5",
    ]
    assert [p.name for p in folder.parent.iterdir()] == [folder.name]  # work folder removed

    train_arrays, reference_arrays = read_showers(train, PHOTONS), read_showers(reference, PHOTONS)
    assert (len(train_arrays), len(reference_arrays)) == (7, 5)
    for arrays in (train_arrays, reference_arrays):
        assert np.all((arrays.incident_energy >= 1e3) & (arrays.incident_energy <= 1e6))
        # The stand-in conserves energy: the file holds exactly the simulated energies.
        np.testing.assert_allclose(arrays.showers.sum(axis=1), arrays.incident_energy, rtol=1e-4)
    assert not np.isin(reference_arrays.incident_energy, train_arrays.incident_energy).any()

    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["parameters"] == parameters
    assert parameters["simulator"] == "shower_standin.standin_simulator"
    assert parameters["simulator_version"] == 7
    assert parameters["n_voxels"] == 368
    assert [(f["path"], f["n_showers"]) for f in manifest["files"]] == [
        ("showers_train.hdf5", 7),
        ("showers_reference.hdf5", 5),
    ]
    for entry in manifest["files"]:
        assert entry["sha256"] == sha256_of(folder / entry["path"])
    statistics = manifest["statistics"]
    assert statistics["chunks"] == 5 and statistics["chunks_reused"] == 0
    assert statistics["showers_simulated"] == 12
    assert statistics["simulator_ms_per_shower"] > 0


def test_chunk_plan_and_seeds(standin: ModuleType) -> None:
    parameters = sample_parameters(**SMALL, simulator=standin.standin_simulator)
    chunks = plan_chunks(parameters, standin.standin_simulator)
    assert [(c.split, c.index, c.n_showers) for c in chunks] == [
        ("train", 0, 3),
        ("train", 1, 3),
        ("train", 2, 1),
        ("reference", 0, 3),
        ("reference", 1, 2),
    ]
    first, again = simulate_chunk(chunks[0])[0], simulate_chunk(chunks[0])[0]
    np.testing.assert_array_equal(first.showers, again.showers)
    other = simulate_chunk(chunks[3])[0]
    assert not np.isin(other.incident_energy, first.incident_energy).any()


def test_same_files_with_one_and_two_workers(tmp_path: Path, standin: ModuleType) -> None:
    one = run(tmp_path / "one", standin.standin_simulator, workers=1)
    two = run(tmp_path / "two", standin.standin_simulator, workers=2)  # spawned processes
    assert digests(one) == digests(two)
    manifest = json.loads((two[0].parent / "manifest.json").read_text())
    assert manifest["statistics"]["workers"] == 2


def test_second_call_is_a_cache_hit(
    tmp_path: Path, standin: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = count_chunks(monkeypatch)
    first = run(tmp_path, standin.standin_simulator)
    assert len(calls) == 5
    assert run(tmp_path, standin.standin_simulator) == first and len(calls) == 5
    other = run(tmp_path, standin.standin_simulator, seed=4)
    assert other[0].parent != first[0].parent and len(calls) == 10
    assert digests(other) != digests(first)


def test_changed_file_is_regenerated(tmp_path: Path, standin: ModuleType) -> None:
    train, reference = run(tmp_path, standin.standin_simulator)
    expected = digests((train, reference))
    reference.write_bytes(b"truncated")
    assert digests(run(tmp_path, standin.standin_simulator)) == expected


def test_interrupted_run_resumes(
    tmp_path: Path,
    standin: ModuleType,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    expected = digests(run(tmp_path / "reference_run", standin.standin_simulator))

    count_chunks(monkeypatch, interrupt_after=3)
    with pytest.raises(KeyboardInterrupt):
        run(tmp_path / "data", standin.standin_simulator)
    root = tmp_path / "data" / "embedded_showers"
    (work,) = root.iterdir()
    assert work.name.endswith(".partial")
    assert sorted(p.name for p in work.iterdir()) == [
        "train_00000.hdf5",
        "train_00001.hdf5",
        "train_00002.hdf5",
    ]

    calls = count_chunks(monkeypatch)
    with caplog.at_level(logging.INFO, logger=pool_module.__name__):
        paths = run(tmp_path / "data", standin.standin_simulator)
    assert [(c.split, c.index) for c in calls] == [("reference", 0), ("reference", 1)]
    assert "reused 3 of 5 chunks (7 of 12 showers)" in caplog.text
    assert digests(paths) == expected  # byte-identical to the uninterrupted run
    assert not work.exists()
    manifest = json.loads((paths[0].parent / "manifest.json").read_text())
    assert manifest["statistics"]["chunks_reused"] == 3
    assert manifest["statistics"]["showers_simulated"] == 5


def test_damaged_chunk_is_simulated_again(
    tmp_path: Path,
    standin: ModuleType,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    expected = digests(run(tmp_path / "reference_run", standin.standin_simulator))
    count_chunks(monkeypatch, interrupt_after=2)
    with pytest.raises(KeyboardInterrupt):
        run(tmp_path / "data", standin.standin_simulator)
    (work,) = (tmp_path / "data" / "embedded_showers").iterdir()
    (work / "train_00001.hdf5").write_bytes(b"half a file")

    calls = count_chunks(monkeypatch)
    with caplog.at_level(logging.WARNING):
        paths = run(tmp_path / "data", standin.standin_simulator)
    assert "train_00001.hdf5 is damaged" in caplog.text
    assert [(c.split, c.index) for c in calls] == [
        ("train", 1),
        ("train", 2),
        ("reference", 0),
        ("reference", 1),
    ]
    assert digests(paths) == expected


@pytest.mark.parametrize(
    ("overrides", "match"),
    [
        (
            {"geometry": "ds1_pions"},
            "geometry must be one of ds1_photons, ds2, ds3, got 'ds1_pions'",
        ),
        ({"n_showers": 1}, "n_showers must be >= 2, got 1"),
        ({"n_reference": 0}, "n_reference must be >= 1, got 0"),
        ({"seed": -1}, "seed must be >= 0, got -1"),
        ({"n_showers": 10.0}, "n_showers must be an integer, got 10.0"),
        ({"workers": -1}, "workers must be >= 0, got -1"),
    ],
)
def test_invalid_parameters(
    tmp_path: Path, standin: ModuleType, overrides: dict[str, object], match: str
) -> None:
    with pytest.raises(GeneratorParameterError, match=match):
        run(tmp_path, standin.standin_simulator, **overrides)
    assert not (tmp_path / "embedded_showers").exists()


def test_invalid_simulator_output_names_the_simulator(tmp_path: Path, standin: ModuleType) -> None:
    with pytest.raises(ValueError, match=r"shower_standin.nan_simulator returned invalid showers"):
        run(tmp_path, standin.nan_simulator)


def test_missing_default_simulator_is_an_import_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "cern_ai_bench.generate.gflash", None)
    with pytest.raises(ImportError):
        ensure_embedded_showers(tmp_path, **SMALL, workers=1, progress=False)


def test_incident_energies_are_log_uniform_1_gev_to_1_tev() -> None:
    energy = sample_incident_energies(20_000, np.random.default_rng(0))
    assert energy.dtype == np.float32
    assert energy.min() >= 1e3 and energy.max() <= 1e6
    log_energy = np.log10(energy.astype(np.float64))
    assert stats.kstest(log_energy, stats.uniform(loc=3, scale=3).cdf).pvalue > 1e-3
