"""Tiny files in the genuine public formats, built in the test's tmp_path.

- raw hls4ml ``.h5`` (h5py): ``jets`` (N, 59) named by ``jetFeatureNames`` (byte strings),
  ``jetConstituentList`` (N, P, 16) named by the first 16 of 17 ``particleFeatureNames``;
- top-tagging pandas HDF5 (key ``table``; ``E_i, PX_i, PY_i, PZ_i``, i < 200, truth columns,
  ``ttv``, ``is_signal_new``);
- the OpenML ARFF of ``hls4ml_lhc_jets_hlf``;
- a folder as the embedded generator leaves it (hls4ml files and its ``manifest.json``).

Each builder returns the values the loader must give back, in canonical form. Every jet's
``j_zlogz`` (HLF column 0) is its id, so tests can match loaded rows to written ones.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import h5py
import numpy as np
import pandas as pd

from cern_ai_bench.data.schema import HLF_NAMES

#: ``jetFeatureNames`` of the raw files, in file order (trigger reference section 1.2).
JET_FEATURE_NAMES: tuple[str, ...] = (
    "j_ptfrac", "j_pt", "j_eta", "j_mass",
    "j_tau1_b1", "j_tau2_b1", "j_tau3_b1", "j_tau1_b2", "j_tau2_b2", "j_tau3_b2",
    "j_tau32_b1", "j_tau32_b2", "j_zlogz",
    "j_c1_b0", "j_c1_b1", "j_c1_b2", "j_c2_b1", "j_c2_b2", "j_d2_b1", "j_d2_b2",
    "j_d2_a1_b1", "j_d2_a1_b2", "j_m2_b1", "j_m2_b2", "j_n2_b1", "j_n2_b2",
    "j_tau1_b1_mmdt", "j_tau2_b1_mmdt", "j_tau3_b1_mmdt",
    "j_tau1_b2_mmdt", "j_tau2_b2_mmdt", "j_tau3_b2_mmdt",
    "j_tau32_b1_mmdt", "j_tau32_b2_mmdt",
    "j_c1_b0_mmdt", "j_c1_b1_mmdt", "j_c1_b2_mmdt", "j_c2_b1_mmdt", "j_c2_b2_mmdt",
    "j_d2_b1_mmdt", "j_d2_b2_mmdt", "j_d2_a1_b1_mmdt", "j_d2_a1_b2_mmdt",
    "j_m2_b1_mmdt", "j_m2_b2_mmdt", "j_n2_b1_mmdt", "j_n2_b2_mmdt",
    "j_mass_trim", "j_mass_mmdt", "j_mass_prun", "j_mass_sdb2", "j_mass_sdm1",
    "j_multiplicity",
    "j_g", "j_q", "j_w", "j_z", "j_t", "j_undef",
)  # fmt: skip
#: ``particleFeatureNames`` (17; ``jetConstituentList`` holds the first 16).
PARTICLE_FEATURE_NAMES: tuple[str, ...] = (
    "j1_px", "j1_py", "j1_pz", "j1_e", "j1_erel", "j1_pt", "j1_ptrel", "j1_eta", "j1_etarel",
    "j1_etarot", "j1_phi", "j1_phirel", "j1_phirot", "j1_deltaR", "j1_costheta",
    "j1_costhetarel", "j1_pdgid",
)  # fmt: skip
#: Raw one-hot column of each canonical class index (g, q, W, Z, t).
ONE_HOT_COLUMNS = ("j_g", "j_q", "j_w", "j_z", "j_t")


@dataclass
class JetSample:
    """What a builder wrote, in canonical form."""

    ids: np.ndarray  # (N,) jet id (= j_zlogz = HLF column 0)
    labels: np.ndarray  # (N,) int64 canonical
    hlf: np.ndarray | None  # (N, 16) float32
    constituents: np.ndarray | None  # (N, P, 4) float32 (px, py, pz, E), pT-ordered


def make_constituents(rng: np.random.Generator, n_jets: int, n_particles: int) -> np.ndarray:
    """``(N, P, 4)`` float32 (px, py, pz, E): decreasing pT, 2..P real constituents, zero-padded."""
    pt = np.sort(rng.uniform(1.0, 500.0, size=(n_jets, n_particles)), axis=1)[:, ::-1]
    phi = rng.uniform(-np.pi, np.pi, size=(n_jets, n_particles))
    eta = rng.uniform(-2.0, 2.0, size=(n_jets, n_particles))
    px, py, pz = pt * np.cos(phi), pt * np.sin(phi), pt * np.sinh(eta)
    energy = np.sqrt(px**2 + py**2 + pz**2)
    momenta = np.stack([px, py, pz, energy], axis=-1).astype(np.float32)
    multiplicity = rng.integers(2, n_particles + 1, size=n_jets)
    momenta[np.arange(n_particles)[None, :] >= multiplicity[:, None]] = 0.0
    return momenta


def write_hls4ml_file(
    path: Path,
    labels: np.ndarray,
    *,
    first_id: int = 0,
    n_particles: int = 8,
    seed: int = 0,
    shuffle_columns: bool = False,
    with_image: bool = False,
) -> JetSample:
    """Write a raw hls4ml file holding jets of canonical ``labels``.

    Args:
        shuffle_columns: permute the ``jets`` columns and the constituent features (with their
            name lists), to prove the loader looks columns up by name.
        with_image: also write a small ``jetImage`` (the loader must ignore it).
    """
    rng = np.random.default_rng(seed)
    labels = np.asarray(labels, dtype=np.int64)
    n_jets = len(labels)
    ids = np.arange(first_id, first_id + n_jets)
    jets = rng.normal(size=(n_jets, len(JET_FEATURE_NAMES))).astype(np.float32)
    jets[:, JET_FEATURE_NAMES.index("j_zlogz")] = ids
    one_hot = [JET_FEATURE_NAMES.index(name) for name in ONE_HOT_COLUMNS]
    jets[:, one_hot] = 0.0
    jets[np.arange(n_jets), np.array(one_hot)[labels]] = 1.0
    jets[:, JET_FEATURE_NAMES.index("j_undef")] = 0.0

    hlf = jets[:, [JET_FEATURE_NAMES.index(f"j_{name}") for name in HLF_NAMES]].copy()
    momenta = make_constituents(rng, n_jets, n_particles)
    particles = rng.normal(size=(n_jets, n_particles, 16)).astype(np.float32)
    particles[..., :4] = momenta
    particles[momenta[..., 3] == 0] = 0.0

    jet_names, particle_names = list(JET_FEATURE_NAMES), list(PARTICLE_FEATURE_NAMES)
    if shuffle_columns:
        jet_order = rng.permutation(len(jet_names))
        jets, jet_names = jets[:, jet_order], [jet_names[i] for i in jet_order]
        particle_order = rng.permutation(16)
        particles = particles[..., particle_order]
        particle_names = [particle_names[i] for i in particle_order] + [particle_names[16]]
    write_raw_hls4ml(path, jets, jet_names, particles, particle_names, with_image=with_image)
    return JetSample(ids=ids, labels=labels, hlf=hlf, constituents=momenta)


def write_raw_hls4ml(
    path: Path,
    jets: np.ndarray,
    jet_names: list[str],
    particles: np.ndarray,
    particle_names: list[str],
    *,
    with_image: bool = False,
) -> None:
    """Write the four keys of a raw hls4ml file as given (names as byte strings)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with h5py.File(path, "w") as handle:
        handle.create_dataset("jets", data=jets)
        handle.create_dataset("jetFeatureNames", data=np.array(jet_names, dtype="S"))
        handle.create_dataset("jetConstituentList", data=particles)
        handle.create_dataset("particleFeatureNames", data=np.array(particle_names, dtype="S"))
        if with_image:
            handle.create_dataset("jetImage", data=np.zeros((len(jets), 4, 4), np.float32))


