"""The DNN classifier test of the CaloChallenge 2022: how well can a network tell generated
showers from reference showers?

What ``evaluate.py`` (CaloChallenge/homepage, commit 9b41df7, modes ``cls-low`` and ``cls-high``)
does, and this module repeats:

* inputs: ``low`` = ``[log10 E_inc, E_v / E_inc]`` per shower from thresholded voxels
  (``prepare_low_data_for_classifier``); ``high`` = the high-level feature vector
  (:func:`~cern_ai_bench.metrics.showers.hlf.cls_high_features`); label 0 = generated,
  1 = reference;
* split: each sample separately into train / test / validation (0.6 / 0.2 / 0.2; the official
  code uses fixed counts per dataset that equal these fractions for datasets 2 and 3), so both
  samples must have the same size;
* network: in-2048-2048-2048-1 with LeakyReLU (slope 0.01), no dropout; BCE with logits, Adam
  at lr 2e-4, batch 1000, 50 epochs;
* model selection: after every epoch the accuracy on the *test* part is computed; the weights of
  the best epoch (strictly better than all earlier ones) are kept, and training stops early at
  accuracy 1;
* final numbers, on the *validation* part: the classifier's probabilities are calibrated by
  isotonic regression fitted on the test part (``IsotonicRegression(out_of_bounds="clip",
  y_min=1e-6, y_max=1 - 1e-6)``); the reported AUC is ``roc_auc_score`` of the calibrated
  probabilities and ``JSD = (ln 2 - BCE) / ln 2`` with BCE the binary cross-entropy of the
  calibrated probabilities (0 for indistinguishable samples, 1 for perfectly separated ones).

Differences, all deliberate: training runs through the project's one training loop
(:func:`cern_ai_bench.engine.train`, AdamW with weight decay 0 and a constant learning rate, which
is Adam), in float32 (the official code sets float64 as torch's default dtype); batches are
drawn without the last partial batch (none for the default sizes); the split is seeded
(``seed + repeat``), the official one is not. Published numbers are the mean and standard
deviation of 10 trainings; :func:`classifier_test` returns both and every repeat's values.

The inputs, the network and its engine task are in
:mod:`cern_ai_bench.metrics.showers.classifier_network`; this module is the protocol around them.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import asdict, dataclass

import numpy as np
import torch
from sklearn.isotonic import IsotonicRegression
from sklearn.metrics import roc_auc_score
from torch import nn

from cern_ai_bench.config import Loader, TrainerConfig
from cern_ai_bench.data.calo_geometry import CaloGeometry
from cern_ai_bench.metrics.showers.classifier_network import (
    ClassifierTask,
    classifier_inputs,
    classifier_logits,
)

__all__ = [
    "ClassifierResult",
    "calibrated_scores",
    "classifier_test",
    "split_indices",
]

log = logging.getLogger(__name__)

#: Fractions of each sample used for training, model selection ("test") and the final score.
DEFAULT_SPLIT: tuple[float, float, float] = (0.6, 0.2, 0.2)


def split_indices(
    n: int, rng: np.random.Generator, split: tuple[float, float, float] = DEFAULT_SPLIT
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Shuffled train / test / validation indices of one sample of ``n`` (``ttv_split``):
    ``int(n * split[0])`` and ``int(n * split[1])`` events, the rest for validation."""
    counts = (n * np.asarray(split)).astype(int)
    if counts[0] < 1 or counts[1] < 1 or n - counts[0] - counts[1] < 1:
        raise ValueError(f"split {split} of {n} showers leaves an empty part: {counts}")
    order = rng.permutation(n)
    return (
        order[: counts[0]],
        order[counts[0] : counts[0] + counts[1]],
        order[counts[0] + counts[1] :],
    )


