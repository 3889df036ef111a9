"""Jet substructure features of the hls4ml jet dataset, computed with FastJet and fjcontrib.

:func:`jet_features` takes the constituents of many jets and returns the 53 jet features of the
public hls4ml files (:data:`~cern_ai_bench.data.hls4ml_columns.JET_FEATURE_NAMES`), the 16
high-level features among them. The definitions follow the ntupliser that produced the public
sample (``nhanvtran/trackObservables``, branch ``boostedPrecision-hls4ml``,
``processing/anaSubstructure.cpp``):

- energy-correlation ratios in the pT-R measure (fjcontrib EnergyCorrelator; Larkoski, Salam,
  Thaler, JHEP 06 (2013) 108; Larkoski, Moult, Neill, JHEP 12 (2014) 009; Moult, Necib, Thaler,
  JHEP 12 (2016) 153): C1 and C2 are ``EnergyCorrelatorDoubleRatio(N, beta)``, D2 is
  ``EnergyCorrelatorD2``, ``d2_a1`` is ``EnergyCorrelatorGeneralizedD2(alpha=1, beta)``, M2 and
  N2 are the ``Mseries`` / ``Nseries`` with N = 2. For alpha = beta = 1 the generalised D2 equals
  D2, so ``d2_a1_b1 == d2_b1``. The ungroomed ``d2_a1``, ``m2`` and ``n2`` are costly and
  optional (:data:`EXPENSIVE_UNGROOMED`);
- N-subjettiness tau_N^(beta), N = 1, 2, 3, beta = 1, 2, with one-pass kT axes and the
  unnormalised measure (Thaler, Van Tilburg, JHEP 03 (2011) 015), in GeV;
- groomers: mMDT (Dasgupta et al., JHEP 09 (2013) 029) = soft drop (Larkoski, Marzani, Soyez,
  Thaler, JHEP 05 (2014) 146) with beta = 0, z_cut = 0.1; soft drop beta = 2 and beta = -1
  (R0 = 1.0, as the ntupliser passed it); pruning (Ellis, Vermilion, Walsh, PRD 80 (2009)
  051501; C/A, z_cut = 0.1, R_cut factor 0.5); trimming (Krohn, Thaler, Wang, JHEP 02 (2010)
  084; kT R = 0.2 subjets, pT fraction > 0.03);
- ``*_mmdt``: the same observables on the mMDT-groomed jet, ``mass_mmdt`` its mass;
- ``zlogz`` = sum_i z_i ln z_i with z_i = E_i / E_jet, and ``multiplicity`` = number of
  constituents, both on the ungroomed jet; ``ptfrac`` = 1 (the ntupliser's ratio of the jet pT
  after a particle-type selection to the all-particle jet pT, which is 1 for all particles).

Every jet is one "event" of FastJet's awkward multi-event interface, reclustered with C/A at
``R = 1000`` (FastJet's largest allowed R, what fjcontrib's own reclustering uses) so that no
constituent is lost to the beam, then one call per observable serves all jets. Pruning and
trimming are only in FastJet's classic interface and run per jet (~0.5 ms each).
"""

from __future__ import annotations

import awkward as ak
import fastjet
import numpy as np

from cern_ai_bench.data.hls4ml_columns import JET_FEATURE_NAMES

#: C/A radius of the reclustering; FastJet's ``JetDefinition.max_allowable_R``.
RECLUSTER_R = 1000.0
#: Soft-drop symmetry cut of every groomer (mMDT, beta = 2, beta = -1).
SD_ZCUT = 0.1
#: Soft-drop R0 of mMDT (irrelevant for beta = 0) and of the beta = 2 and beta = -1 groomers.
MMDT_R0 = 0.8
SD_R0 = 1.0