def write_generated_sample(
    folder: Path, train_labels: np.ndarray, val_labels: np.ndarray, *, n_particles: int = 12
) -> dict[str, JetSample]:
    """A sample folder as the embedded generator leaves it: ``train/``, ``val/``, ``manifest.json``.

    The manifest lists each file's path (relative to ``folder``), jets, SHA-256 and size, like
    :func:`cern_ai_bench.generate.jets_output.publish_sample` writes it.
    """
    samples = {
        "train": write_hls4ml_file(
            folder / "train" / "jetImage_1_12p_0_20.h5", train_labels, n_particles=n_particles
        ),
        "val": write_hls4ml_file(
            folder / "val" / "jetImage_1_12p_0_10.h5",
            val_labels,
            first_id=100,
            n_particles=n_particles,
        ),
    }
    files = [
        {
            "path": path.relative_to(folder).as_posix(),
            "n_jets": len(samples[path.parent.name].ids),
            "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
            "size_bytes": path.stat().st_size,
        }
        for path in sorted(folder.glob("*/*.h5"))
    ]
    document = {"parameters": {"fake": True}, "files": files}
    (folder / "manifest.json").write_text(json.dumps(document), encoding="utf-8")
    return samples


def top_tagging_columns(n_particles: int = 200) -> list[str]:
    """Column names of the top-tagging files, in file order."""
    columns = [f"{c}_{i}" for i in range(n_particles) for c in ("E", "PX", "PY", "PZ")]
    return [*columns, "truthE", "truthPX", "truthPY", "truthPZ", "ttv", "is_signal_new"]


