"""NvmlMeter against the fake pynvml: counter differencing, granularity, errors."""

from __future__ import annotations

import math
import sys
import time

import pytest

from sweetspot.exceptions import DependencyError, DeviceError, SpecError
from sweetspot.harness.clock import RealClock
from sweetspot.harness.meter import NvmlMeter, PowerSample, Window, measure_idle


def test_window_energy_is_counter_difference_in_joules(fake_nvml) -> None:
    fake_nvml.fake_reset(2, power_w=150.0)
    fake_nvml.fake_devices()[1].power_w = 50.0
    with NvmlMeter(sample_interval_s=0.01) as meter:
        assert meter.n_gpus == 2
        meter.start()
        time.sleep(0.55)
        window = meter.stop()
    # Edges sit on 100 ms counter updates: energy and duration cover the same interval (up
    # to the polling delay of the edge detection, a few ms on an idle host).
    assert window.aligned
    assert window.duration_s == pytest.approx(round(window.duration_s, 1), abs=0.05)
    assert window.energy_per_gpu_j[0] == pytest.approx(150.0 * window.duration_s, rel=0.15)
    assert window.energy_per_gpu_j[1] == pytest.approx(50.0 * window.duration_s, rel=0.15)
    assert window.energy_j == pytest.approx(sum(window.energy_per_gpu_j))
    assert window.avg_power_w == pytest.approx(200.0, rel=0.15)
    assert window.power_source == "instant"
    assert len(window.samples) > 5
    assert window.peak_power_w == pytest.approx(200.0)
    assert window.integrated_energy_j == pytest.approx(window.energy_j, rel=0.25)
    assert window.energy_resolution_j == pytest.approx(0.002)
    assert not fake_nvml.fake_initialised()  # closed: nvmlShutdown balanced nvmlInit


def test_power_change_inside_window_is_integrated(fake_nvml) -> None:
    device = fake_nvml.fake_devices()[0]
    with NvmlMeter(sample_interval_s=0.0) as meter:
        meter.start()
        time.sleep(0.2)
        device.set_power(400.0)
        time.sleep(0.2)
        window = meter.stop()
    assert window.samples == ()
    # between 100 W * 0.2 s and 400 W over the rest
    assert 100.0 * window.duration_s < window.energy_j < 400.0 * window.duration_s


def test_unaligned_windows_report_the_quantisation(fake_nvml) -> None:
    with NvmlMeter(align=False, sample_interval_s=0.0) as meter:
        meter.start()
        time.sleep(0.25)
        window = meter.stop()
    assert not window.aligned
    # the counter moves in 100 ms steps: the difference is a multiple of 10 J at 100 W
    assert window.energy_j == pytest.approx(round(window.energy_j / 10) * 10, abs=0.01)
    assert window.energy_resolution_j == pytest.approx(2 * 0.1 * window.avg_power_w)


def test_average_power_fallback_when_instant_field_is_unsupported(fake_nvml) -> None:
    fake_nvml.fake_reset(1, supports_instant=False)
    with NvmlMeter(sample_interval_s=0.01) as meter:
        assert meter.power_source == "average"
        meter.start()
        time.sleep(0.15)
        window = meter.stop()
        assert meter.system_info()["power_source"] == "average"
    assert window.power_source == "average"
    assert window.samples


def test_no_energy_counter_is_a_device_error(fake_nvml) -> None:
    fake_nvml.fake_reset(1, supports_energy=False)
    with pytest.raises(DeviceError, match=r"total-energy counter of GPU 0.*Not Supported.*Volta"):
        NvmlMeter()
    assert not fake_nvml.fake_initialised()


def test_counter_reset_during_window_is_a_device_error(fake_nvml) -> None:
    device = fake_nvml.fake_devices()[0]
    with NvmlMeter(sample_interval_s=0.0) as meter:
        meter.start()
        time.sleep(0.05)
        device.reload_driver()
        with pytest.raises(DeviceError, match=r"went backwards.*persistence mode"):
            meter.stop()


