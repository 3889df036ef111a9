"""The public files of the jet and shower datasets: URLs and checksum policy (tested).

No checksum of these files is published in any source we could check, so none is pinned here
(``checksum=None``). Each entry names the API that publishes the MD5 next to the file; it is
read at download time and the verified SHA-256 is stored in a ``.sha256`` sidecar, so later
loads verify offline. Pin a checksum here only after checking it against the live record, and
record it in the dataset card.

Dataset cards: ``datasets/hls4ml.md``, ``datasets/hls4ml_openml.md``, ``datasets/top_tagging.md``,
``datasets/calochallenge.md``, ``datasets/adc2021.md``, ``datasets/lhco_rnd.md``.
"""

from __future__ import annotations

from cern_ai_bench.data.remote import RemoteFile

ZENODO_RECORD_API = "https://zenodo.org/api/records/{record}"
OPENML_DATA_API = "https://www.openml.org/api/v1/json/data/{data_id}"

#: hls4ml LHC jets, up to 150 constituents per jet (Duarte et al., JINST 13 (2018) P07027).
HLS4ML_RECORD = 3602260
HLS4ML_TARBALLS: dict[str, RemoteFile] = {
    split: RemoteFile(
        filename=f"hls4ml_LHCjet_150p_{split}.tar.gz",
        urls=(
            f"https://zenodo.org/records/{HLS4ML_RECORD}/files/hls4ml_LHCjet_150p_{split}.tar.gz",
        ),
        metadata_url=ZENODO_RECORD_API.format(record=HLS4ML_RECORD),
        metadata_kind="zenodo",
        landing_page=f"https://zenodo.org/records/{HLS4ML_RECORD}",
    )
    for split in ("train", "val")
}

#: The 16-feature flat copy on OpenML. The numeric id is UNVERIFIED (from third-party
#: READMEs); the description's ``name`` is checked at download time, so a wrong id fails
#: loudly instead of fetching another dataset.
OPENML_NAME = "hls4ml_lhc_jets_hlf"
OPENML_DATA_ID = 42468
OPENML_ARFF = RemoteFile(
    filename=f"{OPENML_NAME}.arff",
    urls=(),  # the ARFF URL (with its file id) comes from the data description
    metadata_url=OPENML_DATA_API.format(data_id=OPENML_DATA_ID),
    metadata_kind="openml",
    remote_name=OPENML_NAME,
    landing_page=f"https://www.openml.org/d/{OPENML_DATA_ID}",
)

#: Top Quark Tagging Reference Dataset (Kasieczka et al., SciPost Phys. 7, 014 (2019)).
TOP_TAGGING_RECORD = 2603256
TOP_TAGGING_FILES: dict[str, RemoteFile] = {
    split: RemoteFile(
        filename=f"{split}.h5",
        urls=(f"https://zenodo.org/records/{TOP_TAGGING_RECORD}/files/{split}.h5",),
        metadata_url=ZENODO_RECORD_API.format(record=TOP_TAGGING_RECORD),
        metadata_kind="zenodo",
        landing_page=f"https://zenodo.org/records/{TOP_TAGGING_RECORD}",
    )
    for split in ("train", "val", "test")
}


#: CaloChallenge 2022 (Krause et al., arXiv:2410.21611), https://calochallenge.github.io/homepage/.
#: Dataset 1 v2 (pions regenerated without doubled showers; the older record 6368338 is
#: superseded), dataset 2 and dataset 3: the version records that the challenge's README DOIs
#: (concept DOIs 10.5281/zenodo.6366270 and 6366323) resolve to, as used by the Geant4 Par04 README.
CALOCHALLENGE_RECORDS: dict[int, tuple[str, ...]] = {
    8099322: (
        "dataset_1_photons_1.hdf5",
        "dataset_1_photons_2.hdf5",
        "dataset_1_pions_1.hdf5",
        "dataset_1_pions_2.hdf5",
    ),
    6366271: ("dataset_2_1.hdf5", "dataset_2_2.hdf5"),
    6366324: ("dataset_3_1.hdf5", "dataset_3_2.hdf5", "dataset_3_3.hdf5", "dataset_3_4.hdf5"),
}
CALOCHALLENGE_FILES: dict[str, RemoteFile] = {
    name: RemoteFile(
        filename=name,
        urls=(f"https://zenodo.org/records/{record}/files/{name}",),
        metadata_url=ZENODO_RECORD_API.format(record=record),
        metadata_kind="zenodo",
        landing_page=f"https://zenodo.org/records/{record}",
    )
    for record, names in CALOCHALLENGE_RECORDS.items()
    for name in names
}


