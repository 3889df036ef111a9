"""Weakly supervised (CWoLa) and supervised classifier for dijet anomaly searches.

Classification without labels (Metodiev, Nachman, Thaler, JHEP 10 (2017) 174,
arXiv:1708.02949): a classifier trained to tell two mixed samples apart (here events in the mjj
signal region, label 1, from the sidebands, label 0) is, for enough data, the optimal classifier
of signal against background when the background's features do not depend on mjj; CWoLa
hunting (Collins, Howe, Nachman, PRL 121 (2018) 241803, arXiv:1805.02664) uses its output to
select SR events. The features must therefore exclude mjj; the CATHODE set (Hallin et al., PRD
106 (2022) 055006, arXiv:2109.00546) is ``mj_min, dmj, tau21(j_min), tau21(j_max)``
(:func:`cern_ai_bench.data.lhco_features.derived_features` without ``mjj``). Trained with truth
labels (1 = signal) the same network is the supervised reference.

Network as the classifiers of CATHODE (``HEPML-AnomalyDetection/CATHODE``, ``classifier.yml``,
``classifier.py``): 3 hidden layers of 64 with ReLU and one output; trained there with binary
cross entropy, Adam 1e-3, batch 128. Here the output is a logit and the loss is
``binary_cross_entropy_with_logits`` (numerically stable), the inputs are standardised with
statistics fitted on the training data (buffers, travel with the checkpoint), and the classes
can be weighted "balanced" (``w_c = N / (2 N_c)``, CATHODE's ``use_class_weights`` option via
``sklearn.utils.class_weight``), so a small SR does not collapse the output to 0. CATHODE's
further balancing of the lower against the upper sideband needs mjj and belongs to the task.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from cern_ai_bench.models.standardize import Standardize

__all__ = ["CWoLaClassifier", "CWoLaConfig", "cwola_default"]


@dataclass(frozen=True)
class CWoLaConfig:
    """Sizes of :class:`CWoLaClassifier`.

    Attributes:
        n_features: input features per event (4 for the CATHODE set without mjj).
        hidden_dims: widths of the hidden ReLU layers.
    """

    n_features: int = 4
    hidden_dims: tuple[int, ...] = (64, 64, 64)

    def __post_init__(self) -> None:
        if self.n_features < 1 or not self.hidden_dims or min(self.hidden_dims) < 1:
            raise ValueError(
                f"CWoLaConfig: need n_features >= 1 and hidden layers of width >= 1, got {self}"
            )


def _check_features(features: Tensor, n_features: int, where: str) -> None:
    if features.ndim != 2 or features.shape[1] != n_features:
        raise ValueError(
            f"{where}: expected features of shape (B, {n_features}), got {tuple(features.shape)}"
        )


def _check_labels(labels: Tensor, n: int, where: str) -> None:
    if labels.shape != (n,):
        raise ValueError(
            f"{where}: expected labels of shape ({n},) (1 = signal region / signal, 0 = "
            f"sideband / background), got {tuple(labels.shape)}"
        )


class CWoLaClassifier(nn.Module):
    """MLP with one logit: P(label 1 | features) = sigmoid(logit).

    Args:
        config: sizes; ``cwola_default(n_features)`` gives the CATHODE network.
    """

    #: Which canonical input ``forward`` takes: ``(B, F)`` features and ``(B,)`` labels.
    inputs: ClassVar[str] = "dijet_features"

    def __init__(self, config: CWoLaConfig | None = None) -> None:
        super().__init__()
        self.config = config = config or CWoLaConfig()
        n = config.n_features
        self.standardize = Standardize(torch.zeros(n), torch.ones(n))
        # Loss weights of label 0 and label 1 (1, 1 until fitted with balance=True).
        self.register_buffer("class_weights", torch.ones(2))
        self.register_buffer("fitted", torch.zeros((), dtype=torch.bool))
        layers: list[nn.Module] = []
        width = n
        for dim in config.hidden_dims:
            layers += [nn.Linear(width, dim), nn.ReLU()]
            width = dim
        layers.append(nn.Linear(width, 1))
        self.net = nn.Sequential(*layers)

    @torch.no_grad()
    def fit_preprocessing(
        self, features: Tensor, labels: Tensor | None = None, *, balance: bool = True
    ) -> None:
        """Fit the standardisation (and class weights) on the training split.

        Args:
            features: ``(N, F)`` training features (both labels together).
            labels: ``(N,)`` training labels in {0, 1}; with ``balance``, sets the class weights
                to ``N / (2 N_c)``. Without labels the weights stay 1.
            balance: weight the classes to equal total weight.

        Raises:
            ValueError: wrong shapes, fewer than 2 events, non-finite features, labels other
                than 0 and 1, or (with ``balance``) a label class that is absent.
        """
        _check_features(features, self.config.n_features, "CWoLaClassifier.fit_preprocessing")
        if features.shape[0] < 2:
            raise ValueError("CWoLaClassifier.fit_preprocessing: need at least 2 events")
        if not bool(torch.isfinite(features).all()):
            raise ValueError("CWoLaClassifier.fit_preprocessing: non-finite features")
        fitted = Standardize.fit(features.cpu())
        self.standardize.mean.copy_(fitted.mean)
        self.standardize.inv_std.copy_(fitted.inv_std)
        weights = torch.ones(2, dtype=torch.float64)
        if labels is not None:
            _check_labels(labels, features.shape[0], "CWoLaClassifier.fit_preprocessing")
            y = labels.cpu().double()
            if not bool(((y == 0) | (y == 1)).all()):
                raise ValueError("CWoLaClassifier.fit_preprocessing: labels must be 0 or 1")
            counts = torch.stack([(y == 0).sum(), (y == 1).sum()]).double()
            if balance:
                if bool((counts == 0).any()):
                    raise ValueError(
                        "CWoLaClassifier.fit_preprocessing: balance=True needs both labels, "
                        f"got {int(counts[0])} with label 0 and {int(counts[1])} with label 1"
                    )
                weights = counts.sum() / (2 * counts)
        self.class_weights.copy_(weights)
        self.fitted.fill_(True)

    def logits(self, features: Tensor) -> Tensor:
        """``(B,)`` float32 logits of raw ``(B, F)`` features (with gradients)."""
        _check_features(features, self.config.n_features, "CWoLaClassifier")
        return self.net(self.standardize(features.float())).float().squeeze(1)  # (B, 1) -> (B,)

    def forward(self, features: Tensor, labels: Tensor) -> Tensor:
        """Class-weighted mean binary cross entropy (scalar float32): the training loss.

        Args:
            features: ``(B, F)`` raw features.
            labels: ``(B,)`` 1 = signal region (or signal, supervised), 0 = sideband
                (background); any real dtype.
        """
        logit = self.logits(features)
        _check_labels(labels, logit.shape[0], "CWoLaClassifier")
        y = labels.to(logit.dtype)
        weight = torch.where(y > 0.5, self.class_weights[1], self.class_weights[0])
        return F.binary_cross_entropy_with_logits(logit, y, weight=weight)

    @torch.no_grad()
    def score(self, features: Tensor) -> Tensor:
        """``(B,)`` float32 logit, the anomaly score (monotonic in P(SR | x))."""
        if not bool(self.fitted):
            raise RuntimeError(
                "CWoLa classifier is not fitted: call fit_preprocessing(features, labels) on "
                "the training split (or load a checkpoint) first"
            )
        return self.logits(features)


def cwola_default(n_features: int = 4) -> CWoLaClassifier:
    """CATHODE's classifier, ``n_features`` -> 64 -> 64 -> 64 -> 1, ReLU: 8,705 parameters (F = 4)."""
    return CWoLaClassifier(CWoLaConfig(n_features=n_features))
