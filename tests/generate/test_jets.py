"""Orchestration of the embedded jet sample (cache, atomic folder, splits, files), without Pythia.

``generate_chunk`` is replaced by a fast deterministic fake, so these tests check planning,
assembly, splitting, file layout and caching; ``test_jets_physics.py`` runs the real generator.
"""

from __future__ import annotations

import json
from pathlib import Path

import h5py
import numpy as np
import pytest

import cern_ai_bench.generate.jets as jets_module
import cern_ai_bench.generate.pool as pool_module
from cern_ai_bench.data.files import sha256_of
from cern_ai_bench.generate.jets import (
    JETS_PER_CHUNK,
    MIN_JETS_PER_CLASS,
    chunk_seed,
    ensure_embedded_jets,
    is_complete,
    plan_chunks,
    sample_key,
    sample_parameters,
)
from cern_ai_bench.generate.jets_pythia import ChunkResult, ChunkTask
from cern_ai_bench.generate.parameters import GeneratorParameterError


def fake_chunk(task: ChunkTask) -> ChunkResult:
    """Deterministic stand-in: column 1 (j_pt) encodes (class, chunk, row) for bookkeeping."""
    rng = np.random.default_rng(task.pythia_seed)
    features = rng.normal(size=(task.n_jets, 53)).astype(np.float32)
    features[:, 1] = 1000 * "gqWZt".index(task.label) + 100 * task.index + np.arange(task.n_jets)
    constituents = rng.normal(size=(task.n_jets, task.n_constituents, 16)).astype(np.float32)
    return ChunkResult(task.label, task.index, features, constituents, events=task.n_jets)


def install_fake(
    monkeypatch: pytest.MonkeyPatch, *, interrupt_after: int | None = None
) -> list[ChunkTask]:
    """Replace ``generate_chunk`` by :func:`fake_chunk`; return the list of tasks it ran.

    With ``interrupt_after=k`` the k+1-th call raises KeyboardInterrupt (Ctrl-C after k chunks).
    """
    calls: list[ChunkTask] = []

    def generate(task: ChunkTask) -> ChunkResult:
        if len(calls) == interrupt_after:
            raise KeyboardInterrupt
        calls.append(task)
        return fake_chunk(task)

    monkeypatch.setattr(jets_module, "generate_chunk", generate)
    return calls


@pytest.fixture
def fake_generator(monkeypatch: pytest.MonkeyPatch) -> list[ChunkTask]:
    monkeypatch.setattr(jets_module, "JETS_PER_FILE", 16)
    return install_fake(monkeypatch)


def read_split(folder: Path) -> tuple[list[str], np.ndarray]:
    names, tables = [], []
    for path in sorted(folder.iterdir()):
        names.append(path.name)
        with h5py.File(path, "r") as handle:
            tables.append(handle["jets"][()])
            assert handle["jetConstituentList"].shape[1:] == (7, 16)
    return names, np.concatenate(tables)


