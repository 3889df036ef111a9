"""Models: nn.Modules only (no training code) and the registry of named presets.

Constituent models take the canonical four-momenta and compute their kinematic inputs inside
(:mod:`cern_ai_bench.models.kinematics`), so a trained or exported model takes the canonical input.
"""

from __future__ import annotations

from cern_ai_bench.models.builders import (
    MODELS,
    InputKind,
    ModelSpec,
    build_model,
    count_parameters,
    mlp_hls4ml,
    mlp_hls4ml_bn,
    model_spec,
    particle_transformer_small,
    pfn_small,
)
from cern_ai_bench.models.mlp import MLP, MLPConfig
from cern_ai_bench.models.particle_transformer import (
    ParticleTransformer,
    ParticleTransformerConfig,
)
from cern_ai_bench.models.pfn import ParticleFlowNetwork, PFNConfig

__all__ = [
    "MLP",
    "MODELS",
    "InputKind",
    "MLPConfig",
    "ModelSpec",
    "PFNConfig",
    "ParticleFlowNetwork",
    "ParticleTransformer",
    "ParticleTransformerConfig",
    "build_model",
    "count_parameters",
    "mlp_hls4ml",
    "mlp_hls4ml_bn",
    "model_spec",
    "particle_transformer_small",
    "pfn_small",
]
