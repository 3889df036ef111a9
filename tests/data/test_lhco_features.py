"""LHCO dijet features: FastJet cross-check on the genuine sample, derived features, the
features file, and the public-file preparation (offline)."""

from __future__ import annotations

import functools
from pathlib import Path

import fastjet
import numpy as np
import pandas as pd
import pytest

from cern_ai_bench.config import DatasetConfig
from cern_ai_bench.data import lhco
from cern_ai_bench.data.errors import (
    CorruptFileError,
    FormatError,
    MissingFileError,
    NonFiniteError,
)
from cern_ai_bench.data.lhco import load_lhco_rnd_features, prepare_lhco_rnd
from cern_ai_bench.data.lhco_features import (
    FEATURE_COLUMNS,
    JET_COLUMNS,
    DijetFeatures,
    derived_features,
    dijet_features,
    in_signal_region,
    lhco_feature_table,
)
from cern_ai_bench.data.lhco_features_file import read_lhco_features_file, write_lhco_features_file
from cern_ai_bench.data.lhco_io import read_lhco, write_lhco
from cern_ai_bench.data.sources import LHCO_RND_FILES, LHCO_RND_RAW
from cern_ai_bench.generate.substructure import silence_fastjet_banner

TINY = Path("lhco") / "events_anomalydetection_tiny.h5"
N_CHECKED = 50


@functools.cache
def tiny_sample(path: Path) -> tuple[np.ndarray, np.ndarray, DijetFeatures]:
    """Particles and labels of the genuine sample, and its features streamed in 3 chunks."""
    features, labels = lhco_feature_table(path, chunk_events=400, progress=False)
    events = read_lhco(path)
    np.testing.assert_array_equal(labels, events.labels)
    return events.particles, labels, features


@pytest.fixture
def tiny(shared_data: Path) -> tuple[np.ndarray, np.ndarray, DijetFeatures]:
    """The genuine sample and its features (computed once per session)."""
    return tiny_sample(shared_data / TINY)


# -- an independent FastJet computation (classic PseudoJet API, tau_N by hand) -------------


def classic_leading_jets(event: np.ndarray) -> tuple[fastjet.ClusterSequence, list]:
    """Anti-kT R = 1.0 jets above 20 GeV of one event, pT-sorted (keep the sequence alive)."""
    particles = []
    for pt, eta, phi in event[event[:, 0] > 0]:
        particle = fastjet.PseudoJet()
        particle.reset_PtYPhiM(float(pt), float(eta), float(phi), 0.0)
        particles.append(particle)
    sequence = fastjet.ClusterSequence(
        particles, fastjet.JetDefinition(fastjet.antikt_algorithm, 1.0)
    )
    return sequence, list(fastjet.sorted_by_pt(sequence.inclusive_jets(20.0)))


def tau_kt_axes(constituents: list, n: int) -> float:
    """tau_N = sum_i pT_i min_k dR_ik / (sum_i pT_i R0), R0 = 1, beta = 1, axes = the n exclusive
    kT jets (R = 1000, E-scheme) of the constituents; 0 when there are at most n constituents
    (Thaler, Van Tilburg, JHEP 03 (2011) 015, eq. 2)."""
    if len(constituents) <= n:
        return 0.0
    sequence = fastjet.ClusterSequence(
        list(constituents), fastjet.JetDefinition(fastjet.kt_algorithm, 1000.0)
    )
    axes = sequence.exclusive_jets(n)
    pt = np.array([c.pt() for c in constituents])
    rap = np.array([c.rap() for c in constituents])
    phi = np.array([c.phi() for c in constituents])
    distances = [
        np.hypot(rap - axis.rap(), (phi - axis.phi() + np.pi) % (2 * np.pi) - np.pi)
        for axis in axes
    ]
    return float(np.sum(pt * np.min(distances, axis=0)) / np.sum(pt))


def test_jets_and_mjj_agree_with_classic_fastjet(tiny) -> None:
    """Jet momenta, masses and mjj equal a per-event classic clustering. Tolerances: 1e-9
    relative on momenta and mjj (summation order only); 1e-4 GeV on masses, whose
    E^2 - p^2 cancellation amplifies rounding by (E/m)^2 ~ 1e3."""
    silence_fastjet_banner()
    particles, _, features = tiny
    expected = np.zeros((N_CHECKED, 2, 4))
    mjj = np.zeros(N_CHECKED)
    for i in range(N_CHECKED):
        _, jets = classic_leading_jets(particles[i])
        expected[i] = [[j.px(), j.py(), j.pz(), j.m()] for j in jets[:2]]
        mjj[i] = (jets[0] + jets[1]).m()
    checked = DijetFeatures(features.table[:N_CHECKED])
    np.testing.assert_allclose(checked.momenta, expected[..., :3], rtol=1e-9, atol=1e-6)
    np.testing.assert_allclose(checked.masses, expected[..., 3], rtol=0, atol=1e-4)
    np.testing.assert_allclose(checked.mjj, mjj, rtol=1e-9)
    assert (np.hypot(expected[:, 0, 0], expected[:, 0, 1]) > 1000).all()  # the 1.2 TeV trigger


