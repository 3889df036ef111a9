"""The embedded LHCO-style dijet generator: format, physics, reproducibility, cache, resume."""

from __future__ import annotations

import numpy as np
import pytest

from cern_ai_bench.config import DatasetConfig
from cern_ai_bench.data.embedded_lhco import prepare_embedded_lhco
from cern_ai_bench.data.errors import DatasetConfigError
from cern_ai_bench.data.lhco_features import derived_features, dijet_features
from cern_ai_bench.data.lhco_io import N_PARTICLES, read_lhco
from cern_ai_bench.generate import lhco_events
from cern_ai_bench.generate.lhco_physics import SELECTION

SIZES = {"n_background": 200, "n_signal": 200, "seed": 3}
CHUNK = 100


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    """Two chunks of each process, generated with one worker."""
    data_dir = tmp_path_factory.mktemp("lhco")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(lhco_events, "EVENTS_PER_CHUNK", CHUNK)
        paths = lhco_events.ensure_embedded_lhco(data_dir, workers=1, progress=False, **SIZES)
    return data_dir, paths


def _read_all(paths):
    events = [read_lhco(path) for path in paths]
    return np.concatenate([e.particles for e in events]), np.concatenate([e.labels for e in events])


def test_files_are_in_the_lhco_format_and_pass_the_trigger(sample):
    _, paths = sample
    assert [p.name for p in paths] == [
        "qcd_dijets_000.h5",
        "qcd_dijets_001.h5",
        "wprime_xy_000.h5",
        "wprime_xy_001.h5",
    ]
    particles, labels = _read_all(paths)
    assert particles.shape == (400, N_PARTICLES, 3)
    np.testing.assert_array_equal(labels, np.repeat([0, 1], 200))
    pt, eta, phi = np.moveaxis(particles, 2, 0)
    filled = pt > 0
    assert (np.diff(pt, axis=1) <= 0).all()  # decreasing pT, zeros last
    assert (pt[filled] > SELECTION.particle_pt_min).all()
    assert (np.abs(eta[filled]) < SELECTION.particle_eta_max).all()
    assert (np.abs(phi) <= np.pi).all() and (eta[~filled] == 0).all()
    table = dijet_features(particles).table
    leading_pt = np.hypot(table[:, 0], table[:, 1])
    assert (leading_pt > SELECTION.trigger_jet_pt - 1e-6).all()


def test_the_signal_is_a_3p5_tev_resonance_into_500_and_100_gev_jets(sample):
    particles, labels = _read_all(sample[1])
    derived = derived_features(dijet_features(particles))
    mjj, mj_min, dmj, tau21_min, _ = derived.T
    signal, qcd = labels == 1, labels == 0
    assert 3.2 < np.median(mjj[signal]) < 3.6
    assert 0.08 < np.median(mj_min[signal]) < 0.16  # Y (100 GeV), plus radiation in R = 1.0
    assert 0.3 < np.median(dmj[signal]) < 0.5  # X - Y = 400 GeV
    assert np.median(mjj[qcd]) < 3.2 and np.median(dmj[qcd]) < 0.25
    # Two-prong jets: the lighter jet's tau21 is lower for the signal.
    assert np.median(tau21_min[signal]) < np.median(tau21_min[qcd]) - 0.1


def test_same_parameters_give_the_same_files_with_two_workers_and_are_cached(sample, tmp_path):
    data_dir, paths = sample
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(lhco_events, "EVENTS_PER_CHUNK", CHUNK)
        again = lhco_events.ensure_embedded_lhco(tmp_path, workers=2, progress=False, **SIZES)
        stamps = [p.stat().st_mtime_ns for p in paths]
        cached = lhco_events.ensure_embedded_lhco(data_dir, workers=1, progress=False, **SIZES)
    assert cached == paths and [p.stat().st_mtime_ns for p in paths] == stamps
    for first, second in zip(paths, again, strict=True):
        np.testing.assert_array_equal(read_lhco(first).particles, read_lhco(second).particles)


def test_an_interrupted_run_resumes_from_its_finished_chunks(tmp_path, monkeypatch):
    monkeypatch.setattr(lhco_events, "EVENTS_PER_CHUNK", 20)
    sizes = {"n_background": 40, "n_signal": 20, "seed": 5}
    parameters = lhco_events.sample_parameters(**sizes)
    root = tmp_path / "embedded_lhco"
    work = root / f"{lhco_events.sample_key(parameters)}{lhco_events.WORK_SUFFIX}"
    work.mkdir(parents=True)
    chunks = lhco_events.plan_chunks(parameters, work)
    lhco_events.generate_dijet_chunk(chunks[0])  # done before the "interruption"
    (work / chunks[1].name).write_bytes(b"half-written")  # killed while writing
    first = read_lhco(work / chunks[0].name).particles
    ran = []
    real = lhco_events.generate_dijet_chunk
    monkeypatch.setattr(
        lhco_events, "generate_dijet_chunk", lambda chunk: ran.append(chunk.name) or real(chunk)
    )
    paths = lhco_events.ensure_embedded_lhco(tmp_path, workers=1, progress=False, **sizes)
    assert ran == [chunks[1].name, chunks[2].name]
    np.testing.assert_array_equal(read_lhco(paths[0]).particles, first)
    assert not work.exists()


def test_invalid_sizes_name_their_config_key(tmp_path):
    cfg = DatasetConfig(name="embedded_lhco", data_dir=str(tmp_path), n_dijet_signal=0)
    with pytest.raises(DatasetConfigError, match=r"dataset.n_dijet_signal must be >= 1, got 0"):
        prepare_embedded_lhco(cfg, tmp_path, progress=False)
    assert not (tmp_path / "embedded_lhco").exists()
