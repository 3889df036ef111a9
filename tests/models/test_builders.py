"""Registry, uniform call signature, bf16 autocast, gradients and one torch.compile smoke test."""

from __future__ import annotations

import pytest
import torch

from cern_ai_bench.models import MODELS, build_model, count_parameters, model_spec
from cern_ai_bench.models.builders import anomaly_model_names

#: The jet classifiers (shower generators are built from a geometry: test_shower_models.py;
#: anomaly detectors take no size: test_anomaly_models.py, test_cwola.py).
CLASSIFIERS = sorted(
    name for name, spec in MODELS.items() if spec.inputs in ("hlf", "constituents")
)

N_CONSTITUENTS = 9


def _build(name: str, n_classes: int = 5) -> torch.nn.Module:
    hlf = MODELS[name].inputs == "hlf"
    return build_model(
        name, n_features=16 if hlf else None, n_constituents=N_CONSTITUENTS, n_classes=n_classes
    )


def _inputs(name: str, random_jets, n_jets: int = 5) -> tuple[torch.Tensor, ...]:
    if MODELS[name].inputs == "hlf":
        return (torch.randn(n_jets, 16),)
    return random_jets(n_jets, N_CONSTITUENTS)


def test_config_names_are_registered() -> None:
    assert {"mlp", "pfn", "particle_transformer"} <= set(MODELS)
    for name, spec in MODELS.items():
        assert spec.name == name
    for name in CLASSIFIERS:
        assert _build(name).inputs == MODELS[name].inputs


@pytest.mark.parametrize("name", CLASSIFIERS)
@pytest.mark.parametrize("n_classes", [2, 5])
def test_uniform_signature_and_shape(name, n_classes, random_jets) -> None:
    model = _build(name, n_classes)
    assert model(*_inputs(name, random_jets)).shape == (5, n_classes)


@pytest.mark.parametrize("name", CLASSIFIERS)
def test_bf16_autocast_forward_backward_finite(name, random_jets, degenerate_jets) -> None:
    model = _build(name)
    inputs = _inputs(name, random_jets)
    if MODELS[name].inputs == "constituents":  # add jets that break naive kinematics
        p4 = degenerate_jets[0]
        pad = N_CONSTITUENTS - p4.shape[1]
        p4 = torch.cat([inputs[0], torch.nn.functional.pad(p4, (0, 0, 0, pad))])
        inputs = (p4, p4[..., 3] > 0)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        logits = model(*inputs)
    assert torch.isfinite(logits).all()
    torch.nn.functional.cross_entropy(
        logits.float(), torch.zeros(len(logits), dtype=torch.long)
    ).backward()
    for p in model.parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all()


def test_unknown_name_lists_valid_names() -> None:
    with pytest.raises(
        ValueError,
        match=r"unknown model 'gpt'; valid names: ae, cvae, .*mlp, .*particle_transformer",
    ):
        build_model("gpt", n_features=16, n_constituents=None, n_classes=5)
    with pytest.raises(ValueError, match="valid names"):
        model_spec("PFN")


def test_sizes_are_checked() -> None:
    with pytest.raises(ValueError, match="n_features must be a positive integer, got None"):
        build_model("mlp", n_features=None, n_constituents=None, n_classes=5)
    with pytest.raises(ValueError, match="n_constituents must be a positive integer"):
        build_model("particle_transformer", n_features=None, n_constituents=None, n_classes=5)
    # Each model reads only its own input's size; the other may be anything.
    assert (
        build_model("pfn", n_features=16, n_constituents=30, n_classes=5).inputs == "constituents"
    )
    assert build_model("mlp", n_features=16, n_constituents=None, n_classes=5).inputs == "hlf"
    with pytest.raises(ValueError, match="n_classes must be >= 2"):
        build_model("mlp", n_features=16, n_constituents=None, n_classes=1)


def test_count_parameters() -> None:
    model = torch.nn.Linear(3, 2)
    assert count_parameters(model) == 8
    model.bias.requires_grad_(False)
    assert count_parameters(model) == 6
    assert count_parameters(model, trainable_only=False) == 8


@pytest.mark.slow
def test_particle_transformer_compiles_and_matches_eager(random_jets, degenerate_jets) -> None:
    torch.manual_seed(0)
    model = _build("particle_transformer").eval()
    p4, _ = random_jets(4, N_CONSTITUENTS)
    degenerate = torch.nn.functional.pad(degenerate_jets[0], (0, 0, 0, N_CONSTITUENTS - 5))
    p4 = torch.cat([p4, degenerate])
    mask = p4[..., 3] > 0
    compiled = torch.compile(model, fullgraph=True)
    with torch.no_grad():
        got = compiled(p4, mask)
        want = model(p4, mask)
    assert torch.isfinite(got).all()
    torch.testing.assert_close(got, want, atol=1e-4, rtol=1e-4)


def test_shower_generators_are_refused_by_the_classifier_builder() -> None:
    with pytest.raises(ValueError, match="shower generator"):
        build_model("cvae", n_features=16, n_constituents=None, n_classes=5)


def test_anomaly_detectors_are_registered_with_their_inputs() -> None:
    assert {name: MODELS[name].inputs for name in anomaly_model_names()} == {
        "ae": "l1_events",
        "vae": "l1_events",
        "cwola": "dijet_features",
    }
    assert anomaly_model_names("l1_events") == ["ae", "vae"]
    for name in anomaly_model_names():
        model = MODELS[name].builder()
        assert model.inputs == MODELS[name].inputs  # the model's own declaration agrees
    assert count_parameters(MODELS["ae"].builder()) == 5116  # dense_ae_default's docstring
    assert count_parameters(MODELS["vae"].builder()) == 5417
    assert count_parameters(MODELS["cwola"].builder()) == 8705
    with pytest.raises(ValueError, match="anomaly detector on l1_events"):
        build_model("vae", n_features=None, n_constituents=None, n_classes=2)
