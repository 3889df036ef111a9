from __future__ import annotations

import pytest
import torch

from cern_ai_bench.engine.batches import make_batches


def _tensors(n=103):
    x = torch.arange(n * 2, dtype=torch.float32).reshape(n, 2)
    return x, torch.arange(n)


def test_resident_and_dataloader_give_identical_batches():
    kw = {"global_batch": 16, "device": torch.device("cpu"), "seed": 3}
    resident = list(make_batches("resident", _tensors(), **kw).epoch(2))
    baseline = list(make_batches("dataloader", _tensors(), **kw).epoch(2))
    assert len(resident) == len(baseline) == 103 // 16  # drop last
    for a, b in zip(resident, baseline, strict=True):
        assert all(torch.equal(x, y) for x, y in zip(a, b, strict=True))
        assert a[0].shape == (16, 2)  # static shape


def test_epochs_differ_and_cover_each_sample_at_most_once():
    source = make_batches(
        "resident", _tensors(), global_batch=16, device=torch.device("cpu"), seed=0
    )
    first = torch.cat([b[1] for b in source.epoch(0)])
    second = torch.cat([b[1] for b in source.epoch(1)])
    assert len(set(first.tolist())) == len(first) == 96
    assert not torch.equal(first, second)


def test_resume_mid_epoch_continues_the_same_order():
    source = make_batches(
        "resident", _tensors(), global_batch=8, device=torch.device("cpu"), seed=1
    )
    full = list(source.epoch(0))
    tail = list(source.epoch(0, start_step=5))
    assert all(torch.equal(a[1], b[1]) for a, b in zip(full[5:], tail, strict=True))


@pytest.mark.parametrize("kind", ["resident", "dataloader"])
def test_ranks_split_each_global_batch(kind):
    kw = {"global_batch": 16, "device": torch.device("cpu"), "seed": 4}
    single = [b[1] for b in make_batches(kind, _tensors(), **kw).epoch(0)]
    rank0 = [b[1] for b in make_batches(kind, _tensors(), rank=0, world_size=2, **kw).epoch(0)]
    rank1 = [b[1] for b in make_batches(kind, _tensors(), rank=1, world_size=2, **kw).epoch(0)]
    for whole, a, b in zip(single, rank0, rank1, strict=True):
        assert torch.equal(torch.cat([a, b]), whole)


def test_bad_batch_sizes_are_named():
    with pytest.raises(ValueError, match=r"batch_size=16 must be divisible by the world size 3"):
        make_batches(
            "resident",
            _tensors(),
            global_batch=16,
            device=torch.device("cpu"),
            seed=0,
            world_size=3,
        )
    with pytest.raises(ValueError, match="larger than the training split"):
        make_batches("resident", _tensors(10), global_batch=16, device=torch.device("cpu"), seed=0)
