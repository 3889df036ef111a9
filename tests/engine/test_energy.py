"""GPU energy windows (engine/energy.py) with a scripted counter and clock; NVML faked."""

from __future__ import annotations

import sys
import types

import pytest
import torch

from cern_ai_bench.engine import energy as energy_module
from cern_ai_bench.engine.energy import EnergyMeter, open_energy_meter
from cern_ai_bench.engine.throughput import WindowTimer


class ScriptedGpu:
    """A clock and a cumulative counter: ``run(seconds, watts)`` advances both."""

    name = "Scripted GPU"

    def __init__(self) -> None:
        self.t = 100.0
        self.mj = 5_000_000  # arbitrary origin, as NVML's (since driver load)

    def run(self, seconds: float, watts: float) -> None:
        self.t += seconds
        self.mj += round(watts * seconds * 1000)

    def clock(self) -> float:
        return self.t

    def read_mj(self) -> int:
        return self.mj


def test_windows_join_until_60_s_and_leave_out_warm_up_and_evaluations():
    gpu = ScriptedGpu()
    meter = EnergyMeter(gpu, clock=gpu.clock)
    meter.resume()
    gpu.run(30.0, 500.0)  # warm-up window (compilation): discarded
    meter.end_window(1000, steady=False)
    for _ in range(5):  # five 25 s windows of 1000 samples at 200 W
        gpu.run(10.0, 200.0)
        meter.pause()
        gpu.run(7.0, 900.0)  # an evaluation inside the window: not in the window
        meter.resume()
        gpu.run(15.0, 200.0)
        meter.end_window(1000, steady=True)
    summary = meter.summary()
    # 25 + 25 + 25 = 75 s >= 60 closes the first window; the last 50 s stay open (too short)
    assert summary["windows"] == 1 and summary["window_s"] == [75.0]
    assert summary["joules_per_sample"] == pytest.approx(200.0 * 75.0 / 3000)
    assert summary["mean_power_w"] == pytest.approx(200.0)
    assert summary["joules_per_sample_iqr"] == 0.0
    # everything from the first reading to the last, warm-up and evaluations included
    total = 30 * 500 + 5 * (25 * 200 + 7 * 900)
    assert summary["train_energy_j"] == pytest.approx(total)
    assert summary["available"] and summary["reason"] is None


def test_each_gpu_of_a_ddp_run_counts_its_share_of_the_global_batch():
    gpu = ScriptedGpu()
    meter = EnergyMeter(gpu, clock=gpu.clock, min_window_s=10.0, world_size=4)
    meter.resume()
    gpu.run(10.0, 300.0)
    meter.end_window(4000, steady=True)
    assert meter.summary()["joules_per_sample"] == pytest.approx(3000.0 / 1000)


def test_a_run_shorter_than_one_window_says_so():
    gpu = ScriptedGpu()
    meter = EnergyMeter(gpu, clock=gpu.clock)
    meter.resume()
    gpu.run(20.0, 100.0)
    meter.end_window(100, steady=True)
    summary = meter.summary()
    assert summary["windows"] == 0 and summary["joules_per_sample"] is None
    assert "too short for one steady-state window of 60 s" in summary["reason"]
    assert summary["train_energy_j"] == pytest.approx(2000.0)


def test_the_throughput_timer_drives_the_meter_at_its_window_boundaries():
    readings = []

    class Recorder:
        def resume(self):
            readings.append("resume")

        def pause(self):
            readings.append("pause")

        def end_window(self, samples, *, steady):
            readings.append((samples, steady))

    timer = WindowTimer(torch.device("cpu"), 2, 1, 8, energy=Recorder())
    timer.resume()
    timer.step()
    timer.pause()
    timer.step()  # resumes the clock itself
    timer.step()
    timer.step()
    assert readings == ["resume", "pause", "resume", (16, False), (16, True)]


def test_no_meter_without_an_nvidia_gpu():
    why = open_energy_meter(torch.device("cpu"))
    assert why == {"available": False, "source": None, "reason": "no NVIDIA GPU: training on cpu"}


def _fake_cuda(monkeypatch, uuid):
    props = types.SimpleNamespace(uuid=uuid)
    monkeypatch.setattr(energy_module.torch.cuda, "get_device_properties", lambda d: props)
    monkeypatch.setattr(energy_module.torch.cuda, "get_device_name", lambda d: "Fake H100")


def _fake_pynvml(monkeypatch, *, energy_error=None):
    calls = []

    class NVMLError(Exception):
        pass

    def total_energy(handle):
        if energy_error:
            raise NVMLError(energy_error)
        calls.append(handle)
        return 123_456

    fake = types.SimpleNamespace(
        NVMLError=NVMLError,
        nvmlInit=lambda: None,
        nvmlDeviceGetHandleByUUID=lambda key: ("handle", key),
        nvmlDeviceGetHandleByIndex=lambda i: ("index", i),
        nvmlDeviceGetTotalEnergyConsumption=total_energy,
    )
    monkeypatch.setitem(sys.modules, "pynvml", fake)
    return calls


def test_nvml_counter_is_found_by_the_gpu_uuid(monkeypatch):
    _fake_cuda(monkeypatch, "3f1c9a2e-0000-1111-2222-333344445555")
    calls = _fake_pynvml(monkeypatch)
    meter = open_energy_meter(torch.device("cuda", 1), world_size=2)
    assert isinstance(meter, EnergyMeter)
    assert meter.world_size == 2 and meter.min_window_s == 60.0
    assert meter.counter.name == "Fake H100" and meter.counter.read_mj() == 123_456
    assert calls[-1] == ("handle", "GPU-3f1c9a2e-0000-1111-2222-333344445555")


def test_a_gpu_without_an_energy_counter_is_reported(monkeypatch):
    _fake_cuda(monkeypatch, "GPU-abc")
    _fake_pynvml(monkeypatch, energy_error="Not Supported")
    why = open_energy_meter(torch.device("cuda", 0))
    assert why == {
        "available": False,
        "source": None,
        "reason": "NVML energy counter not readable: Not Supported",
    }


def test_missing_nvidia_ml_py_is_reported(monkeypatch):
    monkeypatch.setitem(sys.modules, "pynvml", None)  # import raises ImportError
    why = open_energy_meter(torch.device("cuda", 0))
    assert not why["available"] and "nvidia-ml-py is not installed" in why["reason"]
