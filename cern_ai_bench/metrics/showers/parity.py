"""Check that this package's shower metrics reproduce the official CaloChallenge 2022 code.

Usage::

    python -m cern_ai_bench.metrics.showers.parity --official-code DIR --dataset 2 GEN.hdf5 REF.hdf5

``DIR`` is the ``code/`` folder of a checkout or export of github.com/CaloChallenge/homepage
(``HighLevelFeatures.py``, ``XMLHandler.py``, ``evaluate.py``, ``evaluate_plotting_helper.py``,
``resnet.py`` and the binning XML files); it is imported at run time and never shipped with this
package. Both files are read and thresholded as ``evaluate.py`` does, then both implementations
compute, for each file, every high-level feature, the ``cls-high`` and ``cls-low`` classifier
inputs, and the separation power of every histogram (the official side by calling the plotting
helper's functions in ``hist-chi`` mode, which write the values to a text file). A table of the
largest differences is printed; the exit code is 1 when any value differs by more than the
tolerance (``|a - b| / max(1, |b|)``, default 1e-6), 2 on bad input.

Official histograms with no entry give NaN there and a defined value here (see
:mod:`~cern_ai_bench.metrics.showers.separation`); they are listed, not counted as failures.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import importlib.util
import io
import math
import re
import sys
import tempfile
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType, SimpleNamespace

import h5py
import numpy as np

from cern_ai_bench.data.calo_geometry import CaloGeometry, get_geometry, parse_binning_xml
from cern_ai_bench.metrics.showers.classifier_network import classifier_inputs
from cern_ai_bench.metrics.showers.hlf import (
    ShowerFeatures,
    apply_threshold,
    cls_high_features,
    high_level_features,
)
from cern_ai_bench.metrics.showers.separation import histogram_family, separation_powers

__all__ = ["ParityRow", "compare_with_official", "main"]

#: evaluate.py's dataset names -> (embedded geometry, particle of the binning file).
DATASETS: dict[str, tuple[str, str]] = {
    "1-photons": ("ds1_photons", "photon"),
    "1-pions": ("ds1_pions", "pion"),
    "2": ("ds2", "electron"),
    "3": ("ds3", "electron"),
}

#: Titles in the official ``histogram_chi2_*.txt`` -> names of :func:`separation_powers`.
_TITLE_PATTERNS: tuple[tuple[str, str], ...] = (
    (r"Etot / Einc at E = ([0-9.e+]+)", "E_ratio_E{}"),
    (r"Etot / Einc", "E_ratio"),
    (r"E layer (\d+)", "E_layer_{}"),
    (r"EC Eta layer (\d+)", "EC_eta_{}"),
    (r"EC Phi layer (\d+)", "EC_phi_{}"),
    (r"Width Eta layer (\d+)", "W_eta_{}"),
    (r"Width Phi layer (\d+)", "W_phi_{}"),
    (r"EC r layer (\d+)", "EC_r_{}"),
    (r"Width r layer (\d+)", "W_r_{}"),
    (r"Sparsity layer (\d+)", "sparsity_{}"),
    (r"Voxel distribution", "voxel_energy"),
)


@dataclass(frozen=True)
class ParityRow:
    """One compared quantity: how many values, the largest differences, pass or fail."""

    name: str
    count: int
    max_abs: float
    max_rel: float
    scaled: float  # max |a - b| / max(1, |b|), the tested number
    note: str = ""

    def passed(self, tolerance: float) -> bool:
        return self.scaled <= tolerance


def _difference(name: str, ours: np.ndarray, official: np.ndarray) -> ParityRow:
    a = np.asarray(ours, dtype=np.float64).reshape(-1)
    b = np.asarray(official, dtype=np.float64).reshape(-1)
    if a.shape != b.shape:
        return ParityRow(
            name, b.size, math.inf, math.inf, math.inf, f"shape {a.shape} != {b.shape}"
        )
    nan_a, nan_b = np.isnan(a), np.isnan(b)
    if not np.array_equal(nan_a, nan_b):
        return ParityRow(name, b.size, math.inf, math.inf, math.inf, "NaN at different places")
    count = int(b.size)
    a, b = a[~nan_a], b[~nan_b]
    if a.size == 0:
        return ParityRow(name, count, 0.0, 0.0, 0.0, "all NaN")
    diff = np.abs(a - b)
    nonzero = b != 0
    rel = float((diff[nonzero] / np.abs(b[nonzero])).max()) if nonzero.any() else 0.0
    scaled = float((diff / np.maximum(1.0, np.abs(b))).max())
    return ParityRow(name, count, float(diff.max()), rel, scaled)


def _merge(name: str, rows: list[ParityRow]) -> ParityRow:
    """One row for a family (e.g. all ``E_layer_*``): the worst differences."""
    return ParityRow(
        name,
        sum(r.count for r in rows),
        max(r.max_abs for r in rows),
        max(r.max_rel for r in rows),
        max(r.scaled for r in rows),
        "; ".join(sorted({r.note for r in rows if r.note})),
    )


@contextlib.contextmanager
def _official_modules(code_dir: Path) -> Iterator[SimpleNamespace]:
    """Import the official modules from ``code_dir`` without letting them change this process:
    ``evaluate.py`` sets torch's default dtype to float64 and LaTeX rendering at import."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import torch

    dtype = torch.get_default_dtype()
    sys.path.insert(0, str(code_dir))
    try:
        # The rc changes evaluate.py makes at import end with this block.
        with matplotlib.rc_context(), contextlib.redirect_stdout(io.StringIO()):
            hlf = importlib.import_module("HighLevelFeatures")
            helper = importlib.import_module("evaluate_plotting_helper")
            spec = importlib.util.spec_from_file_location(
                "calochallenge_evaluate", code_dir / "evaluate.py"
            )
            assert spec is not None and spec.loader is not None
            evaluate: ModuleType = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(evaluate)
        torch.set_default_dtype(dtype)
        yield SimpleNamespace(hlf=hlf, helper=helper, evaluate=evaluate, plt=plt)
    finally:
        torch.set_default_dtype(dtype)
        sys.path.remove(str(code_dir))
        plt.close("all")