#: ADC2021, "LHC dataset for unsupervised new-physics detection at 40 MHz" (Govorkova et al.,
#: Sci. Data 9, 118 (2022), arXiv:2107.02157; https://mpp-hep.github.io/ADC2021/, whose
#: "update Zenodo links" commit of 2022-10-06 gives the current records). Sample -> (current
#: record, superseded record).
ADC2021_RECORDS: dict[str, tuple[int, int]] = {
    "background": (5046428, 5046389),
    "blackbox": (5072068, 5070455),
    "ato4l": (7152590, 5046446),
    "leptoquark": (7152599, 5055454),
    "h0_tautau": (7152614, 5061633),
    "hplus_taunu": (7152617, 5061688),
}
#: Sample -> published file names, the current generation first, and the record each name is
#: downloaded from / verified against. The challenge page names no files; the mapping is
#: inferred (UNVERIFIED): the July 2021 example code reads the plain signal names (only the
#: superseded records existed then), later code reads the ``_filtered`` ones; both black-box
#: names are assumed to be in the current record (tried in order).
ADC2021_SAMPLE_FILES: dict[str, tuple[tuple[str, int], ...]] = {
    "background": (("background_for_training.h5", 5046428),),
    "blackbox": (("BlackBox_background_mix.h5", 5072068), ("BlackBox_13TeV_PU20.h5", 5072068)),
    "ato4l": (
        ("Ato4l_lepFilter_13TeV_filtered.h5", 7152590),
        ("Ato4l_lepFilter_13TeV.h5", 5046446),
    ),
    "leptoquark": (
        ("leptoquark_LOWMASS_lepFilter_13TeV_filtered.h5", 7152599),
        ("leptoquark_LOWMASS_lepFilter_13TeV.h5", 5055454),
    ),
    "h0_tautau": (
        ("hToTauTau_13TeV_PU20_filtered.h5", 7152614),
        ("hToTauTau_13TeV_PU20.h5", 5061633),
    ),
    "hplus_taunu": (
        ("hChToTauNu_13TeV_PU20_filtered.h5", 7152617),
        ("hChToTauNu_13TeV_PU20.h5", 5061688),
    ),
}
#: File name -> its registry entry (MD5 from the record API at download time, as above).
ADC2021_FILES: dict[str, RemoteFile] = {
    name: RemoteFile(
        filename=name,
        urls=(f"https://zenodo.org/records/{record}/files/{name}",),
        metadata_url=ZENODO_RECORD_API.format(record=record),
        metadata_kind="zenodo",
        landing_page=f"https://zenodo.org/records/{record}",
    )
    for files in ADC2021_SAMPLE_FILES.values()
    for name, record in files
}


#: LHC Olympics 2020 R&D dataset (Kasieczka, Nachman, Shih et al., Rep. Prog. Phys. 84 (2021)
#: 124201, arXiv:2101.08320; https://lhco2020.github.io/homepage/): 1 M QCD dijets + 100 k
#: W' -> X Y signal events, raw particles (``datasets/lhco_rnd.md``). Record 4536377 holds the
#: raw file and the organisers' high-level-features file; the ``_v2`` raw file is named by
#: third-party scripts in the re-upload record 6466204 (UNVERIFIED, checked against the record's
#: file list at download time).
LHCO_RND_RECORD = 4536377
LHCO_RND_RAW = "events_anomalydetection.h5"
LHCO_RND_RAW_V2 = "events_anomalydetection_v2.h5"
LHCO_RND_FEATURES = "events_anomalydetection_v2.features.h5"
LHCO_RND_FILES: dict[str, RemoteFile] = {
    name: RemoteFile(
        filename=name,
        urls=(f"https://zenodo.org/records/{record}/files/{name}",),
        metadata_url=ZENODO_RECORD_API.format(record=record),
        metadata_kind="zenodo",
        landing_page=f"https://zenodo.org/records/{record}",
    )
    for name, record in (
        (LHCO_RND_RAW, LHCO_RND_RECORD),
        (LHCO_RND_FEATURES, LHCO_RND_RECORD),
        (LHCO_RND_RAW_V2, 6466204),
    )
}
