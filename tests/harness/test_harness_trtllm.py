"""The TensorRT-LLM driver against the fake tensorrt_llm (and the NVML path end to end)."""

from __future__ import annotations

import math
import sys

import pytest

from sweetspot import read_measurements
from sweetspot.exceptions import DependencyError, DeviceError
from sweetspot.harness.engines import EngineConfig
from sweetspot.harness.engines.tensorrt_llm import TensorRTLLMEngine
from sweetspot.harness.sweep import SweepSpec, run_sweep


def test_llm_is_built_with_block_reuse_disabled(fake_trtllm) -> None:
    engine = TensorRTLLMEngine(
        EngineConfig(model="meta-llama/Llama-3.1-8B", tp=2, max_batch_size=16, dtype="bfloat16")
    )
    engine.load()
    engine.load()  # idempotent
    (llm,) = fake_trtllm.LLM.instances
    assert llm.model == "meta-llama/Llama-3.1-8B"
    assert llm.tensor_parallel_size == 2
    assert llm.kv_cache_config.enable_block_reuse is False
    assert llm.args.max_batch_size == 16
    assert llm.dtype == "bfloat16"
    info = engine.info()
    assert info["version"] == "1.0.0+fake"
    assert info["effective"]["max_num_tokens"] == 8192  # the installed default, read back
    assert info["llm_kwargs"]["kv_cache_config"] == {"enable_block_reuse": False}
    assert info["sampling_params"] == {
        "max_tokens": "n_out",
        "min_tokens": "n_out",
        "ignore_eos": True,
    }
    engine.close()
    assert llm.shut_down
    engine.close()


def test_exact_lengths_timings_and_concurrency(fake_trtllm) -> None:
    engine = TensorRTLLMEngine(EngineConfig(model="llama-3.1-8b", model_path="/models/l8b"))
    result = engine.run(100, 20, 9, concurrency=3, seed=1)
    assert fake_trtllm.LLM.instances[0].model == "/models/l8b"
    assert len(result.requests) == 9
    assert all(r.n_in == 100 and r.n_out == 20 for r in result.requests)
    assert all(0 < r.ttft_s <= r.e2e_s for r in result.requests)
    assert all(math.isfinite(r.tbt_s) for r in result.requests)
    assert fake_trtllm.LLM.max_in_flight == 3
    assert result.wall_s > 0
    assert set(result.percentiles("e2e_s")) == {50, 90, 99}


def test_short_outputs_are_caught(fake_trtllm, monkeypatch) -> None:
    # An installed version without ignore_eos or min_tokens: the model stops at EOS early.
    original = fake_trtllm.SamplingParams.__init__

    def old_init(self, *, max_tokens=32, end_id=None, temperature=None):
        original(self, max_tokens=max_tokens, end_id=end_id)

    monkeypatch.setattr(fake_trtllm.SamplingParams, "__init__", old_init)
    engine = TensorRTLLMEngine(EngineConfig(model="llama-3.1-8b"))
    engine.load()
    assert engine.info()["sampling_params"] == {"max_tokens": "n_out", "end_id": -1}
    assert engine.run(8, 30, 2, concurrency=2, seed=0).requests[0].n_out == 30
    fake_trtllm.LLM.instances[0].shut_down = False
    monkeypatch.setattr(engine, "_sampling_keys", {})
    with pytest.raises(
        DeviceError, match=r"7 output tokens; asked for exactly n_in=8 and n_out=30"
    ):
        engine.run(8, 30, 2, concurrency=2, seed=0)


def test_engine_failures_are_device_errors(fake_trtllm) -> None:
    fake_trtllm.LLM.fail_on_load = RuntimeError("CUDA out of memory")
    with pytest.raises(DeviceError, match=r"could not load .*CUDA out of memory"):
        TensorRTLLMEngine(EngineConfig(model="llama-3.1-8b")).load()
    fake_trtllm.LLM.fail_on_load = None
    engine = TensorRTLLMEngine(EngineConfig(model="llama-3.1-8b"))
    engine.load()
    fake_trtllm.LLM.instances[-1].shut_down = True
    with pytest.raises(DeviceError, match="failed while running 1 request"):
        engine.run(4, 4, 1, concurrency=1, seed=0)


def test_missing_tensorrt_llm_is_a_dependency_error(monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "tensorrt_llm", None)
    with pytest.raises(DependencyError, match=r"sweetspot\[trtllm\].*--engine fake"):
        TensorRTLLMEngine(EngineConfig(model="llama-3.1-8b")).load()


def test_real_engine_path_end_to_end(fake_nvml, fake_trtllm, tmp_path) -> None:
    """NvmlMeter + NvmlControl + TensorRTLLMEngine, on the fake modules, in real time."""
    fake_nvml.fake_reset(1, power_w=250.0)
    spec = SweepSpec(
        model="llama-3.1-8b",
        engine="tensorrt_llm",
        n_in=(16,),
        n_out=(8, 16),
        requests=(4,),
        power_limit_w=(450.0,),
        cooldown_s=0.05,
        min_window_s=0.2,
        idle_s=0.2,
        sample_interval_s=0.01,
    )
    report = run_sweep(spec, tmp_path / "real")
    assert (report.measured, report.simulated) == (2, False)
    data = read_measurements(tmp_path / "real")
    assert not data["simulated"].any()
    assert (data["gpu"] == "NVIDIA H100 80GB HBM3").all()
    assert (data["power_limit_w"] == 450.0).all()
    assert data["avg_power_w"].tolist() == pytest.approx([250.0, 250.0], rel=0.2)
    assert (data["power_source"] == "instant").all()
    assert data["engine"].eq("tensorrt_llm").all()
    device = fake_nvml.fake_devices()[0]
    assert device.limit_mw == 700_000  # reset after every point
    assert ("set_power_limit_mw", 450_000) in device.calls
    manifest = data.attrs["manifest"]
    assert manifest["rigs"][0]["system"]["driver_version"] == "550.54.15"
    assert manifest["rigs"][0]["engine"]["version"] == "1.0.0+fake"
    assert not fake_nvml.fake_initialised()