#: Energy-correlator ratios: feature name (without ``j_``) -> keyword arguments of
#: ``exclusive_jets_energy_correlator``. Only ``func`` names listed in :data:`_ECF_FUNCS` may
#: appear: fastjet's binding dereferences a null pointer on an unknown name.
ECF_RATIOS: dict[str, dict[str, float | int | str]] = {
    "c1_b0": {"func": "doubleratio", "npoint": 1, "beta": 0.0},
    "c1_b1": {"func": "doubleratio", "npoint": 1, "beta": 1.0},
    "c1_b2": {"func": "doubleratio", "npoint": 1, "beta": 2.0},
    "c2_b1": {"func": "doubleratio", "npoint": 2, "beta": 1.0},
    "c2_b2": {"func": "doubleratio", "npoint": 2, "beta": 2.0},
    "d2_b1": {"func": "d2", "beta": 1.0},
    "d2_b2": {"func": "d2", "beta": 2.0},
    "d2_a1_b1": {"func": "generalizedd2", "alpha": 1.0, "beta": 1.0},
    "d2_a1_b2": {"func": "generalizedd2", "alpha": 1.0, "beta": 2.0},
    "m2_b1": {"func": "mseries", "npoint": 2, "beta": 1.0},
    "m2_b2": {"func": "mseries", "npoint": 2, "beta": 2.0},
    "n2_b1": {"func": "nseries", "npoint": 2, "beta": 1.0},
    "n2_b2": {"func": "nseries", "npoint": 2, "beta": 2.0},
}

#: Ungroomed ratios built from generalised correlators (``d2_a1``, ``m2``, ``n2``): cubic in the
#: number of constituents with a large constant, they take as long as everything else together on
#: ungroomed gluon jets, so :func:`jet_features` computes them only on request (NaN otherwise).
#: Their ``_mmdt`` versions are among the 16 high-level features and always computed.
EXPENSIVE_UNGROOMED: frozenset[str] = frozenset(
    {"d2_a1_b1", "d2_a1_b2", "m2_b1", "m2_b2", "n2_b1", "n2_b2"}
)

#: ``func`` names the installed fastjet binding knows (lower case; it lower-cases its input).
_ECF_FUNCS = frozenset(
    {
        "ratio",
        "doubleratio",
        "c1",
        "c2",
        "d2",
        "generalized",
        "generalizedd2",
        "nseries",
        "n2",
        "n3",
        "mseries",
        "m2",
        "cseries",
        "useries",
        "u1",
        "u2",
        "u3",
        "generic",
    }
)

_FIELDS = ("px", "py", "pz", "E")


def silence_fastjet_banner() -> None:
    """Stop FastJet printing its banner to stdout on the first clustering of the process."""
    fastjet._swig.ClusterSequence.set_fastjet_banner_stream(None)


def as_jagged_constituents(constituents: ak.Array | np.ndarray) -> ak.Array:
    """Constituents as an awkward array ``N * var * {px, py, pz, E}`` (float64, GeV).

    Args:
        constituents: an awkward array of records with fields ``px, py, pz, E`` (more fields
            are dropped), or a ``(N, P, 4)`` array of ``(px, py, pz, E)`` zero-padded after
            the last constituent (rows with ``E <= 0`` are padding).

    Raises:
        ValueError: wrong shape or fields, or a jet without constituents.
    """
    if isinstance(constituents, np.ndarray):
        if constituents.ndim != 3 or constituents.shape[2] != 4:
            raise ValueError(
                f"constituents: expected shape (N, P, 4) of (px, py, pz, E), "
                f"got {constituents.shape}"
            )
        values = constituents.astype(np.float64, copy=False)
        present = values[..., 3] > 0
        flat = values[present]
        jagged = ak.unflatten(
            ak.zip({name: flat[:, i] for i, name in enumerate(_FIELDS)}), present.sum(axis=1)
        )
    else:
        missing = [name for name in _FIELDS if name not in ak.fields(constituents)]
        if missing or constituents.ndim != 2:
            raise ValueError(
                f"constituents: expected N * var * {{px, py, pz, E}} records, "
                f"got type {constituents.type} (missing fields {missing})"
            )
        jagged = ak.zip(
            {name: ak.values_astype(constituents[name], np.float64) for name in _FIELDS}
        )
    empty = np.flatnonzero(ak.to_numpy(ak.num(jagged, axis=1)) == 0)
    if empty.size:
        raise ValueError(f"constituents: jet {int(empty[0])} has no constituents")
    return jagged