def _check_code_dir(code_dir: Path, dataset: str) -> Path:
    """The binning file of ``dataset`` in ``code_dir``; FileNotFoundError naming what is missing."""
    xml = f"binning_dataset_{dataset.replace('-', '_')}.xml"
    needed = ("HighLevelFeatures.py", "XMLHandler.py", "evaluate.py", "evaluate_plotting_helper.py")
    missing = [f for f in (*needed, xml) if not (code_dir / f).is_file()]
    if missing:
        raise FileNotFoundError(
            f"{code_dir} is not the code/ folder of CaloChallenge/homepage: missing {missing}"
        )
    return code_dir / xml


def _read(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """``(showers, incident_energies)`` as ``evaluate.py`` reads them (file dtype, (N, 1))."""
    with h5py.File(path, "r") as f:
        return f["showers"][:], f["incident_energies"][:]


def _official_features(hlf) -> dict[str, np.ndarray]:
    out = {"E_tot": hlf.GetEtot()}
    for family, values in (
        ("E_layer", hlf.GetElayers()),
        ("EC_r", hlf.GetECR()),
        ("W_r", hlf.GetWidthR()),
        ("sparsity", hlf.GetSparsity()),
        ("EC_eta", hlf.GetECEtas()),
        ("EC_phi", hlf.GetECPhis()),
        ("W_eta", hlf.GetWidthEtas()),
        ("W_phi", hlf.GetWidthPhis()),
    ):
        out |= {f"{family}_{layer}": v for layer, v in values.items()}
    return out


def _our_features(features: ShowerFeatures) -> dict[str, np.ndarray]:
    out = {"E_tot": features.E_tot}
    for family in ("E_layer", "EC_r", "W_r", "sparsity", "EC_eta", "EC_phi", "W_eta", "W_phi"):
        out |= {f"{family}_{layer}": v for layer, v in getattr(features, family).items()}
    return out


def _official_separation(official, gen_hlf, ref_hlf, gen_showers, ref_showers, args) -> dict:
    """Run the helper's histogram functions in ``hist-chi`` mode; parse the values they write."""
    helper = official.helper
    functions = [
        helper.plot_Etot_Einc,
        helper.plot_E_layers,
        helper.plot_ECEtas,
        helper.plot_ECPhis,
        helper.plot_ECWidthEtas,
        helper.plot_ECWidthPhis,
        helper.plot_sparsity,
        helper.plot_ECR,
        helper.plot_ECWidthR,
    ]
    if args.dataset.startswith("1"):
        functions.append(helper.plot_Etot_Einc_discrete)
    # The official functions print, and warn about empty histograms and log axes: not ours.
    with (
        contextlib.redirect_stdout(io.StringIO()),
        np.errstate(all="ignore"),
        warnings.catch_warnings(),
    ):
        warnings.simplefilter("ignore")
        for function in functions:
            function(gen_hlf, ref_hlf, args)
        helper.plot_cell_dist(gen_showers, ref_showers, args)
    text = (Path(args.output_dir) / f"histogram_chi2_{args.dataset}.txt").read_text()
    values: dict[str, float] = {}
    for title, value in re.findall(r"^(.*?): \n(\S+)\n", text, flags=re.MULTILINE):
        for pattern, name in _TITLE_PATTERNS:
            match = re.fullmatch(pattern, title.strip())
            if match:
                groups = [str(int(float(g))) for g in match.groups()]
                values[name.format(*groups)] = float(value)
                break
        else:
            raise ValueError(f"unexpected title {title!r} in the official separation-power file")
    return values


def compare_with_official(
    code_dir: str | Path,
    dataset: str,
    generated_file: str | Path,
    reference_file: str | Path,
) -> tuple[list[ParityRow], list[str]]:
    """Compute every feature, classifier input and separation power both ways.

    Returns:
        The rows (worst difference per quantity family) and notes (histograms where the
        official value is NaN, geometry checks).
    """
    code_dir = Path(code_dir)
    geometry_name, particle = DATASETS[dataset]
    geometry: CaloGeometry = get_geometry(geometry_name)
    xml = _check_code_dir(code_dir, dataset)
    notes = []
    parsed = parse_binning_xml(xml, particle)
    if parsed.layers != geometry.layers:
        raise ValueError(f"{xml}: binning differs from the embedded geometry {geometry_name}")
    notes.append(f"binning {xml.name} equals the embedded geometry {geometry_name}")

    files = {"gen": Path(generated_file), "ref": Path(reference_file)}
    raw = {key: _read(path) for key, path in files.items()}
    rows: dict[str, list[ParityRow]] = {}

    def add(family: str, row: ParityRow) -> None:
        rows.setdefault(family, []).append(row)

    with _official_modules(code_dir) as official, tempfile.TemporaryDirectory() as tmp:
        min_energy = {"1-photons": 1.0, "1-pions": 1.0, "2": 0.5e-3 / 0.033, "3": 0.5e-3 / 0.033}
        args = SimpleNamespace(
            dataset=dataset,
            mode="hist-chi",
            output_dir=tmp,
            x_scale="log",
            min_energy=min_energy[dataset],
        )
        official_hlf, ours, thresholded = {}, {}, {}
        for key, (showers, energy) in raw.items():
            # evaluate.py: np.where(shower < args.min_energy, np.zeros_like(shower), shower)
            thr = np.where(showers < args.min_energy, np.zeros_like(showers), showers)
            mine = apply_threshold(showers, geometry)
            add("threshold", _difference(f"threshold {key}", mine, thr))
            thresholded[key] = thr
            hlf = official.hlf.HighLevelFeatures(particle, filename=str(xml))
            hlf.CalculateFeatures(thr)
            hlf.Einc = energy
            official_hlf[key] = hlf
            ours[key] = high_level_features(mine, energy, geometry)
            theirs = _official_features(hlf)
            own = _our_features(ours[key])
            if set(theirs) != set(own):
                raise ValueError(f"feature sets differ: {sorted(set(theirs) ^ set(own))}")
            for name in theirs:
                add(
                    name.rstrip("0123456789").rstrip("_"),
                    _difference(name, own[name], theirs[name]),
                )
            with h5py.File(files[key], "r") as handle, contextlib.redirect_stdout(io.StringIO()):
                high = official.evaluate.prepare_high_data_for_classifier(
                    handle, hlf, 0.0, threshold=args.min_energy
                )[:, :-1]
                low = official.evaluate.prepare_low_data_for_classifier(
                    handle, hlf, 0.0, normed=False, threshold=args.min_energy
                )[:, :-1]
            add("cls_high", _difference(f"cls_high {key}", cls_high_features(ours[key]), high))
            add(
                "cls_low",
                _difference(
                    f"cls_low {key}", classifier_inputs(showers, energy, geometry, "low"), low
                ),
            )
        theirs_sep = _official_separation(
            official,
            official_hlf["gen"],
            official_hlf["ref"],
            thresholded["gen"],
            thresholded["ref"],
            args,
        )
    own_sep = separation_powers(ours["ref"], ours["gen"], geometry)
    for name, value in theirs_sep.items():
        if math.isnan(value):
            notes.append(
                f"official separation {name} is NaN (empty histogram); ours {own_sep.get(name)}"
            )
            continue
        if name not in own_sep:
            add("separation", ParityRow(name, 1, math.inf, math.inf, math.inf, "missing here"))
            continue
        family = "sep " + histogram_family(name)
        add(family, _difference(name, np.array([own_sep[name]]), np.array([value])))
    extra = sorted(set(own_sep) - set(theirs_sep))
    if extra:
        notes.append(f"computed here only: {extra}")
    return [_merge(family, family_rows) for family, family_rows in rows.items()], notes


def _table(rows: list[ParityRow], tolerance: float) -> str:
    header = f"{'quantity':<16} {'values':>10} {'max abs diff':>14} {'max rel diff':>14}  status"
    lines = [header, "-" * len(header)]
    for r in rows:
        status = "ok" if r.passed(tolerance) else "FAIL"
        note = f"  ({r.note})" if r.note else ""
        lines.append(
            f"{r.name:<16} {r.count:>10} {r.max_abs:>14.3e} {r.max_rel:>14.3e}  {status}{note}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; returns the exit code (0 parity, 1 differences, 2 bad input)."""
    parser = argparse.ArgumentParser(
        prog="python -m cern_ai_bench.metrics.showers.parity",
        description="Compare the shower metrics with the official CaloChallenge 2022 code.",
    )
    parser.add_argument("generated", type=Path, help="generated showers (CaloChallenge HDF5)")
    parser.add_argument("reference", type=Path, help="reference showers (CaloChallenge HDF5)")
    parser.add_argument(
        "--official-code",
        type=Path,
        required=True,
        help="code/ folder of github.com/CaloChallenge/homepage",
    )
    parser.add_argument("--dataset", "-d", choices=sorted(DATASETS), required=True)
    parser.add_argument("--tolerance", type=float, default=1e-6)
    args = parser.parse_args(argv)
    try:
        rows, notes = compare_with_official(
            args.official_code, args.dataset, args.generated, args.reference
        )
    except (OSError, ValueError, KeyError) as exc:
        sys.stderr.write(f"parity: {exc}\n")
        return 2
    sys.stdout.write(_table(rows, args.tolerance) + "\n")
    for note in notes:
        sys.stdout.write(f"note: {note}\n")
    failed = [r.name for r in rows if not r.passed(args.tolerance)]
    if failed:
        sys.stdout.write(f"FAILED (tolerance {args.tolerance:g}): {', '.join(failed)}\n")
        return 1
    sys.stdout.write(f"all {len(rows)} quantities agree within {args.tolerance:g}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
