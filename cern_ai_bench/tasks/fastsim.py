"""Fast calorimeter simulation: showers -> conditional generative model -> CaloChallenge metrics.

The task owns the glue only: the training tensors (voxel energies and incident energies), the
model's own preprocessing fitted on the training split, the loss (the model's training
objective), and evaluation by generating showers for the incident energies of a held-out split
and comparing them with the reference showers there, as the CaloChallenge 2022 evaluation does.
Data come from the shower loaders, models from the model registry, metrics from
:mod:`cern_ai_bench.metrics.showers`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from cern_ai_bench.config import ShowerEvaluationConfig
from cern_ai_bench.data.calochallenge_io import write_showers
from cern_ai_bench.data.shower_schema import ShowerArrays, ShowerDataset
from cern_ai_bench.metrics.generation_time import generation_report, model_generation_times
from cern_ai_bench.metrics.showers.hlf import apply_threshold, high_level_features
from cern_ai_bench.metrics.showers.separation import separation_powers
from cern_ai_bench.models.builders import model_spec, shower_model_names
from cern_ai_bench.tasks.fastsim_evaluation import evaluate_generated

#: The generated test showers, written to the run folder.
GENERATED_NAME = "generated_showers.hdf5"


class Generate(nn.Module):
    """``forward(energy) = model.generate(energy)``: what inference timing calls."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, energy: torch.Tensor) -> torch.Tensor:
        return self.model.generate(energy)


