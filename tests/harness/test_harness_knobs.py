"""Knobs through NVML (fake pynvml) and on simulated GPUs: set, validate, always reset."""

from __future__ import annotations

import os
import signal

import pytest

from sweetspot.exceptions import DeviceError, SpecError
from sweetspot.harness.engines.fake import FakeControl, SimulatedNode
from sweetspot.harness.knobs import Knobs, NvmlControl, apply_knobs, terminate_on_signals
from sweetspot.harness.meter import NvmlMeter


@pytest.fixture
def nvml_control(fake_nvml):
    fake_nvml.fake_reset(2)
    meter = NvmlMeter(sample_interval_s=0.0, align=False)
    yield NvmlControl(meter.handles, meter.nvml, meter.gpu_indices), fake_nvml.fake_devices()
    meter.close()


def test_valid_values_are_read_from_the_device(nvml_control) -> None:
    control, _ = nvml_control
    clocks = control.supported_gpu_clocks_mhz()
    assert clocks[0] == 1980 and clocks[-1] == 210 and 1410 in clocks
    assert control.power_limit_range_w() == (200.0, 700.0)
    assert control.power_limit_w() == (700.0, 700.0)


def test_knobs_set_inside_and_reset_after(nvml_control) -> None:
    control, devices = nvml_control
    with apply_knobs(control, Knobs(gpu_clock_mhz=1410, power_limit_w=350)):
        assert all(d.locked_clock == (1410, 1410) for d in devices)
        assert all(d.limit_mw == 350_000 for d in devices)
    assert all(d.locked_clock is None for d in devices)
    assert all(d.limit_mw == 700_000 for d in devices)
    assert devices[0].calls == [
        ("set_power_limit_mw", 350_000),
        ("set_locked_clocks", 1410, 1410),
        ("reset_locked_clocks",),
        ("set_power_limit_mw", 700_000),
    ]


def test_previous_power_limit_is_restored_not_the_default(nvml_control) -> None:
    control, devices = nvml_control
    for d in devices:
        d.limit_mw = 500_000
    with apply_knobs(control, Knobs(power_limit_w=300.0)):
        assert devices[1].limit_mw == 300_000
    assert [d.limit_mw for d in devices] == [500_000, 500_000]


def test_exception_inside_resets_the_device(nvml_control) -> None:
    control, devices = nvml_control
    with (
        pytest.raises(RuntimeError, match="boom"),
        apply_knobs(control, Knobs(gpu_clock_mhz=1200, power_limit_w=400)),
    ):
        raise RuntimeError("boom")
    assert all(d.locked_clock is None and d.limit_mw == 700_000 for d in devices)


def test_sigterm_inside_resets_the_device(nvml_control) -> None:
    control, devices = nvml_control
    with (
        pytest.raises(SystemExit) as info,
        apply_knobs(control, Knobs(gpu_clock_mhz=1200, power_limit_w=400)),
    ):
        assert devices[0].locked_clock == (1200, 1200)
        os.kill(os.getpid(), signal.SIGTERM)
    assert info.value.code == 128 + signal.SIGTERM
    assert all(d.locked_clock is None and d.limit_mw == 700_000 for d in devices)
    assert signal.getsignal(signal.SIGTERM) == signal.SIG_DFL


def test_unsupported_values_list_the_valid_ones(nvml_control) -> None:
    control, devices = nvml_control
    with pytest.raises(SpecError, match=r"1234 is not a clock.*1230, 1245.*210\.\.1980"):
        apply_knobs(control, Knobs(gpu_clock_mhz=1234)).__enter__()
    with pytest.raises(SpecError, match=r"900 is outside the range.*200\.\.700 W"):
        apply_knobs(control, Knobs(power_limit_w=900)).__enter__()
    assert all(d.calls == [] for d in devices)


def test_no_permission_is_a_device_error_with_the_fix(nvml_control) -> None:
    control, devices = nvml_control
    for d in devices:
        d.privileged = False
    with pytest.raises(DeviceError, match=r"root or the CAP_SYS_ADMIN.*sudo") as info:
        apply_knobs(control, Knobs(gpu_clock_mhz=1410)).__enter__()
    assert info.value.nvml_code == 4
    assert all(d.locked_clock is None for d in devices)


def test_clock_lock_not_supported(nvml_control) -> None:
    control, devices = nvml_control
    devices[0].supports_clock_lock = False
    with pytest.raises(DeviceError, match="NOT_SUPPORTED"):
        control.set_gpu_clock(1410)


def test_default_knobs_need_no_controller() -> None:
    with apply_knobs(None, Knobs()):
        pass
    with pytest.raises(SpecError, match="no device controller"):
        apply_knobs(None, Knobs(power_limit_w=300)).__enter__()


def test_fake_control_mirrors_nvml() -> None:
    node = SimulatedNode(2)
    control = FakeControl(node, [1])
    with apply_knobs(control, Knobs(gpu_clock_mhz=990, power_limit_w=300)):
        assert node.gpus[1].locked_clock_mhz == 990
        assert node.gpus[1].power_limit_w == 300
        assert node.gpus[0].is_reset
    assert node.gpus[1].is_reset
    node.gpus[1].privileged = False
    with pytest.raises(DeviceError, match="CAP_SYS_ADMIN"):
        apply_knobs(control, Knobs(power_limit_w=300)).__enter__()
    assert node.gpus[1].is_reset


def test_terminate_on_signals_leaves_foreign_handlers_alone() -> None:
    def handler(signum, frame):  # pragma: no cover - never called
        pass

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        with terminate_on_signals():
            assert signal.getsignal(signal.SIGTERM) is handler
        assert signal.getsignal(signal.SIGTERM) is handler
    finally:
        signal.signal(signal.SIGTERM, previous)
