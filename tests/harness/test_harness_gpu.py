"""Real-GPU checks of the NVML meter; skipped cleanly without an NVIDIA GPU."""

from __future__ import annotations

import importlib

import pytest

from sweetspot.harness.clock import RealClock
from sweetspot.harness.meter import NvmlMeter, measure_idle


def _real_gpu() -> None:
    try:
        pynvml = importlib.import_module("pynvml")
    except ImportError:
        pytest.skip("pynvml (nvidia-ml-py) is not installed")
    try:
        pynvml.nvmlInit()
        count = pynvml.nvmlDeviceGetCount()
        pynvml.nvmlShutdown()
    except Exception as exc:  # no driver, no device
        pytest.skip(f"no usable NVIDIA GPU: {exc}")
    if count == 0:
        pytest.skip("NVML reports no GPU")


@pytest.mark.gpu
def test_real_gpu_idle_window() -> None:
    _real_gpu()
    with NvmlMeter([0], sample_interval_s=0.05) as meter:
        idle = measure_idle(meter, RealClock(), 1.0)
        (state,) = meter.read_states()
        (info,) = meter.device_info()
    assert 1.0 <= idle.power_w < 1500.0
    assert 0.9 < idle.duration_s < 1.5
    assert state.power_limit_w > 0
    assert info.uuid.startswith(("GPU-", "MIG-"))
