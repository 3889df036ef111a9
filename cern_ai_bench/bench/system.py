"""What machine a result came from: CPU, memory, GPU, driver, CUDA and library versions.

The CUDA version is the one torch was built with (``torch.version.cuda``), and the driver comes
from NVML or ``nvidia-smi``: ``torch.utils.collect_env`` may report an unrelated ``nvcc`` found
on PATH on CPU-only builds.
"""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
from pathlib import Path
from typing import Any

import psutil
import torch


def cpu_model() -> str:
    """The CPU model name (from /proc/cpuinfo on Linux, else ``platform.processor()``)."""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text(errors="replace").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def gpu_driver_version() -> str | None:
    """NVIDIA driver version from NVML when installed, else from ``nvidia-smi``, else None."""
    try:
        import pynvml  # optional dependency (nvidia-ml-py)

        pynvml.nvmlInit()
        try:
            version = pynvml.nvmlSystemGetDriverVersion()
            return version.decode() if isinstance(version, bytes) else str(version)
        finally:
            pynvml.nvmlShutdown()
    except Exception:  # NVML missing or no driver: fall back to nvidia-smi
        pass
    smi = shutil.which("nvidia-smi")
    if smi is None:
        return None
    try:
        out = subprocess.run(
            [smi, "--query-gpu=driver_version", "--format=csv,noheader"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    first = out.stdout.strip().splitlines()
    return first[0].strip() if first else None


def gpu_info() -> list[dict[str, Any]]:
    """Name, memory and compute capability of each visible CUDA device."""
    if not torch.cuda.is_available():
        return []
    gpus = []
    for index in range(torch.cuda.device_count()):
        props = torch.cuda.get_device_properties(index)
        gpus.append(
            {
                "name": props.name,
                "memory_bytes": int(props.total_memory),
                "compute_capability": f"{props.major}.{props.minor}",
            }
        )
    return gpus


def _available_cores() -> int:
    """Cores this process may run on (the affinity mask; a container may allow fewer)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def system_info() -> dict[str, Any]:
    """A JSON-friendly description of this machine and software stack."""
    gpus = gpu_info()
    memory = psutil.virtual_memory()
    return {
        "hostname": platform.node(),
        "os": platform.platform(),
        "python": platform.python_version(),
        "cpu_model": cpu_model(),
        "cpu_logical_cores": os.cpu_count(),
        "cpu_available_cores": _available_cores(),
        "cpu_physical_cores": psutil.cpu_count(logical=False),
        "memory_bytes": int(memory.total),
        "torch_threads": torch.get_num_threads(),
        "gpu_count": len(gpus),
        "gpus": gpus,
        "gpu_driver": gpu_driver_version() if gpus else None,
        "cuda": torch.version.cuda,
        "cudnn": torch.backends.cudnn.version() if torch.backends.cudnn.is_available() else None,
        "torch": torch.__version__,
    }
