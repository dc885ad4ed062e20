"""The fake engine and its simulated GPUs: deterministic, physical in the right directions."""

from __future__ import annotations

import math

import pytest

from sweetspot import fit
from sweetspot.exceptions import ArchitectureError, DeviceError, SpecError
from sweetspot.harness.clock import SimClock
from sweetspot.harness.engines import EngineConfig
from sweetspot.harness.engines.fake import FakeEngine, FakeMeter, GpuSpec, SimulatedNode


def window(n_in, n_out, *, n_requests=10, concurrency=10, seed=0, node=None, tp=1, **config):
    node = node or SimulatedNode(tp)
    engine = FakeEngine(EngineConfig(model="llama-3.1-8b", tp=tp, **config), node)
    meter = FakeMeter(node, list(range(tp)))
    meter.start()
    result = engine.run(n_in, n_out, n_requests, concurrency=concurrency, seed=seed)
    return meter.stop(), result, node


def test_deterministic_for_a_seed_and_independent_of_history() -> None:
    a, ra, _ = window(256, 128, seed=3)
    node = SimulatedNode(1)
    node.clock.sleep(12.345)  # a different history before the window
    b, rb, _ = window(256, 128, seed=3, node=node)
    assert a == b
    assert ra == rb
    c, _, _ = window(256, 128, seed=4)
    assert c.energy_j != a.energy_j
    assert c.energy_j == pytest.approx(a.energy_j, rel=0.05)


def test_labelled_simulated_and_counter_like() -> None:
    w, result, _ = window(128, 64)
    assert w.simulated and w.power_source == "simulated"
    assert w.duration_s == pytest.approx(round(w.duration_s, 1))  # edges on 100 ms ticks
    assert w.energy_j * 1000 == pytest.approx(round(w.energy_j * 1000))  # whole mJ
    assert len(result.requests) == 10
    assert all(r.n_in == 128 and r.n_out == 64 for r in result.requests)
    assert w.samples and w.peak_power_w <= 700.0
    assert 0 < w.gpu_util_pct <= 100


def test_energy_grows_with_lengths_and_fits_the_quadratic_model() -> None:
    rows = []
    for n_in in (64, 512, 2048):
        for n_out in (32, 256, 1024):
            w, _, _ = window(n_in, n_out, n_requests=4, concurrency=4)
            rows.append({"n_in": n_in, "n_out": n_out, "energy_j": w.energy_j, "n_requests": 4})
    by = {(r["n_in"], r["n_out"]): r["energy_j"] for r in rows}
    assert by[(64, 32)] < by[(512, 32)] < by[(2048, 32)]
    assert by[(64, 32)] < by[(64, 256)] < by[(64, 1024)]
    import pandas as pd

    result = fit(pd.DataFrame(rows), "flops", architecture="llama-3.1-8b")
    assert result.mape < 10.0


def test_power_cap_slows_down_and_lowers_power() -> None:
    free, _, _ = window(2048, 16, n_requests=32, concurrency=32)
    node = SimulatedNode(1)
    node.gpus[0].power_limit_w = 300.0
    capped, _, node = window(2048, 16, n_requests=32, concurrency=32, node=node)
    assert capped.duration_s > free.duration_s
    assert capped.peak_power_w <= 300.0 + 1e-9
    assert node.gpus[0].capped
    assert FakeMeter(node, [0]).read_states()[0].throttle_reasons == 0x4


def test_lower_locked_clock_saves_energy_on_compute_bound_work() -> None:
    fast, _, _ = window(2048, 8, n_requests=16, concurrency=16)
    node = SimulatedNode(1)
    node.gpus[0].locked_clock_mhz = 990
    slow, _, _ = window(2048, 8, n_requests=16, concurrency=16, node=node)
    assert slow.duration_s > fast.duration_s
    assert slow.energy_j < fast.energy_j
    assert FakeMeter(node, [0]).read_states()[0].sm_clock_mhz == 990


def test_tensor_parallel_uses_every_gpu_and_batching_waves() -> None:
    w, result, _ = window(512, 64, tp=2, n_requests=6, concurrency=4)
    assert len(w.energy_per_gpu_j) == 2
    assert w.energy_per_gpu_j[0] == pytest.approx(w.energy_per_gpu_j[1], rel=1e-9)
    ttft = sorted({round(r.ttft_s, 12) for r in result.requests})
    assert len(ttft) == 2  # two waves: 4 then 2 requests
    assert all(math.isfinite(r.tbt_s) for r in result.requests)
    _, res1, _ = window(512, 1, n_requests=1, concurrency=1)
    assert math.isnan(res1.requests[0].tbt_s)


def test_model_must_fit_and_be_known() -> None:
    node = SimulatedNode(1)
    engine = FakeEngine(EngineConfig(model="llama-2-70b"), node)
    with pytest.raises(DeviceError, match=r"needs 1\d\d\.\d GB.*Use a larger --tp"):
        engine.load()
    with pytest.raises(ArchitectureError):
        FakeEngine(EngineConfig(model="no-such-model"), node)
    with pytest.raises(DeviceError, match="needs 2 GPU"):
        FakeEngine(EngineConfig(model="llama-3.1-8b", tp=2), node, [0])
    info = FakeEngine(EngineConfig(model="llama-3.1-8b"), node).info()
    assert info["simulated"] is True and info["effective"]["max_batch_size"] == 2048


def test_meter_and_clock_contracts() -> None:
    node = SimulatedNode(1, GpuSpec(idle_power_w=50.0))
    meter = FakeMeter(node, [0])
    with pytest.raises(DeviceError, match="no measurement window"):
        meter.stop()
    meter.start()
    with pytest.raises(DeviceError, match="already open"):
        meter.start()
    node.clock.sleep(1.0)
    w = meter.stop()
    assert w.energy_j == pytest.approx(50.0 * w.duration_s)
    assert meter.device_info()[0].name.endswith("(simulated)")
    assert meter.system_info()["driver_version"] == "simulated"
    with pytest.raises(DeviceError, match="does not exist"):
        FakeMeter(node, [1])
    clock = SimClock()
    clock.sleep(2.5)
    assert clock.now() == 2.5
    with pytest.raises(SpecError, match="backwards"):
        clock.advance(-1)
    with pytest.raises(SpecError, match="time_scale"):
        SimClock(time_scale=-1)


def test_a_long_simulated_window_keeps_a_bounded_timeline() -> None:
    from sweetspot.harness.engines import fake
    from sweetspot.harness.engines.fake import FakeMeter, SimulatedNode

    node = SimulatedNode(1)
    meter = FakeMeter(node, [0], sample_interval_s=0.001)
    meter.start()
    node.idle(3600.0)  # an hour at 1 kHz would be 3.6 million samples
    window = meter.stop()
    assert 0 < len(window.samples) <= fake._MAX_SAMPLES
    assert window.energy_j == pytest.approx(70.0 * window.duration_s, rel=1e-6)