def test_layout_splits_and_manifest(tmp_path: Path, fake_generator: list[ChunkTask]) -> None:
    folder = ensure_embedded_jets(
        tmp_path, jets_per_class=12, seed=3, n_constituents=7, workers=1, progress=False
    )
    parameters = sample_parameters(jets_per_class=12, seed=3, n_constituents=7)
    assert folder == tmp_path / "embedded_jets" / sample_key(parameters)
    assert sorted(p.name for p in folder.iterdir()) == ["manifest.json", "train", "val"]
    assert sorted(p.name for p in folder.parent.iterdir()) == [folder.name]  # no temp left

    train_names, train = read_split(folder / "train")
    val_names, val = read_split(folder / "val")
    assert train_names == [
        "jetImage_3_7p_0_16.h5",
        "jetImage_3_7p_16_32.h5",
        "jetImage_3_7p_32_48.h5",
        "jetImage_3_7p_48_50.h5",
    ]
    assert val_names == ["jetImage_3_7p_0_10.h5"]
    # 80 / 20 of every class, first rows of each class to train, classes shuffled together.
    np.testing.assert_array_equal(train[:, 53:58].sum(axis=0), [10] * 5)
    np.testing.assert_array_equal(val[:, 53:58].sum(axis=0), [2] * 5)
    assert not train[:, 58].any() and not val[:, 58].any()
    train_rows = train[:, 1] % 1000
    assert train_rows.max() == 9 and (val[:, 1] % 1000).min() == 10
    labels = np.argmax(train[:, 53:58], axis=1)
    assert np.all(train[:, 1] // 1000 == labels)
    assert np.any(np.diff(labels) < 0)  # shuffled, not sorted by class

    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["parameters"] == parameters
    for entry in manifest["files"]:
        assert sha256_of(folder / entry["path"]) == entry["sha256"]
    assert sum(e["n_jets"] for e in manifest["files"]) == 60
    assert manifest["statistics"]["classes"]["t"]["jets"] == 12


def test_second_call_is_a_cache_hit(tmp_path: Path, fake_generator: list[ChunkTask]) -> None:
    first = ensure_embedded_jets(tmp_path, jets_per_class=5, workers=1, progress=False)
    n_calls = len(fake_generator)
    again = ensure_embedded_jets(tmp_path, jets_per_class=5, workers=1, progress=False)
    assert again == first and len(fake_generator) == n_calls
    other = ensure_embedded_jets(tmp_path, jets_per_class=5, seed=2, workers=1, progress=False)
    assert other != first and len(fake_generator) > n_calls


def test_damaged_cache_is_regenerated(tmp_path: Path, fake_generator: list[ChunkTask]) -> None:
    folder = ensure_embedded_jets(tmp_path, jets_per_class=5, workers=1, progress=False)
    parameters = sample_parameters(jets_per_class=5, seed=1, n_constituents=150)
    victim = next((folder / "train").iterdir())
    victim.write_bytes(b"truncated")
    assert not is_complete(folder, parameters)
    assert ensure_embedded_jets(tmp_path, jets_per_class=5, workers=1, progress=False) == folder
    assert is_complete(folder, parameters)


def test_leftover_folder_without_manifest_is_replaced(
    tmp_path: Path, fake_generator: list[ChunkTask]
) -> None:
    parameters = sample_parameters(jets_per_class=5, seed=1, n_constituents=150)
    leftover = tmp_path / "embedded_jets" / sample_key(parameters)
    (leftover / "train").mkdir(parents=True)
    (leftover / "train" / "stale.h5").write_bytes(b"")
    folder = ensure_embedded_jets(tmp_path, jets_per_class=5, workers=1, progress=False)
    assert folder == leftover and is_complete(folder, parameters)
    assert not (folder / "train" / "stale.h5").exists()


def test_chunk_plan_is_fixed() -> None:
    tasks = plan_chunks(sample_parameters(jets_per_class=1200, seed=1, n_constituents=150))
    assert [t.n_jets for t in tasks if t.label == "g"] == [JETS_PER_CHUNK, JETS_PER_CHUNK, 200]
    assert [t.label for t in tasks[::3]] == ["g", "q", "W", "Z", "t"]
    seeds = [t.pythia_seed for t in tasks]
    assert len(set(seeds)) == len(seeds)
    assert seeds[0] == chunk_seed(1, "g", 0) and min(seeds) >= 1 and max(seeds) <= 900_000_000


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"jets_per_class": 0}, "jets_per_class must be >= 5, got 0"),
        ({"jets_per_class": 4}, "jets_per_class must be >= 5, got 4"),
        ({"jets_per_class": 10.0}, "jets_per_class must be an integer, got 10.0"),
        ({"jets_per_class": True}, "jets_per_class must be an integer, got True"),
        ({"jets_per_class": 10, "seed": -1}, "seed must be >= 0, got -1"),
        ({"jets_per_class": 10, "n_constituents": 0}, "n_constituents must be >= 1"),
        ({"jets_per_class": 10, "workers": -1}, "workers must be >= 0, got -1"),
    ],
)
def test_invalid_parameters(tmp_path: Path, kwargs: dict[str, object], match: str) -> None:
    with pytest.raises(GeneratorParameterError, match=match) as caught:
        ensure_embedded_jets(tmp_path, progress=False, **kwargs)  # type: ignore[arg-type]
    assert isinstance(caught.value, ValueError)
    assert caught.value.parameter == match.split()[0]
    assert not (tmp_path / "embedded_jets").exists()


def test_minimum_jets_per_class_is_five() -> None:
    assert MIN_JETS_PER_CLASS == 5
    sample_parameters(jets_per_class=5, seed=0, n_constituents=1)
    with pytest.raises(GeneratorParameterError) as caught:
        sample_parameters(jets_per_class=4, seed=0, n_constituents=1)
    assert (caught.value.parameter, caught.value.requirement) == ("jets_per_class", "must be >= 5")


# --- resume after an interruption -------------------------------------------------------------

#: Small sample of many chunks: 5 classes x 3 chunks (2, 2, 1 jets).
SMALL = {"jets_per_class": 5, "seed": 4, "n_constituents": 7, "workers": 1, "progress": False}
N_CHUNKS = 15


@pytest.fixture
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(jets_module, "JETS_PER_CHUNK", 2)
    monkeypatch.setattr(jets_module, "JETS_PER_FILE", 16)


