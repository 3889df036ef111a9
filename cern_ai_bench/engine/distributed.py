"""Data-parallel set-up under ``torchrun`` or a submitit job (gloo on CPU, NCCL on GPU).

Every rank sees the same device-side permutation and takes its contiguous share of each global
batch, so a run with world size W and global batch B follows the same sample order as a
one-process run with batch B; DDP's gradient average then equals the one-process gradient.
"""

from __future__ import annotations

import datetime
import os
from dataclasses import dataclass

import torch
import torch.distributed as dist


@dataclass(frozen=True)
class DistInfo:
    """Where this process stands in the job."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def is_main(self) -> bool:
        """Only rank 0 writes outputs (checkpoints, records, logs)."""
        return self.rank == 0

    @property
    def enabled(self) -> bool:
        return self.world_size > 1


def dist_info_from_env() -> DistInfo:
    """``RANK``, ``WORLD_SIZE`` and ``LOCAL_RANK`` as set by torchrun (default: one process).

    Inside a submitit task (Hydra's ``submitit_slurm`` or ``submitit_local`` launcher, e.g.
    ``hydra/launcher=slurm_ddp``) these are first exported from submitit's job environment.
    """
    if "RANK" not in os.environ and os.environ.get("SUBMITIT_EXECUTOR"):
        export_submitit_env()
    return DistInfo(
        rank=int(os.environ.get("RANK", 0)),
        world_size=int(os.environ.get("WORLD_SIZE", 1)),
        local_rank=int(os.environ.get("LOCAL_RANK", 0)),
    )


def export_submitit_env() -> None:
    """Set ``MASTER_ADDR``, ``MASTER_PORT``, ``RANK``, ``WORLD_SIZE`` and ``LOCAL_RANK`` from
    the submitit task's environment (first host of the job, a port drawn from the job id).

    ``CUDA_VISIBLE_DEVICES`` is left alone: each task picks ``cuda:LOCAL_RANK`` of its node.
    """
    from submitit.helpers import TorchDistributedEnvironment  # installed with the launcher

    TorchDistributedEnvironment().export(set_cuda_visible_devices=False)


def init_distributed(info: DistInfo, device: torch.device) -> None:
    """Join the process group (no-op for a single process or when already joined)."""
    if not info.enabled or dist.is_initialized():
        return
    backend = "nccl" if device.type == "cuda" else "gloo"
    if device.type == "cuda":
        torch.cuda.set_device(device)
    # Generous timeout: the other ranks wait at a barrier while rank 0 generates or downloads
    # the data, which can take tens of minutes the first time.
    dist.init_process_group(
        backend=backend,
        rank=info.rank,
        world_size=info.world_size,
        timeout=datetime.timedelta(hours=2),
    )


def shutdown_distributed() -> None:
    if dist.is_initialized():
        dist.destroy_process_group()


def barrier() -> None:
    if dist.is_initialized():
        dist.barrier()