@dataclass(frozen=True)
class ClassifierResult:
    """Scores of N classifier trainings (one per repeat, each on a reshuffled split).

    ``auc`` and ``jsd`` are the official final numbers (calibrated, on the validation part);
    ``auc_uncalibrated`` is the AUC of the raw network output there; ``best_epoch`` counts from 1.
    Means and standard deviations are over the repeats (``np.std``, ddof 0).
    """

    mode: str
    auc: tuple[float, ...]
    jsd: tuple[float, ...]
    auc_uncalibrated: tuple[float, ...]
    accuracy: tuple[float, ...]
    best_epoch: tuple[int, ...]
    seconds_per_epoch: tuple[float, ...]
    n_train: int
    n_test: int
    n_val: int

    @property
    def auc_mean(self) -> float:
        return float(np.mean(self.auc))

    @property
    def auc_std(self) -> float:
        return float(np.std(self.auc))

    @property
    def jsd_mean(self) -> float:
        return float(np.mean(self.jsd))

    @property
    def jsd_std(self) -> float:
        return float(np.std(self.jsd))

    def as_dict(self) -> dict[str, object]:
        """Plain JSON-ready dict: every field plus the means and standard deviations."""
        out: dict[str, object] = {
            k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()
        }
        out |= {
            "auc_mean": self.auc_mean,
            "auc_std": self.auc_std,
            "jsd_mean": self.jsd_mean,
            "jsd_std": self.jsd_std,
        }
        return out


def calibrated_scores(
    p_test: np.ndarray, y_test: np.ndarray, p_val: np.ndarray, y_val: np.ndarray
) -> dict[str, float]:
    """The official final scores from classifier probabilities (``evaluate_cls`` with
    ``final_eval=True``).

    An isotonic regression fitted on the model-selection set (``p_test``, ``y_test``) maps the
    validation probabilities ``p_val`` to calibrated ones ``p``, clipped to [1e-6, 1 - 1e-6].

    Returns:
        ``auc`` (ROC AUC of ``p``), ``jsd`` = (ln 2 - BCE(p, y)) / ln 2, ``accuracy``
        (``p`` rounded half to even), ``auc_uncalibrated`` (ROC AUC of ``p_val``).
    """
    calibrator = IsotonicRegression(out_of_bounds="clip", y_min=1e-6, y_max=1.0 - 1e-6)
    calibrator.fit(np.asarray(p_test, dtype=np.float64), np.asarray(y_test, dtype=np.float64))
    p = calibrator.predict(np.asarray(p_val, dtype=np.float64))
    y = np.asarray(y_val, dtype=np.float64)
    # torch's BCELoss clamps log at -100; y_min = 1e-6 keeps every log far above that.
    bce = float(-np.mean(y * np.log(p) + (1.0 - y) * np.log(1.0 - p)))
    return {
        "auc": float(roc_auc_score(y, p)),
        "jsd": (math.log(2.0) - bce) / math.log(2.0),
        "accuracy": float(np.mean(np.round(p) == y)),
        "auc_uncalibrated": float(roc_auc_score(y, p_val)),
    }


def _probabilities(model: nn.Module, x: torch.Tensor, batch: int) -> np.ndarray:
    return torch.sigmoid(classifier_logits(model, x, batch).double()).cpu().numpy()