def test_32_bit_counter_wrap_is_a_device_error(fake_nvml) -> None:
    # A 32-bit binding wraps after 2**32 mJ; start 30 J (0.3 s at 100 W) below the wrap.
    fake_nvml.fake_reset(1, counter_bits=32, counter_offset_mj=2**32 - 30_000)
    with NvmlMeter(sample_interval_s=0.0) as meter:
        meter.start()
        time.sleep(0.5)
        with pytest.raises(DeviceError, match=r"went backwards.*nvidia-ml-py >= 12"):
            meter.stop()


def test_counter_jump_is_a_device_error(fake_nvml) -> None:
    device = fake_nvml.fake_devices()[0]
    with NvmlMeter(sample_interval_s=0.0) as meter:
        meter.start()
        device.counter_offset_mj += 10**12
        time.sleep(0.1)
        with pytest.raises(DeviceError, match=r"jumped by .* reset or wrapped"):
            meter.stop()


def test_window_protocol_errors(fake_nvml) -> None:
    with NvmlMeter(sample_interval_s=0.0) as meter:
        with pytest.raises(DeviceError, match="no measurement window is open"):
            meter.stop()
        meter.start()
        with pytest.raises(DeviceError, match="already open"):
            meter.start()
        meter.stop()


def test_bad_gpu_index(fake_nvml) -> None:
    with pytest.raises(DeviceError, match=r"GPU index 3 does not exist.*1 GPU"):
        NvmlMeter([3])
    assert not fake_nvml.fake_initialised()


def test_missing_bindings_are_a_dependency_error(monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "pynvml", None)
    with pytest.raises(DependencyError, match=r"pip install \"sweetspot\[nvml\]\""):
        NvmlMeter()


def test_states_and_provenance(fake_nvml) -> None:
    device = fake_nvml.fake_devices()[0]
    device.temperature_c = 61
    with NvmlMeter([0], sample_interval_s=0.0) as meter:
        (state,) = meter.read_states()
        (info,) = meter.device_info()
        system = meter.system_info()
    assert state.temperature_c == 61
    assert state.sm_clock_mhz == 1980
    assert state.mem_clock_mhz == 2619
    assert state.power_limit_w == 700.0
    assert state.throttle_reasons == 0
    assert info.name == "NVIDIA H100 80GB HBM3"
    assert info.uuid.startswith("GPU-fake-0000")
    assert info.persistence_mode is True
    assert (info.min_power_limit_w, info.max_power_limit_w) == (200.0, 700.0)
    assert info.default_power_limit_w == 700.0
    assert system["driver_version"] == "550.54.15"
    assert system["cuda_driver_version"] == "12.4"


def test_idle_baseline(fake_nvml) -> None:
    fake_nvml.fake_reset(1, power_w=70.0)
    with NvmlMeter(sample_interval_s=0.0) as meter:
        idle = measure_idle(meter, RealClock(), 0.2)
    assert idle.power_w == pytest.approx(70.0, rel=0.2)
    assert idle.power_per_gpu_w[0] == pytest.approx(idle.power_w)
    assert idle.energy_j == pytest.approx(idle.power_w * idle.duration_s)
    assert idle.to_dict()["simulated"] is False
    with pytest.raises(SpecError, match="duration_s must be positive"):
        measure_idle(meter, RealClock(), 0)


def test_window_properties_without_samples() -> None:
    window = Window(duration_s=2.0, energy_per_gpu_j=(100.0, 50.0))
    assert window.energy_j == 150.0
    assert window.avg_power_w == 75.0
    assert math.isnan(window.peak_power_w)
    assert math.isnan(window.integrated_energy_j)
    sampled = Window(
        duration_s=1.0,
        energy_per_gpu_j=(100.0,),
        samples=(PowerSample(t_s=0.0, power_w=(80.0,)), PowerSample(t_s=1.0, power_w=(120.0,))),
    )
    assert sampled.integrated_energy_j == pytest.approx(100.0)
    assert sampled.peak_power_w == 120.0
