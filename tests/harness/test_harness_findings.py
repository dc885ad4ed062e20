"""The findings of issue 15 in the harness (1, 2, 3 and 7), each shown on the fakes.

Findings 4, 5 and 6 (the importers) are in tests/io/test_zeus.py, test_trtllm_bench.py and
test_codecarbon.py.
"""

from __future__ import annotations

import json
import signal
from pathlib import Path

import pytest
import tomllib

from sweetspot import read_measurements
from sweetspot.exceptions import DeviceError
from sweetspot.harness.engines import EngineConfig
from sweetspot.harness.engines.tensorrt_llm import TensorRTLLMEngine
from sweetspot.harness.sweep import SweepSpec, run_sweep

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def keep_signal_handlers():
    """ray.init installs SIGTERM/SIGINT handlers in the driver that outlive ray.shutdown;
    put the previous ones back so that later tests see the process as it was."""
    saved = {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGINT)}
    yield
    for sig, handler in saved.items():
        signal.signal(sig, handler)


REAL = {"cooldown_s": 0.02, "min_window_s": 0.15, "idle_s": 0.15, "sample_interval_s": 0.01}


# -- finding 1: meter and knobs act on the GPU the engine uses --------------------------------


def test_finding_1_cuda_visible_devices_3_meters_and_controls_gpu_3(
    fake_nvml, fake_trtllm, tmp_path, monkeypatch
) -> None:
    devices = fake_nvml.fake_reset(4, power_w=100.0)
    devices[3].power_w = 300.0  # the engine's GPU is the busy one
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "3")
    spec = SweepSpec(
        model="llama-3.1-8b",
        engine="tensorrt_llm",
        n_in=(16,),
        n_out=(8,),
        requests=(2,),
        power_limit_w=(450.0,),
        **REAL,
    )
    run_sweep(spec, tmp_path / "s")
    data = read_measurements(tmp_path / "s")
    row = data.iloc[0]
    assert row["gpu_uuids"] == [devices[3].uuid]
    assert row["gpu_ids"] == [3]
    assert row["avg_power_w"] == pytest.approx(300.0, rel=0.2)
    assert ("set_power_limit_mw", 450_000) in devices[3].calls
    assert devices[0].calls == []  # the GPU it does not use is left alone
    llm = fake_trtllm.LLM.instances[0]
    assert llm.environment["CUDA_VISIBLE_DEVICES"] == devices[3].uuid
    manifest = data.attrs["manifest"]
    assert manifest["rigs"][0]["devices"][0]["uuid"] == devices[3].uuid
    assert manifest["rigs"][0]["devices"][0]["name"] == "NVIDIA H100 80GB HBM3"


# -- finding 2: TensorRT-LLM backend choice ----------------------------------------------------


def test_finding_2_engine_directories_get_the_tensorrt_backend(fake_trtllm, tmp_path) -> None:
    engine_dir = tmp_path / "engine"
    engine_dir.mkdir()
    (engine_dir / "config.json").write_text(json.dumps({"build_config": {"max_batch_size": 8}}))
    (engine_dir / "rank0.engine").write_bytes(b"\0")
    engine = TensorRTLLMEngine(EngineConfig(model="llama-3.1-8b", model_path=str(engine_dir)))
    engine.load()
    from fakes.tensorrt_llm._tensorrt_engine import LLM as TrtLLM

    assert type(fake_trtllm.LLM.instances[-1]) is TrtLLM
    assert engine.info()["backend"] == "tensorrt"
    hf = TensorRTLLMEngine(EngineConfig(model="meta-llama/Llama-3.1-8B", backend="pytorch"))
    hf.load()
    assert type(fake_trtllm.LLM.instances[-1]) is fake_trtllm.LLM
    assert hf.info()["backend"] == "pytorch"
    forced = TensorRTLLMEngine(
        EngineConfig(model="x", model_path=str(tmp_path), backend="tensorrt")
    )
    forced.load()
    assert type(fake_trtllm.LLM.instances[-1]) is TrtLLM


# -- finding 3: Ray ------------------------------------------------------------------------------