def sample_bytes(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*.h5"))}


def reference_sample(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The uninterrupted sample of :data:`SMALL`, in its own data folder."""
    install_fake(monkeypatch)
    return ensure_embedded_jets(tmp_path / "reference", **SMALL)


def interrupt(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, after: int) -> Path:
    """Run :data:`SMALL` until Ctrl-C after ``after`` chunks; return the work folder."""
    install_fake(monkeypatch, interrupt_after=after)
    with pytest.raises(KeyboardInterrupt):
        ensure_embedded_jets(tmp_path, **SMALL)
    (work,) = (tmp_path / "embedded_jets").iterdir()
    return work


@pytest.mark.usefixtures("small_chunks")
def test_interrupted_run_resumes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    reference = reference_sample(tmp_path, monkeypatch)
    work = interrupt(tmp_path / "data", monkeypatch, after=4)
    # Only the work folder of finished chunks is left: no sample folder, no manifest, no temp.
    assert work.name == f"{reference.name}.partial"
    saved = sorted(p.name for p in work.iterdir())
    assert saved == ["chunk_g_0000.npz", "chunk_g_0001.npz", "chunk_g_0002.npz", "chunk_q_0000.npz"]

    bars: list[dict[str, object]] = []
    real_tqdm = pool_module.tqdm

    def recording_tqdm(*args: object, **kwargs: object) -> object:
        bars.append(kwargs)
        return real_tqdm(*args, **kwargs)

    monkeypatch.setattr(pool_module, "tqdm", recording_tqdm)
    calls = install_fake(monkeypatch)
    with caplog.at_level("INFO", logger=pool_module.__name__):
        folder = ensure_embedded_jets(tmp_path / "data", **SMALL)

    # Only the missing chunks ran; the bar started at the jets already done.
    assert len(calls) == N_CHUNKS - 4
    assert not {(t.label, t.index) for t in calls} & {("g", 0), ("g", 1), ("g", 2), ("q", 0)}
    assert bars[0]["initial"] == 5 + 2 and bars[0]["total"] == 25
    assert "reused 4 of 15 chunks (7 of 25 jets)" in caplog.text
    # Same files, byte for byte, as the uninterrupted run; the work folder is gone.
    assert sample_bytes(folder) == sample_bytes(reference)
    assert sorted(p.name for p in folder.parent.iterdir()) == [folder.name]
    manifest = json.loads((folder / "manifest.json").read_text())
    expected = json.loads((reference / "manifest.json").read_text())
    assert manifest["files"] == expected["files"]
    assert manifest["statistics"]["classes"] == expected["statistics"]["classes"]
    assert manifest["statistics"]["chunks_reused"] == 4
    assert expected["statistics"]["chunks_reused"] == 0


@pytest.mark.usefixtures("small_chunks")
@pytest.mark.parametrize("damage", ["truncated", "empty", "other_chunk"])
def test_damaged_chunk_file_is_regenerated(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    damage: str,
) -> None:
    reference = reference_sample(tmp_path, monkeypatch)
    work = interrupt(tmp_path / "data", monkeypatch, after=3)
    victim = work / "chunk_g_0001.npz"
    if damage == "truncated":
        victim.write_bytes(victim.read_bytes()[:100])
    elif damage == "empty":
        victim.write_bytes(b"")
    else:  # a readable chunk of another task (other seed and size) under this name
        (work / "chunk_g_0002.npz").replace(victim)

    calls = install_fake(monkeypatch)
    with caplog.at_level("WARNING"):
        folder = ensure_embedded_jets(tmp_path / "data", **SMALL)
    regenerated = {(t.label, t.index) for t in calls}
    assert ("g", 1) in regenerated and ("g", 0) not in regenerated
    assert len(calls) == N_CHUNKS - (1 if damage == "other_chunk" else 2)
    assert "chunk_g_0001.npz is damaged" in caplog.text
    assert sample_bytes(folder) == sample_bytes(reference)
    assert not work.exists()


@pytest.mark.usefixtures("small_chunks")
def test_interrupted_while_writing_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """All chunks done, killed while writing: the rerun only writes; leftovers are cleaned up."""
    reference = reference_sample(tmp_path, monkeypatch)
    install_fake(monkeypatch)

    def killed(*args: object) -> None:
        raise KeyboardInterrupt

    with monkeypatch.context() as patch:
        patch.setattr(jets_module, "publish_sample", killed)
        with pytest.raises(KeyboardInterrupt):
            ensure_embedded_jets(tmp_path / "data", **SMALL)
    (work,) = (tmp_path / "data" / "embedded_jets").iterdir()
    assert len(list(work.glob("chunk_*.npz"))) == N_CHUNKS
    (work / "output.killed" / "train").mkdir(parents=True)  # what a hard kill would leave

    calls = install_fake(monkeypatch)
    folder = ensure_embedded_jets(tmp_path / "data", **SMALL)
    assert calls == [] and sample_bytes(folder) == sample_bytes(reference)
    assert sorted(p.name for p in folder.parent.iterdir()) == [folder.name]
    statistics = json.loads((folder / "manifest.json").read_text())["statistics"]
    assert statistics["chunks_reused"] == N_CHUNKS and statistics["jets_per_second"] is None