def test_nsubjettiness_agrees_with_a_manual_computation(tiny) -> None:
    """fjcontrib tau_N with exclusive-kT axes equals the formula evaluated by hand on the
    classic jets' constituents (1e-7 relative: the same axes, summed in another order). The
    default one-pass axes minimise from those axes, so they never give a larger tau_N."""
    particles, _, features = tiny
    kt = dijet_features(particles[:N_CHECKED], axes="KT_Axes")
    np.testing.assert_array_equal(
        kt.table[:, [0, 1, 2, 3, 7, 8, 9, 10]],
        features.table[:N_CHECKED, [0, 1, 2, 3, 7, 8, 9, 10]],
    )
    manual = np.zeros((N_CHECKED, 2, 3))
    for i in range(N_CHECKED):
        _, jets = classic_leading_jets(particles[i])
        for j, jet in enumerate(jets[:2]):
            manual[i, j] = [tau_kt_axes(list(jet.constituents()), n) for n in (1, 2, 3)]
    np.testing.assert_allclose(kt.taus, manual, rtol=1e-7, atol=1e-12)
    one_pass = features.taus[:N_CHECKED]
    assert (one_pass <= manual * (1 + 1e-9) + 1e-12).all()
    assert (one_pass < manual * 0.999).any()  # and it does move the axes
    assert ((manual[..., 2] <= manual[..., 1]) & (manual[..., 1] <= manual[..., 0])).mean() > 0.9


def test_signal_is_the_documented_resonance(tiny) -> None:
    """The R&D signal is W' (3.5 TeV) -> X (500 GeV) Y (100 GeV), X, Y -> qq (arXiv:2101.08320)."""
    _, labels, features = tiny
    assert features.valid.all()
    derived = derived_features(features)
    signal, background = derived[labels == 1], derived[labels == 0]
    assert np.median(signal[:, 0]) == pytest.approx(3.5, abs=0.1)
    assert in_signal_region(signal[:, 0]).mean() > 0.6
    assert in_signal_region(background[:, 0]).mean() < 0.25
    assert np.median(signal[:, 1] + signal[:, 2]) == pytest.approx(0.5, abs=0.05)  # mj_max
    assert np.median(signal[:, 1]) == pytest.approx(0.1, abs=0.03)  # mj_min
    assert np.median(signal[:, 4]) < 0.35 < np.median(background[:, 4])  # two-prong X


def test_features_do_not_depend_on_the_chunking(tiny) -> None:
    particles, _, features = tiny
    np.testing.assert_array_equal(dijet_features(particles[390:410]).table, features.table[390:410])


# -- hand-made events and the derived features ---------------------------------------------------


def test_hand_made_events() -> None:
    particles = np.zeros((3, 10, 3))
    particles[1, 0] = [100.0, 0.0, 0.0]  # one jet only
    particles[2, :3] = [[1000.0, 0.0, 0.0], [1000.0, 0.0, np.pi], [10.0, 3.0, 0.5]]  # 2 jets
    features = dijet_features(particles)
    assert features.valid.tolist() == [False, False, True]
    assert np.isnan(features.table[0]).all() and np.isnan(features.table[1, 7:]).all()
    assert features.table[1, :4] == pytest.approx([100.0, 0.0, 0.0, 0.0], abs=1e-9)
    assert features.mjj[2] == pytest.approx(2000.0)  # back to back, massless
    np.testing.assert_array_equal(features.taus[2], 0.0)  # one particle per jet
    assert np.isnan(derived_features(features)[:2]).all()
    with pytest.raises(ValueError, match="axes must be one of"):
        dijet_features(particles, axes="KT_axes")  # FastJet itself would fall back silently


def test_derived_features_by_hand() -> None:
    # jet 1: p = (1000, 0, 0), m = 500, taus (0.4, 0.1, 0.05); jet 2: p = (-1000, 0, 0), m = 100
    table = np.array([[1000.0, 0, 0, 500, 0.4, 0.1, 0.05, -1000.0, 0, 0, 100, 0.5, 0.3, 0.2]])
    swapped = np.c_[table[:, 7:], table[:, :7]]
    mjj = (np.sqrt(1000.0**2 + 500**2) + np.sqrt(1000.0**2 + 100**2)) / 1000.0
    expected = [mjj, 0.1, 0.4, 0.3 / (0.5 + 1e-5), 0.1 / (0.4 + 1e-5)]
    for rows in (table, swapped):
        np.testing.assert_allclose(derived_features(DijetFeatures(rows))[0], expected, rtol=1e-12)
    assert in_signal_region(np.array([3.3, 3.31, 3.69, 3.7, np.nan])).tolist() == [
        False,
        True,
        True,
        False,
        False,
    ]