def test_finding_3_ray_gpu_ids_may_be_uuid_strings() -> None:
    from types import SimpleNamespace

    from sweetspot.harness.ray_executor import _gpu_ids

    ray = SimpleNamespace(get_gpu_ids=lambda: ["GPU-8f2a1c3d-0000", "GPU-77aa0b1e-0000"])
    assert _gpu_ids(ray, 2) == ("GPU-8f2a1c3d-0000", "GPU-77aa0b1e-0000")
    with pytest.raises(DeviceError, match="gave this worker 2 GPU"):
        _gpu_ids(ray, 4)


def _alarm(signum, frame):  # pragma: no cover - only when the sweep hangs
    raise TimeoutError("the Ray sweep hung")


def test_finding_3_a_tp_larger_than_any_node_is_refused_at_once(
    tmp_path, keep_signal_handlers
) -> None:
    pytest.importorskip("ray")
    from ray.cluster_utils import Cluster

    from sweetspot.harness.ray_executor import RayExecutor

    cluster = Cluster(initialize_head=True, head_node_args={"num_gpus": 2, "num_cpus": 2})
    cluster.add_node(num_gpus=2, num_cpus=2)
    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(120)
    try:
        spec = SweepSpec(
            model="llama-3.1-8b", engine="fake", n_in=(64,), n_out=(64,), tp=(4,), **REAL
        )
        with pytest.raises(DeviceError, match=r"tp=4 needs 4 GPUs on one node.*largest node"):
            run_sweep(spec, tmp_path / "s", executor=RayExecutor(address=cluster.address))
        assert not (tmp_path / "s").exists()
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
        import ray

        ray.shutdown()
        cluster.shutdown()


def test_finding_3_ray_frees_the_gpus_of_each_configuration(tmp_path, keep_signal_handlers) -> None:
    pytest.importorskip("ray")
    import ray

    from sweetspot.harness.ray_executor import RayExecutor

    ray.init(num_gpus=1, include_dashboard=False)
    try:
        # two engine configurations on a one-GPU cluster: the second can only be placed once
        # the first configuration's actor and placement group are gone
        spec = SweepSpec(
            model="llama-3.1-8b",
            engine="fake",
            n_in=(64,),
            n_out=(64,),
            max_batch_size=(4, 8),
            **REAL,
        )
        report = run_sweep(spec, tmp_path / "s", executor=RayExecutor(placement_timeout_s=60))
        assert report.measured == 2
        manifest = json.loads((tmp_path / "s" / "manifest.json").read_text())
        assert len(manifest["rigs"]) == 2
        assert all(r["ray_gpu_ids"] for r in manifest["rigs"])
        import time

        deadline = time.monotonic() + 30  # placement groups are removed asynchronously
        while ray.available_resources().get("GPU", 0) < 1 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert ray.available_resources().get("GPU", 0) == 1  # nothing left holding it
    finally:
        ray.shutdown()


# -- finding 7: the real tokenizer wrapper, strict fakes, the version floor ---------------------


def test_finding_7_vocab_size_lookup_survives_the_real_tokenizer_wrapper(fake_trtllm) -> None:
    engine = TensorRTLLMEngine(EngineConfig(model="some/unknown-model"))
    engine.load()  # the wrapper's vocab_size raises NotImplementedError (transformers 5)
    assert engine._vocab == 50257  # read from the wrapped HF tokenizer, not the fallback
    result = engine.run(8, 4, 2, concurrency=2, seed=0)
    assert all(r.n_out == 4 for r in result.requests)


def test_finding_7_the_driver_passes_only_arguments_the_real_llm_accepts(fake_trtllm) -> None:
    engine = TensorRTLLMEngine(
        EngineConfig(model="llama-3.1-8b", max_batch_size=8, max_num_tokens=4096)
    )
    engine.load()  # the fake raises ValueError for an argument the real LLM refuses
    assert set(engine.info()["llm_kwargs"]) <= {
        "model",
        "tensor_parallel_size",
        "kv_cache_config",
        "max_batch_size",
        "max_num_tokens",
        "dtype",
    }


def test_finding_7_tensorrt_llm_floor_is_1_0() -> None:
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]
    assert extras["trtllm"][0] == "tensorrt-llm>=1.0"
    assert "vllm" in extras and "transformers" in extras
    assert not any(d.split(">")[0].split("=")[0] in ("torch", "vllm") for d in extras["test"])
