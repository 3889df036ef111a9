"""Worker of the 2-process DDP test, launched by torchrun: train the toy task, save parameters."""

from __future__ import annotations

import sys
from pathlib import Path

import torch

from cern_ai_bench.engine import dist_info_from_env, init_distributed, train
from cern_ai_bench.engine.distributed import shutdown_distributed

sys.path.insert(0, str(Path(__file__).parent))  # the toy task lives beside this script
from conftest import make_trainer_cfg
from toy import ToyTask


def main(out_dir: Path) -> None:
    torch.set_num_threads(1)
    info = dist_info_from_env()
    device = torch.device("cpu")
    init_distributed(info, device)
    result = train(ToyTask(), make_trainer_cfg(), device=device, dist_info=info)
    params = torch.cat([p.detach().flatten() for p in result.model.parameters()])
    torch.save(
        {"params": params, "history": result.progress.history}, out_dir / f"rank{info.rank}.pt"
    )
    shutdown_distributed()


if __name__ == "__main__":
    main(Path(sys.argv[1]))
