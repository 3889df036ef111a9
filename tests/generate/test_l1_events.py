"""The embedded L1 generator end to end on a tiny sample: ADC2021 files that read back, exact
cocktail composition, workers-independent bytes, cache, resume, and physics in the expected
direction (Pythia runs: a few hundred events in all)."""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

import cern_ai_bench.generate.l1_events as l1_events
from cern_ai_bench.data.adc2021 import resolve_adc2021
from cern_ai_bench.data.adc2021_io import read_adc2021
from cern_ai_bench.data.embedded_l1 import (
    embedded_l1_file_infos,
    embedded_l1_statistics,
    prepare_embedded_l1,
)
from cern_ai_bench.data.errors import CorruptFileError, DatasetConfigError
from cern_ai_bench.data.files import sha256_of
from cern_ai_bench.generate.l1_events import (
    FILE_NAMES,
    allocate,
    chunk_seeds,
    ensure_embedded_l1,
    generate_l1_chunk,
    plan_chunks,
    sample_key,
    sample_parameters,
)
from cern_ai_bench.generate.l1_output import L1Chunk, L1ChunkResult
from cern_ai_bench.generate.l1_processes import BACKGROUND_FRACTIONS, SIGNALS
from cern_ai_bench.generate.parameters import GeneratorParameterError

#: 16 training + 8 test background events, 4 per signal, in chunks of 6 accepted events.
SMALL = {"n_background_train": 16, "n_background_test": 8, "n_signal": 4, "seed": 5}
CHUNK = 6


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(l1_events, "EVENTS_PER_CHUNK", CHUNK)
        return ensure_embedded_l1(tmp_path_factory.mktemp("l1"), workers=1, progress=False, **SMALL)


def digests(paths: dict[str, Path]) -> dict[str, str]:
    return {role: sha256_of(path) for role, path in paths.items()}


def test_allocate_is_exact_largest_remainder() -> None:
    assert allocate(1000, BACKGROUND_FRACTIONS) == {
        "w_lnu": 592,
        "qcd": 338,
        "z_ll": 67,
        "ttbar": 3,
    }
    # 10 events: floors 5, 3, 0, 0; the two largest remainders (W .92, Z .67) get one more.
    assert allocate(10, BACKGROUND_FRACTIONS) == {"w_lnu": 6, "qcd": 3, "z_ll": 1, "ttbar": 0}
    assert sum(allocate(123_457, BACKGROUND_FRACTIONS).values()) == 123_457