def jet_features(
    constituents: ak.Array | np.ndarray, *, expensive_ungroomed: bool = False
) -> np.ndarray:
    """The 53 hls4ml jet features of many jets.

    Args:
        constituents: ``N`` jets' constituents, see :func:`as_jagged_constituents` (GeV).
        expensive_ungroomed: also compute the ungroomed ratios of :data:`EXPENSIVE_UNGROOMED`
            (NaN otherwise); this roughly doubles the time on gluon jets.

    Returns:
        ``(N, 53)`` float64 in :data:`~cern_ai_bench.data.hls4ml_columns.JET_FEATURE_NAMES`
        order: masses, pT and tau_N in GeV, the rest dimensionless. A ratio whose denominator
        vanishes (e.g. ``tau32`` or C2 of a groomed jet with fewer than three constituents) is
        NaN.
    """
    silence_fastjet_banner()
    jets = as_jagged_constituents(constituents)
    out: dict[str, np.ndarray] = {}
    p4 = np.stack([ak.to_numpy(ak.sum(jets[name], axis=1)) for name in _FIELDS], axis=1)
    out["ptfrac"] = np.ones(len(p4))
    out["pt"], out["eta"], out["mass"] = _pt_eta_mass(p4)
    energy = ak.to_numpy(ak.flatten(jets.E))
    z = energy / np.repeat(p4[:, 3], ak.to_numpy(ak.num(jets, axis=1)))
    out["zlogz"] = ak.to_numpy(ak.sum(ak.unflatten(z * np.log(z), ak.num(jets, axis=1)), axis=1))
    out["multiplicity"] = ak.to_numpy(ak.num(jets, axis=1)).astype(np.float64)

    ca = fastjet.JetDefinition(fastjet.cambridge_algorithm, RECLUSTER_R)
    sequence = fastjet.ClusterSequence(jets, ca)
    skip = frozenset() if expensive_ungroomed else EXPENSIVE_UNGROOMED
    out.update(_shape_observables(sequence, suffix="", skip=skip))
    out.update({name: np.full(len(p4), np.nan) for name in skip})

    mmdt = _soft_drop(sequence, beta=0.0, r0=MMDT_R0)
    out["mass_mmdt"] = ak.to_numpy(mmdt.msoftdrop)
    groomed = ak.zip({name: mmdt.constituents[name] for name in _FIELDS})
    out.update(
        _shape_observables(fastjet.ClusterSequence(groomed, ca), suffix="_mmdt", skip=frozenset())
    )
    out["mass_sdb2"] = ak.to_numpy(_soft_drop(sequence, beta=2.0, r0=SD_R0).msoftdrop)
    out["mass_sdm1"] = ak.to_numpy(_soft_drop(sequence, beta=-1.0, r0=SD_R0).msoftdrop)
    out["mass_trim"], out["mass_prun"] = _trimmed_and_pruned_masses(jets)
    return np.stack([out[name.removeprefix("j_")] for name in JET_FEATURE_NAMES], axis=1)


