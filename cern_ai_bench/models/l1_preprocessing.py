"""Inputs of the Level-1 anomaly detectors: ADC2021 events ``(B, 19, 4)`` to ``(B, 57)`` features.

The layout is :mod:`cern_ai_bench.data.l1_layout` (MET, 4 electrons, 4 muons, 10 jets; pT GeV,
eta, phi rad, class id). As the challenge's example code (``mpp-hep/ADC2021-examplecode``,
``input_shape=57``) and the FPGA autoencoder paper (Govorkova et al., Nat. Mach. Intell. 2022,
arXiv:2108.03986, code ``toa-p/l1_anomaly_ae``) do, the class column is dropped and the
19 x 3 values are flattened slot-major: ``[pT_0, eta_0, phi_0, pT_1, eta_1, phi_1, ...]``.

- **pT** becomes ``(t(pT) - mean) / std`` with ``t = log1p`` (default; pT spans 1 GeV to a few
  TeV and a log keeps the tails from dominating the squared error) or ``t = identity``
  (``log_pt=False``: the StandardScaler on pT of arXiv:2108.03986 and of the dataset authors'
  tutorial, ``thaarres/quantumUniverse_pynqZ2``, ``part1_ADmodel.ipynb``). Mean and standard
  deviation (ddof 0, as StandardScaler) are fitted per slot on the *filled* entries of the
  background training split only, and kept as buffers so they travel with the checkpoint. A
  slot with fewer than :data:`MIN_FIT_COUNT` filled training entries (the 4th muon, say) takes
  the pooled statistics of its object group, and a group with fewer takes mean 0, std 1.
- **eta, phi** stay in physical units, because the decoders bound their outputs by the detector
  acceptance (:meth:`L1Preprocessing.bound`): ``eta = eta_max tanh(.)`` with eta_max 3.0
  (electrons), 2.1 (muons), 4.0 (jets), and ``phi = pi tanh(.)`` (``toa-p/l1_anomaly_ae``,
  ``cnn/losses.py``). MET has no eta (0 in the files); its eta output is fixed to 0.
- **Empty slots** (pT <= 0; never the class id, which the public export leaves at 4 for removed
  jets, see :mod:`~cern_ai_bench.data.l1_layout`) read pT = 0, eta = phi = 0 whatever the file
  holds, so their pT feature is the constant ``(t(0) - mean) / std`` (lets the encoder count
  objects) and their eta and phi are 0. The feature mask is False for them and for MET eta
  (which carries nothing), so losses and scores ignore them, as the masked MSE of
  arXiv:2108.03986 does.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from cern_ai_bench.data.l1_layout import N_SLOTS, SLOTS

__all__ = ["ETA_MAX", "MIN_FIT_COUNT", "N_INPUTS", "L1Preprocessing"]

#: Values per slot fed to the networks (pT, eta, phi).
_N_VALUES = 3
#: Width of the flattened input: 19 slots x (pT, eta, phi).
N_INPUTS = N_SLOTS * _N_VALUES
#: |eta| acceptance per object group (arXiv:2108.03986, ``toa-p/l1_anomaly_ae:cnn/losses.py``);
#: MET has no eta.
ETA_MAX: dict[str, float] = {"met": 0.0, "electrons": 3.0, "muons": 2.1, "jets": 4.0}
#: Fewer filled training entries than this in a slot: use its group's pooled statistics.
MIN_FIT_COUNT = 10
#: Rows per chunk when fitting, to bound the memory of float64 sums over millions of events.
_FIT_CHUNK = 1 << 18


def _check_particles(particles: Tensor, where: str) -> None:
    if particles.ndim != 3 or particles.shape[1] != N_SLOTS or particles.shape[2] not in (3, 4):
        raise ValueError(
            f"{where}: expected L1 events of shape (B, {N_SLOTS}, 4) (pT, eta, phi, class) or "
            f"(B, {N_SLOTS}, 3), got {tuple(particles.shape)}"
        )


class L1Preprocessing(nn.Module):
    """``(B, 19, 4)`` events -> ``(x (B, 57) float32, mask (B, 57) bool)``.

    Args:
        log_pt: transform pT with ``log1p`` before standardising (True) or standardise pT
            itself (False, the published StandardScaler).
    """

    def __init__(self, log_pt: bool = True) -> None:
        super().__init__()
        self.log_pt = log_pt
        self.register_buffer("pt_mean", torch.zeros(N_SLOTS))
        self.register_buffer("pt_std", torch.ones(N_SLOTS))
        self.register_buffer("fitted", torch.zeros((), dtype=torch.bool))
        # Constants of the layout, so not part of the state dict.
        limit = torch.ones(N_SLOTS, _N_VALUES)  # pT column: unbounded (placeholder 1)
        bounded = torch.zeros(N_SLOTS, _N_VALUES, dtype=torch.bool)
        for group, slots in SLOTS.items():
            limit[slots.start : slots.stop, 1] = ETA_MAX[group]
        limit[:, 2] = math.pi
        bounded[:, 1:] = True
        informative = torch.ones(N_SLOTS, _N_VALUES, dtype=torch.bool)
        informative[SLOTS["met"].start, 1] = False  # MET eta
        self.register_buffer("limit", limit.reshape(N_INPUTS), persistent=False)
        self.register_buffer("bounded", bounded.reshape(N_INPUTS), persistent=False)
        self.register_buffer("informative", informative.reshape(N_INPUTS), persistent=False)

    @property
    def n_features(self) -> int:
        return N_INPUTS

    def _transform_pt(self, pt: Tensor) -> Tensor:
        return torch.log1p(pt) if self.log_pt else pt

    @torch.no_grad()
    def fit(self, particles: Tensor) -> None:
        """Fit the pT standardisation on the background training split ``(N, 19, 4)``.

        Raises:
            ValueError: wrong shape, no events, or non-finite pT, eta or phi.
        """
        _check_particles(particles, "L1Preprocessing.fit")
        n = particles.shape[0]
        if n == 0:
            raise ValueError("L1Preprocessing.fit: no events to fit on")
        count = torch.zeros(N_SLOTS, dtype=torch.float64)
        s1 = torch.zeros(N_SLOTS, dtype=torch.float64)
        s2 = torch.zeros(N_SLOTS, dtype=torch.float64)
        for start in range(0, n, _FIT_CHUNK):
            chunk = particles[start : start + _FIT_CHUNK, :, :_N_VALUES].double().cpu()
            if not bool(torch.isfinite(chunk).all()):
                bad = int((~torch.isfinite(chunk)).flatten(1).any(1).nonzero()[0]) + start
                raise ValueError(
                    f"L1Preprocessing.fit: non-finite pT, eta or phi in event {bad}; clean the "
                    "training split first"
                )
            pt = chunk[..., 0]
            filled = pt > 0
            t = torch.where(filled, self._transform_pt(pt.clamp_min(0)), 0.0)
            count += filled.sum(0)
            s1 += t.sum(0)
            s2 += t.square().sum(0)
        mean = torch.zeros(N_SLOTS, dtype=torch.float64)
        var = torch.ones(N_SLOTS, dtype=torch.float64)
        for slots in SLOTS.values():
            sl = slice(slots.start, slots.stop)
            group_n = count[sl].sum()
            if group_n >= MIN_FIT_COUNT:  # pooled group statistics as the fallback
                mean[sl] = s1[sl].sum() / group_n
                var[sl] = s2[sl].sum() / group_n - mean[sl] ** 2
        own = count >= MIN_FIT_COUNT
        safe_n = count.clamp_min(1)
        mean = torch.where(own, s1 / safe_n, mean)
        var = torch.where(own, s2 / safe_n - (s1 / safe_n) ** 2, var)
        std = var.clamp_min(0).sqrt()
        std = torch.where(std > 1e-6, std, torch.ones_like(std))  # constant pT: only shift
        self.pt_mean.copy_(mean.to(self.pt_mean))
        self.pt_std.copy_(std.to(self.pt_std))
        self.fitted.fill_(True)

    def check_fitted(self) -> None:
        """RuntimeError unless :meth:`fit` has run (or a fitted state dict was loaded)."""
        if not bool(self.fitted):
            raise RuntimeError(
                "L1 preprocessing is not fitted: call fit_preprocessing(particles) on the "
                "background training split (or load a checkpoint) first"
            )

    def forward(self, particles: Tensor) -> tuple[Tensor, Tensor]:
        """Features and mask of ``particles`` ``(B, 19, 4)`` (or ``(B, 19, 3)``).

        Returns:
            ``x`` ``(B, 57)`` float32 (standardised pT, eta, phi per slot, slot-major) and
            ``mask`` ``(B, 57)`` bool: True for the pT, eta and phi of filled slots (pT > 0),
            except MET eta.
        """
        _check_particles(particles, "L1Preprocessing")
        p = particles[..., :_N_VALUES].float()
        pt = p[..., 0]
        filled = pt > 0  # (B, 19); NaN in an empty slot reads as empty
        t = self._transform_pt(torch.where(filled, pt, 0.0))
        z = (t - self.pt_mean) / self.pt_std
        eta = torch.where(filled, p[..., 1], 0.0)
        phi = torch.where(filled, p[..., 2], 0.0)
        x = torch.stack([z, eta, phi], dim=-1).flatten(1)  # (B, 19, 3) -> (B, 57)
        mask = filled.repeat_interleave(_N_VALUES, dim=1) & self.informative
        x = torch.where(self.informative, x, 0.0)  # MET eta
        return x, mask

    def bound(self, raw: Tensor) -> Tensor:
        """Decoder output ``(B, 57)`` -> reconstruction in feature space.

        pT stays as is (standardised); eta becomes ``eta_max tanh(raw)`` per object group (0 for
        MET) and phi ``pi tanh(raw)``, so reconstructions respect the acceptance.
        """
        return torch.where(self.bounded, self.limit * torch.tanh(raw), raw)

    def extra_repr(self) -> str:
        return f"log_pt={self.log_pt}"