class FastsimTask:
    """Conditional shower generation on one :class:`ShowerDataset`.

    Args:
        dataset: showers in the canonical schema (MeV); ``test`` is the held-out reference.
        model_name: a shower model in the registry (``cvae``, ``flow_matching``).
        device: where generation runs.
        evaluation: what the test evaluation computes (classifier repeats, FPD/KPD, plots).
        seed: seed of generation at evaluations (each evaluation draws the same noise).
    """

    metric = "sep_power_mean"
    higher_is_better = False

    def __init__(
        self,
        dataset: ShowerDataset,
        model_name: str,
        device: torch.device,
        evaluation: ShowerEvaluationConfig,
        *,
        seed: int = 0,
    ) -> None:
        self.dataset = dataset
        self.geometry = dataset.geometry
        self.model_name = model_name
        self.spec = model_spec(model_name)
        self.device = device
        self.evaluation = evaluation
        self.seed = seed
        train = dataset.train
        self._train = (torch.from_numpy(train.showers), torch.from_numpy(train.incident_energy))
        # Validation compares a fixed subset with the same showers generated at every evaluation.
        self._val = _head(dataset.val, evaluation.val_showers)
        self._val_features = high_level_features(
            apply_threshold(self._val.showers, self.geometry),
            self._val.incident_energy,
            self.geometry,
        )
        self._test = _head(dataset.test, evaluation.max_eval_showers)
        self._test_energy = torch.from_numpy(self._test.incident_energy).to(device)
        #: Details of the last test evaluation (per-feature separation powers, repeats, plots).
        self.details: dict[str, Any] = {}
        #: The run folder: plots and the generated showers of the test evaluation go there.
        self.output_dir: Path | None = None
        self.details_files: dict[str, str] = {}

    def train_tensors(self) -> tuple[torch.Tensor, ...]:
        return self._train

    def build_model(self) -> nn.Module:
        model = self.spec.builder(self.geometry)
        model.fit_preprocessing(*self._train)
        return model

    def loss(self, model: nn.Module, batch: tuple[torch.Tensor, ...]) -> torch.Tensor:
        showers, energy = batch
        return model(showers, energy)

    @torch.no_grad()
    def generate(self, model: nn.Module, energy: np.ndarray, batch: int = 10000) -> np.ndarray:
        """Showers (N, V) float32 MeV for ``energy`` (N,) MeV, seeded, generated on the device."""
        generator = torch.Generator(device=self.device).manual_seed(self.seed)
        energy_t = torch.from_numpy(np.ascontiguousarray(energy, dtype=np.float32))
        chunks = []
        for lo in range(0, len(energy_t), batch):
            part = energy_t[lo : lo + batch].to(self.device)
            chunks.append(model.generate(part, generator=generator).float().cpu())
        return torch.cat(chunks).numpy()

    def evaluate(self, model: nn.Module, split: str) -> dict[str, float]:
        if split == "val":
            return self._evaluate_val(model)
        if split == "test":
            generated = self.generate(model, self._test.incident_energy)
            if self.output_dir is not None and self.evaluation.save_generated:
                # In the CaloChallenge format, for the official evaluate.py or other tools.
                path = write_showers(
                    self.output_dir / GENERATED_NAME, self._test.incident_energy, generated
                )
                self.details_files = {"generated_showers": str(path)}
            # The metrics train classifiers of their own: with gradients, in fp32, whatever
            # the caller's context (evaluation runs under no_grad and the run's autocast).
            with torch.enable_grad(), torch.autocast(self.device.type, enabled=False):
                metrics, self.details = self._evaluate_test(generated)
            self.details |= self.details_files
            return metrics
        raise ValueError(f"split must be 'val' or 'test', got {split!r}")

    def _evaluate_test(self, generated: np.ndarray) -> tuple[dict[str, float], dict[str, Any]]:
        return evaluate_generated(
            self._test,
            generated,
            self.geometry,
            self.evaluation,
            device=self.device,
            plot_dir=None if self.output_dir is None else self.output_dir / "plots",
        )

    def _evaluate_val(self, model: nn.Module) -> dict[str, float]:
        """Mean and max separation power of the high-level features on the validation subset."""
        generated = self.generate(model, self._val.incident_energy)
        features = high_level_features(
            apply_threshold(generated, self.geometry), self._val.incident_energy, self.geometry
        )
        powers = separation_powers(self._val_features, features, self.geometry)
        values = np.array(list(powers.values()))
        return {
            "sep_power_mean": float(values.mean()),
            "sep_power_max": float(values.max()),
            "sep_power_E_ratio": float(powers["E_ratio"]),
        }

    def inference_module(self, model: nn.Module) -> nn.Module:
        """What inference timing calls: shower generation from incident energies."""
        return Generate(model)

    def extra_timings(self, model: nn.Module) -> dict[str, Any]:
        """Generation time per shower at the configured batch sizes, and the reference
        simulator's at the largest, with their ratio (``timing.generation`` of the record)."""
        report = generation_report(
            self.inference_module(model),
            self._test_energy,
            self.geometry,
            list(self.evaluation.generation_batches),
            repeats=self.evaluation.generation_repeats,
            device=self.device,
            time_simulator=self.evaluation.time_reference_simulator,
        )
        if self.evaluation.time_other_models:
            # Generation time depends on the architecture, not on the weights: the other
            # presets are timed freshly built (preprocessing fitted) beside the trained one.
            report["other_models"] = {}
            for name in shower_model_names():
                if name == self.model_name:
                    continue
                other = model_spec(name).builder(self.geometry)
                other.fit_preprocessing(*self._train)
                report["other_models"][name] = model_generation_times(
                    Generate(other.to(self.device)),
                    self._test_energy,
                    [max(self.evaluation.generation_batches)],
                    repeats=self.evaluation.generation_repeats,
                    device=self.device,
                )
        return {"generation": report}

    def example_inputs(self, batch_size: int) -> tuple[torch.Tensor, ...]:
        """Incident energies of the first ``batch_size`` test showers (repeated if fewer)."""
        n = self._test_energy.shape[0]
        index = torch.arange(batch_size, device=self.device) % n
        return (self._test_energy[index],)


def _head(split: ShowerArrays, n: int | None) -> ShowerArrays:
    """The first ``n`` showers of a split (all when ``n`` is None or larger)."""
    if n is None or n >= len(split):
        return split
    return ShowerArrays(incident_energy=split.incident_energy[:n], showers=split.showers[:n])
