"""Column names of the hls4ml LHC jet raw HDF5 format, shared by its reader and its writer.

Duarte et al., JINST 13 (2018) P07027; Zenodo 3602260 / 3602254 / 3601436. The ``jets``
dataset has the 53 jet features below, then the one-hot labels ``j_g, j_q, j_w, j_z, j_t``
(columns 53-57) and ``j_undef`` (column 58); ``jetConstituentList`` holds the first 16
particle features.
"""

from __future__ import annotations

from cern_ai_bench.data.schema import HLF_NAMES

#: The 53 jet features of the public files, in their published column order.
JET_FEATURE_NAMES: tuple[str, ...] = (
    "j_ptfrac",
    "j_pt",
    "j_eta",
    "j_mass",
    "j_tau1_b1",
    "j_tau2_b1",
    "j_tau3_b1",
    "j_tau1_b2",
    "j_tau2_b2",
    "j_tau3_b2",
    "j_tau32_b1",
    "j_tau32_b2",
    "j_zlogz",
    "j_c1_b0",
    "j_c1_b1",
    "j_c1_b2",
    "j_c2_b1",
    "j_c2_b2",
    "j_d2_b1",
    "j_d2_b2",
    "j_d2_a1_b1",
    "j_d2_a1_b2",
    "j_m2_b1",
    "j_m2_b2",
    "j_n2_b1",
    "j_n2_b2",
    "j_tau1_b1_mmdt",
    "j_tau2_b1_mmdt",
    "j_tau3_b1_mmdt",
    "j_tau1_b2_mmdt",
    "j_tau2_b2_mmdt",
    "j_tau3_b2_mmdt",
    "j_tau32_b1_mmdt",
    "j_tau32_b2_mmdt",
    "j_c1_b0_mmdt",
    "j_c1_b1_mmdt",
    "j_c1_b2_mmdt",
    "j_c2_b1_mmdt",
    "j_c2_b2_mmdt",
    "j_d2_b1_mmdt",
    "j_d2_b2_mmdt",
    "j_d2_a1_b1_mmdt",
    "j_d2_a1_b2_mmdt",
    "j_m2_b1_mmdt",
    "j_m2_b2_mmdt",
    "j_n2_b1_mmdt",
    "j_n2_b2_mmdt",
    "j_mass_trim",
    "j_mass_mmdt",
    "j_mass_prun",
    "j_mass_sdb2",
    "j_mass_sdm1",
    "j_multiplicity",
)

#: Columns of the 16 high-level features (:data:`~cern_ai_bench.data.schema.HLF_NAMES` order) in
#: ``jets``: 12, 34-46, 48, 52.
HLF_COLUMN_INDICES: tuple[int, ...] = tuple(
    JET_FEATURE_NAMES.index(f"j_{name}") for name in HLF_NAMES
)

#: One-hot label columns in canonical class order (:data:`~cern_ai_bench.data.schema.HLS4ML_CLASSES`).
LABEL_COLUMNS: tuple[str, ...] = ("j_g", "j_q", "j_w", "j_z", "j_t")

#: All 59 names of the ``jets`` dataset (``jetFeatureNames``).
JETS_COLUMN_NAMES: tuple[str, ...] = (*JET_FEATURE_NAMES, *LABEL_COLUMNS, "j_undef")

#: The 17 names of ``particleFeatureNames``; ``jetConstituentList`` holds the first 16.
PARTICLE_FEATURE_NAMES: tuple[str, ...] = (
    "j1_px",
    "j1_py",
    "j1_pz",
    "j1_e",
    "j1_erel",
    "j1_pt",
    "j1_ptrel",
    "j1_eta",
    "j1_etarel",
    "j1_etarot",
    "j1_phi",
    "j1_phirel",
    "j1_phirot",
    "j1_deltaR",
    "j1_costheta",
    "j1_costhetarel",
    "j1_pdgid",
)

#: Number of per-constituent columns stored in ``jetConstituentList``.
N_CONSTITUENT_COLUMNS = 16

#: The 16 high-level features as named in ``jetFeatureNames``.
HLF_COLUMNS: tuple[str, ...] = tuple(f"j_{name}" for name in HLF_NAMES)
#: Four-momentum features as named in ``particleFeatureNames``, in canonical (px, py, pz, E) order.
MOMENTUM_COLUMNS: tuple[str, ...] = ("j1_px", "j1_py", "j1_pz", "j1_e")