def classifier_test(
    reference: np.ndarray,
    generated: np.ndarray,
    incident_energy: np.ndarray,
    geometry: CaloGeometry,
    *,
    mode: str = "low",
    generated_energy: np.ndarray | None = None,
    repeats: int = 1,
    epochs: int = 50,
    width: int = 2048,
    depth: int = 3,
    batch_size: int = 1000,
    lr: float = 2e-4,
    split: tuple[float, float, float] = DEFAULT_SPLIT,
    seed: int = 0,
    device: torch.device | str = "cpu",
) -> ClassifierResult:
    """Train the CaloChallenge DNN classifier ``repeats`` times to separate the two samples.

    Args:
        reference: ``(N, V)`` reference showers (MeV), label 1.
        generated: ``(N, V)`` generated showers (MeV), label 0; as many as the reference.
        incident_energy: ``(N,)`` MeV of the reference showers (and of the generated ones
            unless ``generated_energy`` is given).
        geometry: the dataset geometry.
        mode: ``low`` (voxels) or ``high`` (high-level features).
        generated_energy: incident energies of the generated showers if they differ.
        repeats: independent trainings; repeat ``i`` splits and initialises with ``seed + i``.
        epochs, width, depth, batch_size, lr: training settings (official defaults).
        split: train / model-selection / validation fractions of each sample.
        device: where the network trains.

    Returns:
        Per-repeat AUC and JSD (and their mean and std); see :class:`ClassifierResult`.
    """
    # Deferred: metrics sit downstream of the engine; only this test trains a network, and it
    # must do so through the project's one training loop.
    from cern_ai_bench.engine.loop import train

    reference = np.asarray(reference)
    generated = np.asarray(generated)
    if reference.shape != generated.shape:
        raise ValueError(
            f"the classifier test needs as many generated as reference showers of the same "
            f"geometry: got generated {generated.shape}, reference {reference.shape}"
        )
    if repeats < 1 or epochs < 1:
        raise ValueError(f"repeats and epochs must be >= 1, got {repeats}, {epochs}")
    device = torch.device(device)
    gen_energy = incident_energy if generated_energy is None else generated_energy
    x_ref = classifier_inputs(reference, incident_energy, geometry, mode)
    x_gen = classifier_inputs(generated, gen_energy, geometry, mode)
    n = len(x_ref)
    aucs, jsds, raw_aucs, accs, best, per_epoch = [], [], [], [], [], []
    sizes = (0, 0, 0)
    for repeat in range(repeats):
        rng = np.random.default_rng(seed + repeat)
        parts_ref = split_indices(n, rng, split)
        parts_gen = split_indices(n, rng, split)
        sets = []
        for index_ref, index_gen in zip(parts_ref, parts_gen, strict=True):
            x = np.concatenate([x_gen[index_gen], x_ref[index_ref]])
            y = np.concatenate([np.zeros(len(index_gen)), np.ones(len(index_ref))])
            order = rng.permutation(len(x))
            sets.append((x[order], y[order].astype(np.float32)))
        sizes = tuple(len(s[0]) for s in sets)
        task = ClassifierTask(sets[0], sets[1], width=width, depth=depth, device=device)
        cfg = TrainerConfig(
            loader=Loader.resident,
            # Small samples: one batch per epoch (the engine drops partial batches).
            batch_size=min(batch_size, sizes[0]),
            lr=lr,
            weight_decay=0.0,
            warmup_steps=0,
            min_lr_ratio=1.0,  # constant learning rate: plain Adam
            max_epochs=epochs,
            target=1.0,  # evaluate.py stops once the test accuracy reaches 1
            stop_at_target=True,
            seed=seed + repeat,
            checkpoint=False,
            resume=False,
            progress=False,
        )
        start = time.perf_counter()
        result = train(task, cfg, device=device)
        elapsed = time.perf_counter() - start
        model = result.model
        if task.best_state is not None:
            model.load_state_dict(task.best_state)
        model.eval()
        val_x = torch.from_numpy(sets[2][0]).to(device)
        scores = calibrated_scores(
            _probabilities(model, task.test_inputs, task.eval_batch),
            sets[1][1],
            _probabilities(model, val_x, task.eval_batch),
            sets[2][1],
        )
        aucs.append(scores["auc"])
        jsds.append(scores["jsd"])
        raw_aucs.append(scores["auc_uncalibrated"])
        accs.append(scores["accuracy"])
        best.append(task.best_epoch)
        per_epoch.append(elapsed / max(1, task.epochs_seen))
        log.info(
            "classifier %s repeat %d: AUC %.4f JSD %.4f (best epoch %d)",
            mode,
            repeat,
            scores["auc"],
            scores["jsd"],
            task.best_epoch,
        )
    return ClassifierResult(
        mode=mode,
        auc=tuple(aucs),
        jsd=tuple(jsds),
        auc_uncalibrated=tuple(raw_aucs),
        accuracy=tuple(accs),
        best_epoch=tuple(best),
        seconds_per_epoch=tuple(per_epoch),
        n_train=sizes[0],
        n_test=sizes[1],
        n_val=sizes[2],
    )
