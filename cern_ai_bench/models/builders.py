"""Named model presets (builder functions) and the registry the tasks build models from.

Configs name a preset (``model: pfn``) and never repeat its numbers; sizes that depend on the
data (feature count, class count) come from the canonical schema through :func:`build_model`.
Each registry entry says which canonical input its model's ``forward`` takes:

- ``"hlf"``: ``forward(hlf)`` with ``hlf`` ``(B, n_features)`` float32;
- ``"constituents"``: ``forward(constituents, mask)`` with ``(B, P, 4)`` float32 four-momenta
  ``(px, py, pz, E)`` in GeV and a ``(B, P)`` bool mask. These models are independent of P.
- ``"showers"``: generative models of calorimeter showers, built from a
  :class:`~cern_ai_bench.data.calo_geometry.CaloGeometry`: ``forward(showers, energy)`` returns
  the training loss, ``generate(energy)`` returns showers (MeV), ``fit_preprocessing`` fits
  their normalisation on the training split.
- ``"l1_events"``: Level-1 anomaly detectors on ADC2021-layout events ``(B, 19, 4)``, built
  with no argument: ``forward(particles)`` returns the training loss, ``scores(particles)`` the
  anomaly scores (``score_names``), ``fit_preprocessing(particles)`` fits on background.
- ``"dijet_features"``: classifiers of dijet features ``(B, n_features)``, built from
  ``n_features``: ``forward(features, labels)`` returns the loss, ``score(features)`` a logit.

Classifiers return logits ``(B, n_classes)``.

The builder docstrings give each preset's size and its CPU training cost at P = 30.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from torch import nn

from cern_ai_bench.data.schema import CONSTITUENT_FIELDS
from cern_ai_bench.models.autoencoder import dense_ae_default, l1_vae_default
from cern_ai_bench.models.cvae import cvae_default
from cern_ai_bench.models.cwola import cwola_default
from cern_ai_bench.models.flow_matching import flow_matching_default
from cern_ai_bench.models.mlp import MLP, MLPConfig
from cern_ai_bench.models.particle_transformer import (
    ParticleTransformer,
    ParticleTransformerConfig,
)
from cern_ai_bench.models.pfn import ParticleFlowNetwork, PFNConfig

__all__ = [
    "ANOMALY_INPUTS",
    "MODELS",
    "InputKind",
    "ModelSpec",
    "anomaly_model_names",
    "build_model",
    "count_parameters",
    "mlp_hls4ml",
    "mlp_hls4ml_bn",
    "model_spec",
    "particle_transformer_small",
    "pfn_small",
    "shower_model_names",
]

InputKind = Literal["hlf", "constituents", "showers", "l1_events", "dijet_features"]
#: Input kinds of the anomaly detectors (task=anomaly).
ANOMALY_INPUTS: tuple[str, ...] = ("l1_events", "dijet_features")


def mlp_hls4ml(n_features: int = 16, n_classes: int = 5) -> MLP:
    """hls4ml reference MLP 16-64-32-32-5 (Duarte et al. 2018; hls4ml tutorial): 4,389 params."""
    return MLP(MLPConfig(n_features=n_features, n_classes=n_classes, hidden_dims=(64, 32, 32)))


def mlp_hls4ml_bn(n_features: int = 16, n_classes: int = 5) -> MLP:
    """FastML Science jet-classify float baseline: (Dense-BN-ReLU) x (64, 32, 32) + Dense 5."""
    return MLP(
        MLPConfig(
            n_features=n_features, n_classes=n_classes, hidden_dims=(64, 32, 32), batch_norm=True
        )
    )


def pfn_small(n_classes: int = 5) -> ParticleFlowNetwork:
    """PFN with Phi (64, 64, 64) and F (64, 64): 17,477 parameters (5 classes).

    Half the width of the Particle Transformer repository's PFN (128). A training step (forward,
    backward, AdamW) on 256 jets x 30 constituents takes ~15-25 ms on one CPU thread, so an
    epoch of 100k jets takes seconds.
    """
    return ParticleFlowNetwork(
        PFNConfig(n_classes=n_classes, phi_dims=(64, 64, 64), f_dims=(64, 64))
    )


def particle_transformer_small(n_classes: int = 5) -> ParticleTransformer:
    """ParT with width 64, 4 heads, 3 particle + 1 class block, pair embed (32, 32).

    206,615 parameters (5 classes). The published model is width 128 (embed 128-512-128), 8 heads,
    8 + 2 blocks, pair embed (64, 64, 64). A training step on 256 jets x 30 constituents takes
    ~0.3-0.35 s on one CPU thread, i.e. ~2 min per epoch of 100k jets: fine for a few epochs on a
    laptop, and what the GPU benchmarks are for.
    """
    return ParticleTransformer(
        ParticleTransformerConfig(
            n_classes=n_classes,
            embed_dims=(64, 64),
            pair_embed_dims=(32, 32),
            n_heads=4,
            n_particle_blocks=3,
            n_class_blocks=1,
            mlp_ratio=4,
        )
    )


@dataclass(frozen=True)
class ModelSpec:
    """A registered preset.

    Attributes:
        name: registry name used by the configs.
        inputs: which canonical input the model's ``forward`` takes.
        builder: preset function; takes ``n_classes`` and, for ``"hlf"`` models, ``n_features``.
        description: one line for listings and error messages.
    """

    name: str
    inputs: InputKind
    builder: Callable[..., nn.Module]
    description: str


MODELS: dict[str, ModelSpec] = {
    spec.name: spec
    for spec in (
        ModelSpec("mlp", "hlf", mlp_hls4ml, "hls4ml reference MLP 16-64-32-32-5 on the HLF"),
        ModelSpec("mlp_bn", "hlf", mlp_hls4ml_bn, "hls4ml MLP with batch norm (FastML Science)"),
        ModelSpec("pfn", "constituents", pfn_small, "Particle Flow Network, Phi 64^3, F 64^2"),
        ModelSpec(
            "particle_transformer",
            "constituents",
            particle_transformer_small,
            "small Particle Transformer: width 64, 4 heads, 3 + 1 blocks",
        ),
        ModelSpec(
            "cvae", "showers", cvae_default, "conditional VAE shower generator (fast baseline)"
        ),
        ModelSpec(
            "flow_matching",
            "showers",
            flow_matching_default,
            "conditional flow-matching shower generator (ODE sampling)",
        ),
        ModelSpec(
            "ae",
            "l1_events",
            dense_ae_default,
            "dense autoencoder 57-32-16-3-16-32-57 on L1 events, masked-MSE score",
        ),
        ModelSpec(
            "vae",
            "l1_events",
            l1_vae_default,
            "VAE 57-32-16-8 on L1 events: KL, mu^2 (AXOL1TL), MSE and total scores",
        ),
        ModelSpec(
            "cwola",
            "dijet_features",
            cwola_default,
            "CWoLa classifier 4-64-64-64-1 on dijet features (signal region vs sidebands)",
        ),
    )
}


def model_spec(name: str) -> ModelSpec:
    """The registry entry for ``name``; ValueError listing the valid names if unknown."""
    try:
        return MODELS[name]
    except KeyError:
        raise ValueError(
            f"unknown model {name!r}; valid names: {', '.join(sorted(MODELS))}"
        ) from None


def shower_model_names() -> list[str]:
    """Registry names of the shower generators (task=fastsim)."""
    return [name for name, spec in MODELS.items() if spec.inputs == "showers"]


def anomaly_model_names(inputs: str | None = None) -> list[str]:
    """Registry names of the anomaly detectors (task=anomaly), optionally of one input kind."""
    kinds = ANOMALY_INPUTS if inputs is None else (inputs,)
    return [name for name, spec in MODELS.items() if spec.inputs in kinds]


def build_model(
    name: str, *, n_features: int | None, n_constituents: int | None, n_classes: int
) -> nn.Module:
    """Build a registered preset sized from the dataset's canonical schema.

    Args:
        name: registry name (see :data:`MODELS`).
        n_features: number of high-level features per jet (None where the dataset has none);
            required by ``"hlf"`` models, ignored by ``"constituents"`` models.
        n_constituents: constituents per jet P (None where the dataset has none); required by
            ``"constituents"`` models (checked to be positive; the models themselves work for
            any P), ignored by ``"hlf"`` models.
        n_classes: number of classes (>= 2).

    Returns:
        The model, in training mode, on the CPU, float32.

    Raises:
        ValueError: unknown name, or sizes that do not fit the model's input.
    """
    spec = model_spec(name)
    if spec.inputs == "showers":
        raise ValueError(
            f"model {name!r} is a shower generator: build it with spec.builder(geometry)"
        )
    if spec.inputs in ANOMALY_INPUTS:
        raise ValueError(
            f"model {name!r} is an anomaly detector on {spec.inputs}: build it with "
            "spec.builder() (task=anomaly)"
        )
    if n_classes < 2:
        raise ValueError(f"model {name!r}: n_classes must be >= 2, got {n_classes}")
    if spec.inputs == "hlf":
        if n_features is None or n_features < 1:
            raise ValueError(
                f"model {name!r} takes high-level features: n_features must be a positive "
                f"integer, got {n_features}"
            )
        return spec.builder(n_features=n_features, n_classes=n_classes)
    if n_constituents is None or n_constituents < 1:
        raise ValueError(
            f"model {name!r} takes constituents {CONSTITUENT_FIELDS}: n_constituents must be a "
            f"positive integer, got {n_constituents}"
        )
    return spec.builder(n_classes=n_classes)


def count_parameters(model: nn.Module, *, trainable_only: bool = True) -> int:
    """Number of parameters (elements) of ``model``, by default only those requiring grad."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)