def write_top_tagging_file(
    path: Path,
    labels: np.ndarray,
    *,
    seed: int = 0,
    n_particles: int = 200,
    table_format: bool = False,
) -> JetSample:
    """Write a top-tagging file (pandas HDF5, key ``table``) with ``labels`` (0 QCD, 1 top)."""
    rng = np.random.default_rng(seed)
    labels = np.asarray(labels, dtype=np.int64)
    momenta = make_constituents(rng, len(labels), n_particles)
    data = np.zeros((len(labels), 4 * n_particles + 6), dtype=np.float32)
    # file order per constituent is E, PX, PY, PZ; canonical is px, py, pz, E
    data[:, : 4 * n_particles] = momenta[..., [3, 0, 1, 2]].reshape(len(labels), -1)
    data[:, -6:-2] = rng.normal(size=(len(labels), 4))
    frame = pd.DataFrame(data, columns=top_tagging_columns(n_particles))
    frame["is_signal_new"] = labels
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_hdf(path, key="table", mode="w", format="table" if table_format else "fixed")
    return JetSample(ids=np.arange(len(labels)), labels=labels, hlf=None, constituents=momenta)


def write_openml_arff(path: Path, letters: list[str], *, seed: int = 0) -> JetSample:
    """Write the OpenML ARFF of ``hls4ml_lhc_jets_hlf`` with target letters (g, q, t, w, z)."""
    rng = np.random.default_rng(seed)
    hlf = rng.normal(size=(len(letters), len(HLF_NAMES))).astype(np.float32)
    hlf[:, 0] = np.arange(len(letters))
    lines = ["% tiny copy of hls4ml_lhc_jets_hlf", "@RELATION hls4ml_lhc_jets_hlf", ""]
    lines += [f"@ATTRIBUTE {name} NUMERIC" for name in HLF_NAMES]
    lines += ["@ATTRIBUTE class {'g','q','t','w','z'}", "", "@DATA"]
    lines += [
        ",".join(f"{value!r}" for value in row.tolist()) + f",'{letter}'"
        for row, letter in zip(hlf, letters, strict=True)
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    canonical = {"g": 0, "q": 1, "w": 2, "z": 3, "t": 4}
    labels = np.array([canonical[letter] for letter in letters], dtype=np.int64)
    return JetSample(ids=np.arange(len(letters)), labels=labels, hlf=hlf, constituents=None)


def md5_of(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


def write_zenodo_record(path: Path, files: dict[str, Path], *, bad_md5: bool = False) -> str:
    """A Zenodo ``/api/records/<id>`` reply listing ``files`` (key -> local file); file:// URL."""
    entries = [
        {
            "key": key,
            "size": local.stat().st_size,
            "checksum": "md5:" + ("0" * 32 if bad_md5 else md5_of(local)),
            "links": {"self": local.as_uri()},
        }
        for key, local in files.items()
    ]
    path.write_text(json.dumps({"id": 1, "files": entries}), encoding="utf-8")
    return path.as_uri()


def write_openml_description(path: Path, arff: Path, *, name: str = "hls4ml_lhc_jets_hlf") -> str:
    """An OpenML ``/api/v1/json/data/<id>`` reply pointing at ``arff``; file:// URL."""
    description = {
        "data_set_description": {
            "id": "42468",
            "name": name,
            "format": "ARFF",
            "url": arff.as_uri(),
            "md5_checksum": md5_of(arff),
            "default_target_attribute": "class",
        }
    }
    path.write_text(json.dumps(description), encoding="utf-8")
    return path.as_uri()
