"""vLLM and Transformers sweeps end to end on their fakes; GPU identity; quality flags;
prefill and decode energy apart."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import pytest
from fakes import torch as fake_torch
from fakes import transformers as fake_transformers

from sweetspot import read_measurements
from sweetspot.exceptions import DeviceError, SpecError
from sweetspot.harness.devices import engine_environment, resolve_gpus
from sweetspot.harness.engines import EngineConfig
from sweetspot.harness.engines.transformers import TransformersEngine, hf_config_for
from sweetspot.harness.meter import NvmlMeter, PowerSample, Window, window_quality
from sweetspot.harness.sweep import SweepSpec, run_sweep

FAKES = Path(__file__).resolve().parents[1] / "fakes"
REAL = {"cooldown_s": 0.02, "min_window_s": 0.15, "idle_s": 0.15, "sample_interval_s": 0.01}


@pytest.fixture
def fake_torch_and_transformers(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", fake_torch)
    monkeypatch.setitem(sys.modules, "transformers", fake_transformers)
    fake_transformers._Model.built.clear()
    fake_torch.cuda.available = False
    return fake_transformers


# ------------------------------------------------------------------------------- vLLM


def test_vllm_sweep_end_to_end_one_process_per_configuration(
    fake_nvml, tmp_path, monkeypatch
) -> None:
    devices = fake_nvml.fake_reset(2, power_w=200.0)
    monkeypatch.syspath_prepend(str(FAKES))  # the engine's child process imports vllm
    log = tmp_path / "vllm.jsonl"
    monkeypatch.setenv("SWEETSPOT_FAKE_VLLM_LOG", str(log))
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", f"{devices[1].uuid}")
    spec = SweepSpec(
        model="llama-3.1-8b",
        engine="vllm",
        n_in=(16,),
        n_out=(8,),
        requests=(3,),
        max_batch_size=(2, 4),
        **REAL,
    )
    report = run_sweep(spec, tmp_path / "s")
    assert report.measured == 2
    data = read_measurements(tmp_path / "s")
    assert (data["engine"] == "vllm").all()
    assert all(u == [devices[1].uuid] for u in data["gpu_uuids"])
    seen = [json.loads(line) for line in log.read_text().splitlines()]
    assert len(seen) == 2 and seen[0]["pid"] != seen[1]["pid"]  # a process per configuration
    assert {s["kwargs"]["max_num_seqs"] for s in seen} == {2, 4}
    assert all(s["kwargs"]["enable_prefix_caching"] is False for s in seen)
    assert all(s["CUDA_VISIBLE_DEVICES"] == devices[1].uuid for s in seen)
    assert data["prefill_energy_j"].notna().all() and data["decode_energy_j"].notna().all()
    rig = data.attrs["manifest"]["rigs"][0]
    assert rig["engine"]["sampling_params"]["ignore_eos"] is True


def test_vllm_load_failure_is_a_device_error(monkeypatch) -> None:
    from sweetspot.harness.engines.vllm import VllmEngine

    monkeypatch.syspath_prepend(str(FAKES))
    engine = VllmEngine(EngineConfig(model="fail-to-load"))
    with pytest.raises(DeviceError, match=r"vLLM could not load 'fail-to-load'.*out of memory"):
        engine.load()
    missing = VllmEngine(EngineConfig(model="m"), module="no_such_vllm_module")
    with pytest.raises(Exception, match=r"sweetspot\[vllm\]"):
        missing.load()


# ------------------------------------------------------------------------ Transformers


def test_transformers_engine_on_the_fakes(fake_torch_and_transformers) -> None:
    engine = TransformersEngine(
        EngineConfig(model="llama-3.2-1b"),
        torch_module="torch",
        transformers_module="transformers",
    )
    result = engine.run(12, 9, 5, concurrency=2, seed=0)
    assert len(result.requests) == 5
    assert all(r.n_in == 12 and r.n_out == 9 for r in result.requests)
    assert all(0 <= r.ttft_s <= r.e2e_s and math.isfinite(r.tbt_s) for r in result.requests)
    (model,) = fake_transformers._Model.built
    assert model.config.model_type == "llama" and model.config.num_hidden_layers == 16
    assert model.dtype == "torch.float32"  # the CPU default, passed as dtype= (5.x)
    call = model.calls[0]
    assert call["min_new_tokens"] == call["max_new_tokens"] == 9 and call["use_cache"]
    assert [c["input_ids"].shape[0] for c in model.calls] == [2, 2, 1]  # waves of 2
    info = engine.info()
    assert info["dtype_keyword"] == "dtype" and "random weights" in info["model_source"]


def test_transformers_engine_from_a_config_json(fake_torch_and_transformers, tmp_path) -> None:
    config = tmp_path / "config.json"
    config.write_text(
        json.dumps(
            {
                "model_type": "qwen2",
                "hidden_size": 64,
                "intermediate_size": 128,
                "num_hidden_layers": 2,
                "num_attention_heads": 4,
                "num_key_value_heads": 2,
                "vocab_size": 1000,
                "architectures": ["Qwen2ForCausalLM"],
            }
        )
    )
    engine = TransformersEngine(EngineConfig(model="tiny", model_path=str(config)))
    engine.load()
    assert fake_transformers._Model.built[-1].config.model_type == "qwen2"
    with pytest.raises(SpecError, match="tp=1"):
        TransformersEngine(EngineConfig(model="tiny", tp=2))


def test_transformers_engine_checks_the_cuda_device_is_the_metered_one(
    fake_torch_and_transformers,
) -> None:
    fake_torch.cuda.available = True
    fake_torch.cuda.uuids = ("GPU-aaaa",)
    try:
        bad = TransformersEngine(EngineConfig(model="llama-3.2-1b"), expected_uuids=["GPU-bbbb"])
        with pytest.raises(DeviceError, match=r"CUDA runs this engine on .*GPU-aaaa.*GPU-bbbb"):
            bad.load()
        good = TransformersEngine(EngineConfig(model="llama-3.2-1b"), expected_uuids=["GPU-aaaa"])
        good.load()
        assert good.info()["dtype"] == "torch.bfloat16"
    finally:
        fake_torch.cuda.available = False


def test_transformers_sweep_end_to_end(fake_nvml, fake_torch_and_transformers, tmp_path) -> None:
    spec = SweepSpec(
        model="qwen2-1.5b", engine="transformers", n_in=(8, 16), n_out=(4,), requests=(2,), **REAL
    )
    run_sweep(spec, tmp_path / "s")
    data = read_measurements(tmp_path / "s")
    assert len(data) == 2 and (data["engine"] == "transformers").all()
    assert (data["prefill_energy_j"] > 0).all()
    assert data["quality_flags"].str.contains("short_window").all()  # 0.15 s windows


def test_transformers_engine_with_real_torch_on_cpu() -> None:
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    engine = TransformersEngine(
        EngineConfig(model="tiny", model_path=None), device="cpu", architecture=_tiny()
    )
    result = engine.run(6, 5, 3, concurrency=3, seed=1)
    assert all(r.n_in == 6 and r.n_out == 5 for r in result.requests)
    assert result.requests[0].ttft_s <= result.requests[0].e2e_s
    engine.close()


def _tiny():
    from sweetspot.architecture import Architecture

    return Architecture(
        name="tiny-llama",
        n_layers=2,
        hidden_size=64,
        n_heads=4,
        n_kv_heads=2,
        head_dim=16,
        ffn_size=128,
        gated_mlp=True,
        vocab_size=512,
        tied_embeddings=True,
    )


def test_hf_config_for_refuses_shapes_it_cannot_build() -> None:
    from sweetspot.architecture import get_architecture

    assert hf_config_for(get_architecture("qwen2-1.5b"))[0] == "qwen2"
    with pytest.raises(SpecError, match=r"config\.json"):
        hf_config_for(get_architecture("mixtral-8x7b-v0.1"))


# ------------------------------------------------------------------------- GPU identity


def test_resolve_gpus_by_index_uuid_and_mig(fake_nvml) -> None:
    devices = fake_nvml.fake_reset(4)
    devices[2].mig_uuids = ("MIG-11112222-3333",)
    nv = fake_nvml
    nv.nvmlInit()
    try:
        env = {"CUDA_VISIBLE_DEVICES": f"2,{devices[0].uuid[:13]}"}
        got = resolve_gpus(nv, None, 2, environ=env)
        assert [d.nvml_index for d in got] == [2, 0]
        assert resolve_gpus(nv, [1], 1, environ=env)[0].nvml_index == 0
        assert resolve_gpus(nv, [devices[2].uuid], 1, environ=env)[0].nvml_index == 2
        mig = resolve_gpus(nv, None, 1, environ={"CUDA_VISIBLE_DEVICES": "MIG-11112222-3333"})
        assert mig[0].nvml_index == 2 and mig[0].mig_uuid == "MIG-11112222-3333"
        assert engine_environment(mig)["CUDA_VISIBLE_DEVICES"] == "MIG-11112222-3333"
        with pytest.raises(DeviceError, match=r"needs 3 GPU.*sees 2"):
            resolve_gpus(nv, None, 3, environ=env)
        with pytest.raises(DeviceError, match="not visible to this process"):
            resolve_gpus(nv, [devices[3].uuid], 1, environ=env)
        with pytest.raises(DeviceError, match="matches no GPU"):
            resolve_gpus(nv, None, 1, environ={"CUDA_VISIBLE_DEVICES": "GPU-nope"})
        devices[1].name = "NVIDIA A100-SXM4-80GB"
        with pytest.raises(DeviceError, match="CUDA_DEVICE_ORDER=PCI_BUS_ID"):
            resolve_gpus(nv, None, 1, environ={"CUDA_VISIBLE_DEVICES": "1"})
        ordered = {"CUDA_VISIBLE_DEVICES": "1", "CUDA_DEVICE_ORDER": "PCI_BUS_ID"}
        assert resolve_gpus(nv, None, 1, environ=ordered)[0].nvml_index == 1
    finally:
        nv.nvmlShutdown()


def test_mig_instances_are_metered_on_their_gpu_and_refuse_knobs(
    fake_nvml, fake_trtllm, tmp_path, monkeypatch
) -> None:
    devices = fake_nvml.fake_reset(2)
    devices[1].mig_uuids = ("MIG-aaaa-bbbb",)
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "MIG-aaaa-bbbb")
    base = {"model": "llama-3.1-8b", "engine": "tensorrt_llm", "n_in": (8,), "n_out": (4,)}
    run_sweep(SweepSpec(**base, requests=(1,), **REAL), tmp_path / "ok")
    row = read_measurements(tmp_path / "ok").iloc[0]
    assert row["gpu_ids"] == [1] and row["gpu_mig_uuids"] == ["MIG-aaaa-bbbb"]
    with pytest.raises(SpecError, match="MIG instance"):
        run_sweep(
            SweepSpec(**base, requests=(1,), power_limit_w=(400.0,), **REAL), tmp_path / "knobs"
        )


# ------------------------------------------------------------------------- quality flags


def test_quality_flags_for_counter_power_mismatch_and_short_windows() -> None:
    samples = tuple(PowerSample(t_s=0.1 * i, power_w=(100.0,)) for i in range(51))
    good = Window(duration_s=5.0, energy_per_gpu_j=(500.0,), samples=samples)
    assert window_quality(good) == ()
    off = Window(duration_s=5.0, energy_per_gpu_j=(600.0,), samples=samples)
    assert window_quality(off) == ("counter_power_mismatch",)
    assert window_quality(off, tolerance=0.25) == ()
    short = Window(duration_s=0.5, energy_per_gpu_j=(50.0,))
    assert window_quality(short) == ("short_window",)
    assert window_quality(short, counter_update_s=0.02) == ()


def test_a_power_sensor_that_disagrees_with_the_counter_flags_the_point(
    fake_nvml, fake_trtllm, tmp_path
) -> None:
    fake_nvml.fake_reset(1, power_w=200.0, power_read_factor=0.6)
    spec = SweepSpec(
        model="llama-3.1-8b",
        engine="tensorrt_llm",
        n_in=(8,),
        n_out=(4,),
        requests=(1,),
        cooldown_s=0.02,
        min_window_s=1.2,
        idle_s=0.2,
        sample_interval_s=0.01,
        prefill_window=False,
    )
    run_sweep(spec, tmp_path / "s")
    row = read_measurements(tmp_path / "s").iloc[0]
    assert row["quality_flags"] == "counter_power_mismatch"
    assert not row["quality_ok"]
    assert row["counter_update_s"] == pytest.approx(0.1, abs=0.03)
    assert "prefill_energy_j" not in row.index or math.isnan(row["prefill_energy_j"])


def test_counter_update_period_is_measured(fake_nvml) -> None:
    with NvmlMeter([0], sample_interval_s=0.0) as meter:
        assert meter.counter_update_period_s(0.5) == pytest.approx(0.1, abs=0.03)


def test_prefill_and_decode_energy_apart_on_the_fake_engine(tmp_path) -> None:
    spec = SweepSpec(
        model="llama-3.1-8b",
        engine="fake",
        n_in=(1024,),
        n_out=(64, 512),
        cooldown_s=1.0,
        min_window_s=2.0,
        idle_s=2.0,
    )
    run_sweep(spec, tmp_path / "s")
    with pytest.warns(Warning):
        data = read_measurements(tmp_path / "s").sort_values("n_out")
    assert (data["prefill_energy_j"] > 0).all() and (data["decode_energy_j"] > 0).all()
    assert data["prefill_energy_j"].add(data["decode_energy_j"]).tolist() == pytest.approx(
        data["energy_j"].tolist()
    )
    per_request = data["prefill_energy_per_request_j"].tolist()
    assert per_request[0] == pytest.approx(per_request[1], rel=0.05)  # same prompt length
    share = (data["decode_energy_j"] / data["energy_j"]).tolist()
    assert share[1] > share[0]  # longer outputs: more of the energy is decode