def test_plan_chunks_and_seeds(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(l1_events, "EVENTS_PER_CHUNK", CHUNK)
    chunks = plan_chunks(sample_parameters(**SMALL))
    sizes = {}
    for chunk in chunks:
        sizes.setdefault(chunk.process, []).append(chunk.n_events)
    # Training file, 16 x fractions = 9.47, 5.41, 1.07, 0.05: floors 9, 5, 1, 0 and the one left
    # to W (largest remainder). Test file, 8 x fractions = 4.74, 2.70, 0.54, 0.02: floors 4, 2, 0,
    # 0 and two left to W and QCD. Per process: W 10 + 5 = 6 + 6 + 3, QCD 5 + 3, Z 1, no ttbar.
    assert sizes == {
        "w_lnu": [6, 6, 3],
        "qcd": [6, 2],
        "z_ll": [1],
        **{signal: [4] for signal in SIGNALS},
    }
    seeds = [(chunk.pythia_seed, chunk.detector_seed) for chunk in chunks]
    assert len(set(seeds)) == len(seeds)
    assert chunk_seeds(5, "qcd", 1) == chunk_seeds(5, "qcd", 1) != chunk_seeds(6, "qcd", 1)


def test_files_read_back_with_the_planned_composition(sample: dict[str, Path]) -> None:
    folder = sample["background_train"].parent
    assert {role: path.name for role, path in sample.items()} == FILE_NAMES
    events = {role: read_adc2021(path) for role, path in sample.items()}  # validates every event
    assert len(events["background_train"]) == 16 and len(events["background_test"]) == 8
    assert all(len(events[signal]) == 4 for signal in SIGNALS)
    for particles in events.values():  # every event passed the lepton filter
        assert (particles[:, 1:9, 0].max(axis=1) > 23.0).all()
    manifest = json.loads((folder / "manifest.json").read_text())
    composition = {entry["role"]: entry["events_per_process"] for entry in manifest["files"]}
    assert composition["background_train"] == allocate(16, BACKGROUND_FRACTIONS)
    assert composition["background_test"] == allocate(8, BACKGROUND_FRACTIONS)
    statistics = manifest["statistics"]["processes"]
    assert 0.0 < statistics["qcd"]["filter_efficiency"] < 0.5
    assert statistics["w_lnu"]["stored"] == 15
    # The public names: the loader of the public files finds the embedded ones.
    assert resolve_adc2021("ato4l", folder).path == sample["ato4l"]


def test_interrupted_run_resumes_with_two_workers_to_the_same_files_then_hits_the_cache(
    sample: dict[str, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setattr(l1_events, "EVENTS_PER_CHUNK", CHUNK)
    done: list[L1Chunk] = []

    def interrupted(chunk: L1Chunk) -> L1ChunkResult:
        if len(done) == 3:
            raise KeyboardInterrupt
        done.append(chunk)
        return generate_l1_chunk(chunk)

    with monkeypatch.context() as patch:
        patch.setattr(l1_events, "generate_l1_chunk", interrupted)
        with pytest.raises(KeyboardInterrupt):
            ensure_embedded_l1(tmp_path, workers=1, progress=False, **SMALL)
    key = sample_key(sample_parameters(**SMALL))
    work = tmp_path / "embedded_l1" / f"{key}.partial"
    saved = sorted(work.glob("chunk_*.npz"))
    assert len(saved) == 3 and not (tmp_path / "embedded_l1" / key).exists()
    saved[1].write_bytes(saved[1].read_bytes()[:100])  # a damaged chunk is generated again

    # The rest in two spawned workers: the files are those of the uninterrupted one-worker run.
    with caplog.at_level(logging.INFO):
        paths = ensure_embedded_l1(tmp_path, workers=2, progress=False, **SMALL)
    assert "resuming, reused 2 of" in caplog.text and "is damaged" in caplog.text
    assert digests(paths) == digests(sample)
    assert not work.exists()
    manifest = json.loads((paths["ato4l"].parent / "manifest.json").read_text())
    assert manifest["statistics"]["chunks_reused"] == 2

    def no_generation(chunk: L1Chunk) -> L1ChunkResult:
        raise AssertionError(f"generated chunk {chunk} although the sample is cached")

    monkeypatch.setattr(l1_events, "generate_l1_chunk", no_generation)
    assert ensure_embedded_l1(tmp_path, workers=1, progress=False, **SMALL) == paths


def test_signals_differ_from_the_w_background_in_the_expected_direction() -> None:
    def chunk(process: str, n: int) -> np.ndarray:
        pythia_seed, detector_seed = chunk_seeds(11, process, 0)
        return generate_l1_chunk(L1Chunk(process, 0, n, pythia_seed, detector_seed)).particles

    w, a, lq = chunk("w_lnu", 60), chunk("ato4l", 40), chunk("leptoquark", 40)
    leptons = {name: (x[:, 1:9, 0] > 0).sum(axis=1) for name, x in (("w", w), ("a", a))}
    # W -> l nu: one lepton (rarely two); A -> 4l: two to four.
    assert leptons["w"].mean() < 1.3 and leptons["a"].mean() > 1.8
    assert (leptons["a"] >= 3).mean() > 0.1 and (leptons["w"] >= 3).sum() == 0
    # LQ pairs -> b tau b tau: more jets than W + ISR; W has the larger MET (its neutrino).
    jets = {name: (x[:, 9:19, 0] > 0).sum(axis=1).mean() for name, x in (("w", w), ("lq", lq))}
    assert jets["lq"] > jets["w"] + 0.8
    assert np.median(w[:, 0, 0]) > 20.0


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"n_signal": 0}, "n_signal must be >= 1"),
        ({"n_background_test": 0}, "n_background_test must be >= 1"),
        ({"n_background_train": 2.5}, "n_background_train must be an integer"),
        ({"seed": -1}, "seed must be >= 0"),
    ],
)
def test_invalid_parameters_are_named(tmp_path: Path, overrides: dict, message: str) -> None:
    with pytest.raises(GeneratorParameterError, match=message):
        ensure_embedded_l1(tmp_path, progress=False, **{**SMALL, **overrides})


def config(**overrides: int) -> SimpleNamespace:
    values = {
        "n_background_train": SMALL["n_background_train"],
        "n_background_test": SMALL["n_background_test"],
        "n_signal_events": SMALL["n_signal"],
        "generator_seed": SMALL["seed"],
        "workers": 1,
    }
    return SimpleNamespace(**{**values, **overrides})


def test_prepare_from_the_dataset_config(
    sample: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(l1_events, "EVENTS_PER_CHUNK", CHUNK)
    data_dir = sample["ato4l"].parents[2]  # <data_dir>/embedded_l1/<key>/<file>
    assert prepare_embedded_l1(config(), data_dir, progress=False) == sample  # cached
    with pytest.raises(DatasetConfigError, match=r"dataset\.n_signal_events must be >= 1, got 0"):
        prepare_embedded_l1(config(n_signal_events=0), data_dir, progress=False)
    with pytest.raises(DatasetConfigError, match=r"dataset\.generator_seed must be >= 0"):
        prepare_embedded_l1(config(generator_seed=-3), data_dir, progress=False)


def test_provenance_and_statistics_from_the_manifest(
    sample: dict[str, Path], tmp_path: Path
) -> None:
    infos = embedded_l1_file_infos(sample)
    assert {role: info.sha256 for role, info in infos.items()} == digests(sample)
    assert embedded_l1_statistics(sample["ato4l"].parent)["processes"]["ato4l"]["stored"] == 4
    copy = tmp_path / "copy"
    shutil.copytree(sample["ato4l"].parent, copy)
    moved = {role: copy / path.name for role, path in sample.items()}
    with moved["leptoquark"].open("ab") as handle:
        handle.write(b"x")
    with pytest.raises(CorruptFileError, match="expected"):
        embedded_l1_file_infos(moved)
