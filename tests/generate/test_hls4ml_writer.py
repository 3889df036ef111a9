"""The hls4ml raw HDF5 writer: names, layout, dtypes (as listed in the public files)."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pytest

from cern_ai_bench.data.hls4ml_columns import (
    HLF_COLUMN_INDICES,
    JET_FEATURE_NAMES,
    JETS_COLUMN_NAMES,
    LABEL_COLUMNS,
    PARTICLE_FEATURE_NAMES,
)
from cern_ai_bench.data.schema import HLF_NAMES, HLS4ML_CLASSES
from cern_ai_bench.generate.hls4ml_writer import hls4ml_file_name, jets_table, write_hls4ml_file


def test_published_layout() -> None:
    assert len(JET_FEATURE_NAMES) == 53 and len(set(JET_FEATURE_NAMES)) == 53
    assert JETS_COLUMN_NAMES[53:] == ("j_g", "j_q", "j_w", "j_z", "j_t", "j_undef")
    assert [name.removeprefix("j_").lower() for name in LABEL_COLUMNS] == [
        c.lower() for c in HLS4ML_CLASSES
    ]
    # The 16 high-level features sit at these published columns (Duarte et al. 2018).
    assert HLF_COLUMN_INDICES == (12, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 46, 48, 52)
    assert [JET_FEATURE_NAMES[c] for c in HLF_COLUMN_INDICES] == [f"j_{n}" for n in HLF_NAMES]
    assert len(PARTICLE_FEATURE_NAMES) == 17 and PARTICLE_FEATURE_NAMES[-1] == "j1_pdgid"
    assert hls4ml_file_name(7, 150, 0, 10000) == "jetImage_7_150p_0_10000.h5"


def test_round_trip(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    features = rng.normal(size=(6, 53))
    labels = np.array([0, 1, 2, 3, 4, 2])
    constituents = rng.normal(size=(6, 10, 16)).astype(np.float32)
    table = jets_table(features, labels)
    path = tmp_path / "jetImage_1_10p_0_6.h5"
    write_hls4ml_file(path, table, constituents)
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no temporary file left
    with h5py.File(path, "r") as handle:
        assert set(handle) == {
            "jets",
            "jetFeatureNames",
            "jetConstituentList",
            "particleFeatureNames",
        }
        jets = handle["jets"][()]
        assert jets.dtype == np.float32 and jets.shape == (6, 59)
        np.testing.assert_array_equal(jets[:, :53], features.astype(np.float32))
        np.testing.assert_array_equal(np.argmax(jets[:, 53:58], axis=1), labels)
        assert np.all(jets[:, 53:58].sum(axis=1) == 1) and not jets[:, 58].any()
        names = [n.decode() for n in handle["jetFeatureNames"][()]]
        assert names == list(JETS_COLUMN_NAMES)
        particles = [n.decode() for n in handle["particleFeatureNames"][()]]
        assert particles == list(PARTICLE_FEATURE_NAMES)
        np.testing.assert_array_equal(handle["jetConstituentList"][()], constituents)


def test_bad_arrays_are_rejected(tmp_path: Path) -> None:
    good = jets_table(np.zeros((2, 53)), np.array([0, 1]))
    with pytest.raises(ValueError, match="features"):
        jets_table(np.zeros((2, 52)), np.array([0, 1]))
    with pytest.raises(ValueError, match="labels"):
        jets_table(np.zeros((2, 53)), np.array([0, 5]))
    with pytest.raises(ValueError, match="constituents"):
        write_hls4ml_file(tmp_path / "a.h5", good, np.zeros((2, 5, 17), np.float32))
    with pytest.raises(ValueError, match="jets"):
        write_hls4ml_file(tmp_path / "a.h5", good.astype(np.float64), np.zeros((2, 5, 16)))
    with pytest.raises(ValueError, match="no jets"):
        write_hls4ml_file(tmp_path / "a.h5", good[:0], np.zeros((0, 5, 16), np.float32))
    assert not list(tmp_path.iterdir())