# -- the published features file -------------------------------------------------------------


def features_frame(n: int = 6, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    values = np.c_[rng.uniform(1.0, 1000.0, (n, len(JET_COLUMNS))), rng.integers(0, 2, n)]
    return pd.DataFrame(values, columns=list(FEATURE_COLUMNS))


def test_features_file_round_trip(tmp_path: Path) -> None:
    frame = features_frame()
    frame.iloc[2, 7:14] = np.nan  # a missing second jet is allowed
    frame.to_hdf(tmp_path / "f.h5", key="df", mode="w")
    features, labels = read_lhco_features_file(tmp_path / "f.h5")
    np.testing.assert_array_equal(features.table, frame.to_numpy()[:, :-1])
    np.testing.assert_array_equal(labels, frame["label"].to_numpy())
    assert features.valid.tolist() == [True, True, False, True, True, True]
    write_lhco_features_file(tmp_path / "g.h5", features, labels)
    again, _ = read_lhco_features_file(tmp_path / "g.h5", max_events=4)
    np.testing.assert_array_equal(again.table, features.table[:4])
    # columns are found by name, whatever their order and the key of a single frame
    frame[list(reversed(frame.columns))].to_hdf(tmp_path / "h.h5", key="table1", mode="w")
    np.testing.assert_array_equal(
        read_lhco_features_file(tmp_path / "h.h5")[0].table, features.table
    )


def test_features_file_errors(tmp_path: Path) -> None:
    with pytest.raises(MissingFileError, match=r"absent.h5"):
        read_lhco_features_file(tmp_path / "absent.h5")
    (tmp_path / "text.h5").write_text("no HDF5\n")
    with pytest.raises(CorruptFileError, match=r"text.h5"):
        read_lhco_features_file(tmp_path / "text.h5")
    frame = features_frame()
    frame.drop(columns=["tau3j2"]).to_hdf(tmp_path / "cols.h5", key="df", mode="w")
    with pytest.raises(FormatError, match=r"lacks the columns \['tau3j2'\]"):
        read_lhco_features_file(tmp_path / "cols.h5")
    bad = frame.copy()
    bad.iloc[4, 5] = np.nan
    bad.to_hdf(tmp_path / "nan.h5", key="df", mode="w")
    with pytest.raises(NonFiniteError, match=r"event 4, column 'tau2j1'"):
        read_lhco_features_file(tmp_path / "nan.h5")
    bad = frame.copy()
    bad.iloc[3, 14] = 2.0
    bad.to_hdf(tmp_path / "label.h5", key="df", mode="w")
    with pytest.raises(FormatError, match=r"event 3 has label 2.0"):
        read_lhco_features_file(tmp_path / "label.h5")
    frame.to_hdf(tmp_path / "two.h5", key="a", mode="w")
    frame.to_hdf(tmp_path / "two.h5", key="b", mode="a")
    with pytest.raises(FormatError, match=r"cannot choose a DataFrame"):
        read_lhco_features_file(tmp_path / "two.h5")


# -- the public files (offline) ----------------------------------------------------------------


def test_prepare_names_the_url_when_offline(tmp_path: Path) -> None:
    cfg = DatasetConfig(name="lhco_rnd", data_dir=str(tmp_path), download=False)
    with pytest.raises(
        MissingFileError,
        match=r"zenodo.org/records/4536377/files/events_anomalydetection_v2.features.h5",
    ):
        prepare_lhco_rnd(cfg, tmp_path, progress=False)
    with pytest.raises(ValueError, match=r"raw_file must be one of"):
        prepare_lhco_rnd(cfg, tmp_path, progress=False, source="raw", raw_file="x.h5")


def test_raw_source_computes_then_caches(
    tmp_path: Path, shared_data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    events = read_lhco(shared_data / TINY, max_events=30)
    write_lhco(tmp_path / "lhco_rnd" / LHCO_RND_RAW, events.particles, events.labels)
    cfg = DatasetConfig(name="lhco_rnd", data_dir=str(tmp_path), download=False)
    first = load_lhco_rnd_features(cfg, tmp_path, progress=False, source="raw")
    (cache,) = (tmp_path / "lhco_rnd").glob("*.dijet_features_v1_*.h5")
    monkeypatch.setattr(lhco, "lhco_feature_table", None)  # a second computation would fail
    second = load_lhco_rnd_features(cfg, tmp_path, progress=False, source="raw")
    np.testing.assert_array_equal(first.features.table, dijet_features(events.particles).table)
    np.testing.assert_array_equal(second.features.table, first.features.table)
    np.testing.assert_array_equal(second.labels, events.labels)
    assert first.files[0].path.endswith(LHCO_RND_RAW)
    assert LHCO_RND_FILES[LHCO_RND_RAW].urls[0].endswith("4536377/files/" + LHCO_RND_RAW)
    assert cache.stat().st_size > 0
