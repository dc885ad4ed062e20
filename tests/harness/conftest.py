"""Fixtures of the harness tests: the fake pynvml and tensorrt_llm modules, small sweeps."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parents[1]
if str(TESTS) not in sys.path:
    sys.path.insert(0, str(TESTS))

from fakes import pynvml as fake_pynvml_module  # noqa: E402
from fakes import tensorrt_llm as fake_trtllm_module  # noqa: E402
from fakes.tensorrt_llm import _tensorrt_engine as fake_trt_engine_module  # noqa: E402
from fakes.tensorrt_llm import llmapi as fake_llmapi_module  # noqa: E402


@pytest.fixture
def fake_nvml(monkeypatch):
    """The fake pynvml installed as ``pynvml``, with one idle-ish device at 100 W."""
    fake_pynvml_module.fake_reset(1)
    monkeypatch.setitem(sys.modules, "pynvml", fake_pynvml_module)
    _clean_cuda_environment(monkeypatch)
    yield fake_pynvml_module
    fake_pynvml_module.fake_reset(0)


@pytest.fixture
def fake_trtllm(monkeypatch):
    """The fake tensorrt_llm installed as ``tensorrt_llm`` and ``tensorrt_llm.llmapi``."""
    llm = fake_llmapi_module.LLM
    llm.instances.clear()
    llm.max_in_flight = 0
    llm.eos_after = 7
    llm.fail_on_load = None
    monkeypatch.setitem(sys.modules, "tensorrt_llm", fake_trtllm_module)
    monkeypatch.setitem(sys.modules, "tensorrt_llm.llmapi", fake_llmapi_module)
    monkeypatch.setitem(sys.modules, "tensorrt_llm._tensorrt_engine", fake_trt_engine_module)
    _clean_cuda_environment(monkeypatch)
    return fake_trtllm_module


def _clean_cuda_environment(monkeypatch) -> None:
    """No CUDA_VISIBLE_DEVICES during the test, and none left after it: the in-process
    engines set it for the GPUs they run on (setenv first, so that teardown removes it)."""
    for name in ("CUDA_VISIBLE_DEVICES", "CUDA_DEVICE_ORDER"):
        monkeypatch.setenv(name, "")
        monkeypatch.delenv(name)


FAST = {
    "cooldown_s": 1.0,
    "min_window_s": 2.0,
    "idle_s": 2.0,
}
"""Simulated-time method parameters that keep fake sweeps small."""
