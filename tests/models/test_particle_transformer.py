"""Particle Transformer: shape, padding and permutation invariance, configuration checks."""

from __future__ import annotations

import pytest
import torch

from cern_ai_bench.models import (
    ParticleTransformer,
    ParticleTransformerConfig,
    particle_transformer_small,
)


@pytest.fixture(scope="module")
def model() -> ParticleTransformer:
    torch.manual_seed(0)
    return particle_transformer_small(n_classes=5).eval()


def test_output_shape(model, random_jets) -> None:
    p4, mask = random_jets(4, 13)
    assert model(p4, mask).shape == (4, 5)


def test_appending_padding_leaves_logits_unchanged(model, random_jets) -> None:
    p4, mask = random_jets(6, 10)
    logits = model(p4, mask)
    p4_long = torch.cat([p4, torch.zeros(6, 7, 4)], 1)
    mask_long = torch.cat([mask, torch.zeros(6, 7, dtype=torch.bool)], 1)
    torch.testing.assert_close(model(p4_long, mask_long), logits, atol=1e-5, rtol=1e-5)
    # Removing the padding already present (jet 1 truncated to its real particles) agrees too.
    n1 = int(mask[1].sum())
    torch.testing.assert_close(
        model(p4[1:2, :n1], mask[1:2, :n1]), logits[1:2], atol=1e-5, rtol=1e-5
    )


def test_permutation_invariance_over_real_particles(model, random_jets) -> None:
    p4, mask = random_jets(6, 10)
    logits = model(p4, mask)
    perm = torch.randperm(10, generator=torch.Generator().manual_seed(3))
    # Padding moves along with the particles: the mask, not the position, defines it.
    torch.testing.assert_close(model(p4[:, perm], mask[:, perm]), logits, atol=1e-5, rtol=1e-5)


def test_pair_bias_changes_the_output(random_jets) -> None:
    torch.manual_seed(0)
    with_pairs = ParticleTransformer(
        ParticleTransformerConfig(embed_dims=(16,), pair_embed_dims=(8,))
    )
    torch.manual_seed(0)
    without = ParticleTransformer(ParticleTransformerConfig(embed_dims=(16,), pair_embed_dims=()))
    assert without.pair_embed is None
    p4, mask = random_jets(3, 6)
    assert not torch.allclose(with_pairs.eval()(p4, mask), without.eval()(p4, mask))


def test_empty_jet_gives_finite_logits(model, degenerate_jets) -> None:
    assert torch.isfinite(model(*degenerate_jets)).all()


def test_config_validation() -> None:
    with pytest.raises(ValueError, match="must divide the model width"):
        ParticleTransformerConfig(embed_dims=(30,), n_heads=4)
    with pytest.raises(ValueError, match="n_class_blocks >= 1"):
        ParticleTransformerConfig(n_class_blocks=0)
