"""The one training loop: every task trains through :func:`train`.

Reads top to bottom like nanoGPT's ``train.py``: set-up (seed, model, optimiser, batches,
resume, DDP, compile), then one loop. Inside the loop nothing waits for the device: the loss is
accumulated on the device and read only at evaluations, which happen at fixed sample counts.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from tqdm.auto import tqdm

from cern_ai_bench.config import TrainerConfig
from cern_ai_bench.engine.batches import make_batches
from cern_ai_bench.engine.checkpoint import (
    CHECKPOINT_NAME,
    Progress,
    load_checkpoint,
    save_checkpoint,
)
from cern_ai_bench.engine.device import autocast
from cern_ai_bench.engine.distributed import DistInfo
from cern_ai_bench.engine.energy import EnergyMeter, open_energy_meter
from cern_ai_bench.engine.protocol import Task
from cern_ai_bench.engine.schedule import lr_at
from cern_ai_bench.engine.throughput import WindowTimer

log = logging.getLogger(__name__)


class TrainingDiverged(RuntimeError):
    """The training loss became NaN or infinite."""


@dataclass
class TrainResult:
    """What the loop hands back to the benchmark runner."""

    model: nn.Module  # the plain module: not compiled, not DDP-wrapped (saved and exported as is)
    progress: Progress
    throughput: dict[str, float | int | None]
    first_step_s: float | None
    compile_s: float | None
    target_reached: bool
    stop_reason: str
    resumed_from_samples: int | None
    optimizer: str
    energy: dict[str, Any]  # engine.energy: NVML joules per sample, or why not measured


def make_optimizer(
    model: nn.Module, cfg: TrainerConfig, device: torch.device
) -> tuple[torch.optim.Optimizer, str]:
    """AdamW with the fused kernel where torch has one for the device, else the foreach one."""
    params = [p for p in model.parameters() if p.requires_grad]
    if device.type in ("cpu", "cuda"):
        opt = torch.optim.AdamW(params, lr=cfg.lr, weight_decay=cfg.weight_decay, fused=True)
        return opt, "AdamW(fused)"
    opt = torch.optim.AdamW(params, lr=cfg.lr, weight_decay=cfg.weight_decay, foreach=True)
    return opt, "AdamW(foreach)"


def _has_batch_norm(model: nn.Module) -> bool:
    return any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in model.modules())


def _parameters_finite(model: nn.Module) -> bool:
    """True when no weight is NaN or infinite (one host sync, at evaluations only)."""
    flags = [torch.isfinite(p).all() for p in model.parameters()]
    return bool(torch.stack(flags).all()) if flags else True


def _met_target(value: float, target: float, higher_is_better: bool) -> bool:
    return value >= target if higher_is_better else value <= target


def train(
    task: Task,
    cfg: TrainerConfig,
    *,
    device: torch.device,
    dist_info: DistInfo | None = None,
    run_dir: Path | None = None,
    config_hash: str = "",
    setup_s: float = 0.0,
) -> TrainResult:
    """Train ``task``'s model under ``cfg`` and return it with its timings.

    Args:
        task: the use case (see :class:`~cern_ai_bench.engine.protocol.Task`).
        cfg: trainer settings (loader, precision, compile, budget, target, ...).
        device: where the model and (resident) data live.
        dist_info: rank and world size under torchrun (None = single process).
        run_dir: where checkpoints go (None = no checkpoints, no resume).
        config_hash: identifies the configuration; a checkpoint from another one is refused.
        setup_s: seconds already spent on the clock before training (data loading), added to
            the time to target.
    """
    dist_info = dist_info or DistInfo()
    torch.manual_seed(cfg.seed)
    model = task.build_model().to(device)
    optimizer, optimizer_name = make_optimizer(model, cfg, device)
    batches = make_batches(
        cfg.loader.value,
        task.train_tensors(),
        global_batch=cfg.batch_size,
        device=device,
        seed=cfg.seed,
        rank=dist_info.rank,
        world_size=dist_info.world_size,
    )
    total_steps = cfg.max_epochs * batches.steps_per_epoch
    if cfg.max_steps:
        total_steps = min(total_steps, cfg.max_steps)
    eval_every = cfg.eval_every_samples or batches.steps_per_epoch * cfg.batch_size
    progress = Progress(next_eval_samples=eval_every)

    checkpoint_path = run_dir / CHECKPOINT_NAME if run_dir is not None and cfg.checkpoint else None
    resumed_from = None
    if checkpoint_path is not None and cfg.resume and checkpoint_path.exists():
        progress = load_checkpoint(
            checkpoint_path, model=model, optimizer=optimizer, config_hash=config_hash
        )
        resumed_from = progress.samples_seen
        log.info("resumed from %s at %d samples", checkpoint_path, progress.samples_seen)

    # Keep `model` (unwrapped) for saving; train through the wrapped one (weaver's orig_model).
    train_model: nn.Module = model
    if dist_info.enabled and _has_batch_norm(model):
        if device.type == "cuda":  # one set of batch statistics over the global batch
            model = nn.SyncBatchNorm.convert_sync_batchnorm(model)
            train_model = model
        else:
            log.warning(
                "BatchNorm under DDP on CPU uses per-rank batch statistics: the run will not "
                "match a one-process run with the same global batch"
            )
    if dist_info.enabled:
        train_model = DistributedDataParallel(
            model, device_ids=[device.index] if device.type == "cuda" else None
        )
    compile_mode = cfg.compile.name
    if compile_mode != "none":
        train_model = torch.compile(
            train_model, mode=None if compile_mode == "default" else compile_mode
        )

    energy = open_energy_meter(
        device, world_size=dist_info.world_size, min_window_s=cfg.energy_window_s
    )
    energy_meter = energy if isinstance(energy, EnergyMeter) else None
    timer = WindowTimer(
        device, cfg.window_steps, cfg.warmup_windows, cfg.batch_size, energy=energy_meter
    )
    loss_sum = torch.zeros((), device=device)
    loss_steps = 0
    first_step_s: float | None = None
    stop_reason = "budget"
    target_reached = progress.time_to_target_s is not None
    loop_start = time.perf_counter() - progress.train_time_s
    bar = tqdm(
        total=total_steps,
        initial=progress.global_step,
        desc="train",
        unit="step",
        disable=not (cfg.progress and dist_info.is_main),
        dynamic_ncols=True,
    )

    def evaluate() -> bool:
        """Validation metrics, history, target and checkpoint; True when training should stop."""
        nonlocal loss_sum, loss_steps, target_reached, stop_reason
        timer.pause()
        mean_loss = loss_sum / max(1, loss_steps)
        if dist_info.enabled:
            dist.all_reduce(mean_loss, op=dist.ReduceOp.AVG)
        train_loss = float(mean_loss)  # host sync: evaluation boundary
        if not (math.isfinite(train_loss) and _parameters_finite(model)):
            raise TrainingDiverged(
                f"training diverged after {progress.samples_seen} samples (loss {train_loss}, "
                "or non-finite weights); lower trainer.lr or check the inputs for NaN"
            )
        model.eval()
        with torch.no_grad(), autocast(device, cfg.precision):
            metrics = task.evaluate(model, "val")
        model.train()
        elapsed = time.perf_counter() - loop_start
        progress.train_time_s = elapsed
        entry = {
            "samples": progress.samples_seen,
            "epoch": progress.epoch,
            "train_loss": train_loss,
            "time_s": setup_s + elapsed,
            **metrics,
        }
        progress.history.append(entry)
        loss_sum = torch.zeros((), device=device)
        loss_steps = 0
        bar.set_postfix({"loss": f"{train_loss:.4f}", task.metric: f"{metrics[task.metric]:.4f}"})
        stop = False
        if cfg.target is not None and _met_target(
            metrics[task.metric], cfg.target, task.higher_is_better
        ):
            if not target_reached:
                target_reached = True
                progress.time_to_target_s = setup_s + elapsed
                progress.samples_to_target = progress.samples_seen
            if cfg.stop_at_target:
                stop, stop_reason = True, "target"
        if cfg.max_time_s and elapsed >= cfg.max_time_s:
            stop, stop_reason = True, "time budget"
        if progress.epoch >= cfg.max_epochs:
            stop, stop_reason = True, "epoch budget"
        if cfg.max_steps and progress.global_step >= cfg.max_steps:
            stop, stop_reason = True, "step budget"
        if dist_info.enabled:  # every rank must take the same decision, rank 0's clock rules
            flag = torch.tensor([int(stop)], device=device)
            dist.broadcast(flag, src=0)
            stop = bool(flag.item())
        if stop:
            progress.stop_reason = stop_reason
        if checkpoint_path is not None and dist_info.is_main:
            save_checkpoint(
                checkpoint_path,
                model=model,
                optimizer=optimizer,
                progress=progress,
                config_hash=config_hash,
            )
        timer.resume()
        return stop

    model.train()
    timer.resume()
    stop = progress.stop_reason is not None  # a resumed run that had already finished
    while progress.epoch < cfg.max_epochs and not stop:
        for batch in batches.epoch(progress.epoch, progress.step_in_epoch):
            lr = lr_at(
                progress.global_step,
                total_steps=total_steps,
                base_lr=cfg.lr,
                warmup_steps=cfg.warmup_steps,
                min_ratio=cfg.min_lr_ratio,
            )
            for group in optimizer.param_groups:
                group["lr"] = lr
            step_start = time.perf_counter() if first_step_s is None else 0.0
            with autocast(device, cfg.precision):
                loss = task.loss(train_model, batch)
            loss.backward()
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
            loss_sum += loss.detach()
            loss_steps += 1
            if first_step_s is None:
                first_step_s = time.perf_counter() - step_start
            progress.global_step += 1
            progress.step_in_epoch += 1
            progress.samples_seen += cfg.batch_size
            timer.step()
            bar.update()
            if progress.step_in_epoch == batches.steps_per_epoch:
                progress.epoch += 1
                progress.step_in_epoch = 0
            eval_due = progress.samples_seen >= progress.next_eval_samples
            if eval_due:  # the next multiple of eval_every (a batch may cross several)
                progress.next_eval_samples = (progress.samples_seen // eval_every + 1) * eval_every
            at_step_budget = progress.global_step == cfg.max_steps
            if (eval_due or at_step_budget) and evaluate():
                stop = True
                break
    if loss_steps:  # the budget ended between two evaluations: evaluate the final weights
        evaluate()
    stop_reason = progress.stop_reason or stop_reason
    bar.close()

    throughput = timer.summary()
    compile_s = None
    if first_step_s is not None and throughput["median"]:
        steady_step_s = cfg.batch_size / float(throughput["median"])
        compile_s = max(0.0, first_step_s - steady_step_s) if compile_mode != "none" else None
    model.eval()
    return TrainResult(
        model=model,
        progress=progress,
        throughput=throughput,
        first_step_s=first_step_s,
        compile_s=compile_s,
        target_reached=target_reached,
        stop_reason=stop_reason,
        resumed_from_samples=resumed_from,
        optimizer=optimizer_name,
        energy=energy_meter.summary() if energy_meter is not None else energy,
    )