def _pt_eta_mass(p4: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """pT, pseudorapidity and mass (clipped at 0) of ``(N, 4)`` four-momenta."""
    pt = np.hypot(p4[:, 0], p4[:, 1])
    eta = np.arcsinh(p4[:, 2] / pt)
    mass = np.sqrt(np.maximum(p4[:, 3] ** 2 - np.sum(p4[:, :3] ** 2, axis=1), 0.0))
    return pt, eta, mass


def _soft_drop(sequence: fastjet.ClusterSequence, *, beta: float, r0: float) -> ak.Array:
    """Soft-drop grooming of the single exclusive jet of every event (fields of fastjet's API)."""
    return sequence.exclusive_jets_softdrop_grooming(
        njets=1, beta=beta, symmetry_cut=SD_ZCUT, R0=r0
    )


def _shape_observables(
    sequence: fastjet.ClusterSequence, *, suffix: str, skip: frozenset[str]
) -> dict[str, np.ndarray]:
    """N-subjettiness and energy-correlation ratios (except ``skip``) of every jet."""
    out: dict[str, np.ndarray] = {}
    for beta in (1, 2):
        taus = ak.to_numpy(
            sequence.njettiness(
                measure_definition="UnnormalizedMeasure",
                axes_definition="OnePass_KT_Axes",
                njets=[1, 2, 3],
                beta=float(beta),
            )
        )
        for n in (1, 2, 3):
            out[f"tau{n}_b{beta}{suffix}"] = taus[:, n - 1]
        # tau3 / tau2 is undefined (NaN) for jets with at most two constituents.
        with np.errstate(divide="ignore", invalid="ignore"):
            out[f"tau32_b{beta}{suffix}"] = taus[:, 2] / taus[:, 1]
    for name, kwargs in ECF_RATIOS.items():
        if name not in skip:
            out[f"{name}{suffix}"] = energy_correlator(sequence, **kwargs)
    return out


def energy_correlator(
    sequence: fastjet.ClusterSequence,
    *,
    func: str,
    beta: float,
    npoint: int = 0,
    alpha: float = 0.0,
) -> np.ndarray:
    """One fjcontrib energy-correlator function of the single exclusive jet of every event.

    Args:
        sequence: awkward multi-event cluster sequence (one jet per event).
        func: fjcontrib class selector of fastjet's binding (``doubleratio``, ``d2``, ...).
        beta: angular exponent.
        npoint: N of the ratio / series classes.
        alpha: alpha of ``generalizedd2``.

    Returns:
        ``(N,)`` float64, pT-R measure.

    Raises:
        ValueError: unknown ``func`` (checked here because the binding crashes on it).
    """
    if func.lower() not in _ECF_FUNCS:
        raise ValueError(f"unknown energy-correlator func {func!r}; expected one of {_ECF_FUNCS}")
    values = sequence.exclusive_jets_energy_correlator(
        njets=1, func=func, beta=beta, npoint=npoint, alpha=alpha
    )
    return ak.to_numpy(values).astype(np.float64, copy=False)


def _trimmed_and_pruned_masses(jets: ak.Array) -> tuple[np.ndarray, np.ndarray]:
    """Trimmed and pruned masses per jet, through FastJet's classic (per-jet) interface."""
    ca = fastjet.JetDefinition(fastjet.cambridge_algorithm, RECLUSTER_R)
    trimmer = fastjet.Filter(
        fastjet.JetDefinition(fastjet.kt_algorithm, 0.2), fastjet.SelectorPtFractionMin(0.03)
    )
    pruner = fastjet.Pruner(fastjet.cambridge_algorithm, 0.1, 0.5)
    counts = ak.to_numpy(ak.num(jets, axis=1))
    flat = np.stack([ak.to_numpy(ak.flatten(jets[name])) for name in _FIELDS], axis=1).tolist()
    stops = np.cumsum(counts).tolist()
    trimmed = np.empty(len(counts))
    pruned = np.empty(len(counts))
    start = 0
    for i, stop in enumerate(stops):
        particles = [fastjet.PseudoJet(*row) for row in flat[start:stop]]
        start = stop
        sequence = fastjet.ClusterSequence(particles, ca)
        (jet,) = sequence.inclusive_jets()
        trimmed[i] = trimmer(jet).m()
        pruned[i] = pruner(jet).m()
    return trimmed, pruned
