"""Trigger rates: background efficiency (FPR) <-> output rate at the LHC bunch-crossing rate.

A Level-1 trigger sees every bunch crossing; a selection that keeps a fraction ``FPR`` of the
(background-dominated) input fires at ``rate = FPR x R_in``. With the nominal 40 MHz crossing
rate, ADC2021's figure of merit FPR = 1e-5 is a 0.4 kHz trigger (Govorkova et al., Sci. Data 9,
118 (2022), arXiv:2107.02157; the CMS L1 accepts ~100 kHz in total). With real LHC filling
(~2500-2800 colliding bunches x 11.245 kHz revolution frequency, i.e. 28-31.6 MHz) pass that
``input_rate_hz`` instead. ADC2021 events are already lepton-filtered, so on them ``FPR x 40 MHz``
is a convention for comparing models, not a true L1 rate.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from numpy.typing import ArrayLike

from cern_ai_bench.metrics.anomaly import (
    DEFAULT_MIN_BACKGROUND,
    ONE_SIGMA,
    Threshold,
    threshold_at_fpr,
)

__all__ = [
    "LHC_BUNCH_CROSSING_RATE_HZ",
    "RateThreshold",
    "fpr_for_rate",
    "rate_khz",
    "threshold_for_rate",
]

#: Nominal LHC bunch-crossing rate (25 ns spacing), Hz.
LHC_BUNCH_CROSSING_RATE_HZ = 40e6


def _check_input_rate(input_rate_hz: float) -> float:
    r = float(input_rate_hz)
    if not (math.isfinite(r) and r > 0):
        raise ValueError(
            f"input_rate_hz: expected a positive finite rate in Hz, got {input_rate_hz!r}"
        )
    return r


def rate_khz(fpr: float, input_rate_hz: float = LHC_BUNCH_CROSSING_RATE_HZ) -> float:
    """Trigger output rate in kHz of a selection with false-positive rate ``fpr``.

    ``rate = fpr x input_rate_hz / 1000``; 1e-5 at 40 MHz -> 0.4 kHz.

    Args:
        fpr: background efficiency in [0, 1].
        input_rate_hz: rate of events reaching the selection, Hz (default 40 MHz).
    """
    f = float(fpr)
    if not (math.isfinite(f) and 0.0 <= f <= 1.0):
        raise ValueError(f"fpr: expected a false-positive rate in [0, 1], got {fpr!r}")
    return f * (_check_input_rate(input_rate_hz) / 1e3)


def fpr_for_rate(rate_khz: float, input_rate_hz: float = LHC_BUNCH_CROSSING_RATE_HZ) -> float:
    """False-positive rate that gives an output rate of ``rate_khz`` (inverse of :func:`rate_khz`).

    1 kHz at 40 MHz -> 2.5e-5; 100 kHz -> 2.5e-3.

    Raises:
        ValueError: ``rate_khz`` not positive, or not below the input rate (FPR would be >= 1).
    """
    r_in = _check_input_rate(input_rate_hz)
    r = float(rate_khz)
    if not (math.isfinite(r) and 0.0 < r * 1e3 < r_in):
        raise ValueError(
            f"rate_khz: expected a rate in (0, {r_in / 1e3:g}) kHz (below the input rate "
            f"{r_in:g} Hz), got {rate_khz!r}"
        )
    return r * 1e3 / r_in


@dataclass(frozen=True)
class RateThreshold(Threshold):
    """A :class:`~cern_ai_bench.metrics.anomaly.Threshold` chosen for a target trigger rate.

    Attributes (beyond ``Threshold``; ``target_fpr`` is ``fpr_for_rate(target_rate_khz)``):
        target_rate_khz: requested output rate, kHz.
        input_rate_hz: input (bunch-crossing) rate used for the conversion, Hz.
        achieved_rate_khz: ``achieved_fpr x input_rate_hz / 1000``, not above the target
            (up to float rounding).
    """

    target_rate_khz: float
    input_rate_hz: float
    achieved_rate_khz: float


def threshold_for_rate(
    bkg: ArrayLike,
    rate_khz: float,
    *,
    input_rate_hz: float = LHC_BUNCH_CROSSING_RATE_HZ,
    min_background: int = DEFAULT_MIN_BACKGROUND,
    cl: float = ONE_SIGMA,
) -> RateThreshold:
    """The score threshold that makes the background fire at no more than ``rate_khz``.

    The threshold at ``fpr_for_rate(rate_khz, input_rate_hz)`` as defined by
    :func:`~cern_ai_bench.metrics.anomaly.threshold_at_fpr` (same ranks, ties and
    not-measurable case). Apply it to a signal with
    :func:`~cern_ai_bench.metrics.anomaly.operating_point`.

    Args:
        bkg: ``(Nb,)`` background scores (a reference background, e.g. zero-bias-like events).
        rate_khz: target output rate, kHz.
        input_rate_hz: input rate, Hz (default 40 MHz).
        min_background: background count above the threshold required for ``reliable``.
        cl: confidence level of the FPR interval.
    """
    r_in = _check_input_rate(input_rate_hz)
    fpr = fpr_for_rate(rate_khz, r_in)
    t = threshold_at_fpr(bkg, fpr, min_background=min_background, cl=cl)
    return RateThreshold(
        **t.to_dict(),
        target_rate_khz=float(rate_khz),
        input_rate_hz=r_in,
        achieved_rate_khz=t.achieved_fpr * (r_in / 1e3),
    )
