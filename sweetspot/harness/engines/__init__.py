"""Inference engines driven by the harness: a small protocol and its implementations.

An engine is loaded once (model on its GPUs), then asked to :meth:`Engine.run` batches of
``n_requests`` identical-shape requests of exactly ``n_in`` prompt tokens and ``n_out``
generated tokens, with at most ``concurrency`` requests in flight. ``run`` blocks until every
request has returned, so window edges placed around it bound the GPU work even when the
engine runs in worker processes. It returns the per-request timings (TTFT, time between
tokens, end-to-end latency) and the verified lengths.

Implementations:

- :class:`~sweetspot.harness.engines.fake.FakeEngine` (``"fake"``): a deterministic
  roofline simulation on simulated GPUs, for CPU-only machines, CI and trying the CLI;
- :class:`~sweetspot.harness.engines.tensorrt_llm.TensorRTLLMEngine` (``"tensorrt_llm"``):
  NVIDIA TensorRT-LLM's LLM API, PyTorch or TensorRT backend, imported lazily
  (``pip install "sweetspot[trtllm]"``);
- :class:`~sweetspot.harness.engines.vllm.VllmEngine` (``"vllm"``): vLLM's offline ``LLM``,
  run in a process of its own per engine configuration (``pip install "sweetspot[vllm]"``);
- :class:`~sweetspot.harness.engines.transformers.TransformersEngine` (``"transformers"``):
  PyTorch ``generate`` of Hugging Face Transformers, with random weights built from an
  architecture or a config.json when no weights are at hand
  (``pip install "sweetspot[transformers]"``).

Every engine is measured the same way by the sweep: a window over whole batches (the total
energy) and a window over the same batches cut at their first token (``n_out = 1``: the
prefill energy); decode energy is their difference.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import numpy as np

__all__ = ["ENGINES", "BatchResult", "Engine", "EngineConfig", "RequestTiming"]

ENGINES: tuple[str, ...] = ("fake", "tensorrt_llm", "vllm", "transformers")
"""Engine names accepted by the harness."""


@dataclass(frozen=True, slots=True, kw_only=True)
class EngineConfig:
    """What an engine instance is built with (a change means a reload).

    Attributes
    ----------
    model : str
        Architecture preset or Hugging Face id (``"llama-3.1-8b"``, ``"meta-llama/..."``).
    model_path : str or None
        Local checkpoint or engine directory passed to the engine instead of ``model``.
    tp : int
        Tensor-parallel size (GPUs per engine).
    max_batch_size : int or None
        Largest number of requests the engine schedules together (None: engine default).
    max_num_tokens : int or None
        Token budget per engine iteration (None: engine default).
    dtype : str
        Weight dtype passed to the engine (``"auto"`` lets the engine choose).
    backend : str or None
        Engine backend where an engine has several (TensorRT-LLM: ``"pytorch"`` or
        ``"tensorrt"``; None: the engine's choice).
    """

    model: str
    model_path: str | None = None
    tp: int = 1
    max_batch_size: int | None = None
    max_num_tokens: int | None = None
    dtype: str = "auto"
    backend: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {
            "model": self.model,
            "model_path": self.model_path,
            "tp": self.tp,
            "max_batch_size": self.max_batch_size,
            "max_num_tokens": self.max_num_tokens,
            "dtype": self.dtype,
            "backend": self.backend,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class RequestTiming:
    """Timings and verified lengths of one request.

    Attributes
    ----------
    n_in, n_out : int
        Prompt and generated tokens, as returned by the engine.
    ttft_s : float
        Time to first token, from submission [s].
    tbt_s : float
        Mean time between tokens after the first [s] (NaN when ``n_out == 1``).
    e2e_s : float
        End-to-end latency, submission to last token [s].
    """

    n_in: int
    n_out: int
    ttft_s: float
    tbt_s: float
    e2e_s: float


@dataclass(frozen=True, slots=True, kw_only=True)
class BatchResult:
    """What one :meth:`Engine.run` returned.

    Attributes
    ----------
    requests : tuple of RequestTiming
        One per request, in submission order.
    wall_s : float
        Time from the first submission to the last completion [s].
    """

    requests: tuple[RequestTiming, ...]
    wall_s: float

    def percentiles(self, name: str, qs: Sequence[float] = (50, 90, 99)) -> dict[int, float]:
        """Percentiles of a timing field (``"ttft_s"``, ``"tbt_s"``, ``"e2e_s"``) [s]."""
        values = np.array([getattr(r, name) for r in self.requests], dtype=float)
        values = values[np.isfinite(values)]
        if values.size == 0:
            return {int(q): math.nan for q in qs}
        return {int(q): float(np.percentile(values, q)) for q in qs}


@runtime_checkable
class Engine(Protocol):
    """What the sweep needs from an inference engine."""

    name: str
    simulated: bool
    config: EngineConfig

    def load(self) -> None:
        """Load the model (idempotent); the heavy part, outside every window."""
        ...

    def run(
        self, n_in: int, n_out: int, n_requests: int, *, concurrency: int, seed: int
    ) -> BatchResult:
        """Run ``n_requests`` requests and block until all have finished.

        Parameters
        ----------
        n_in, n_out : int
            Exact prompt and output lengths [tokens].
        n_requests : int
            Requests to run.
        concurrency : int
            Most requests in flight at once.
        seed : int
            Seed of the random prompt token ids (and of the simulation noise).

        Raises
        ------
        DeviceError
            If the engine fails or returns other lengths than asked for.
        """
        ...

    def info(self) -> Mapping[str, Any]:
        """Provenance: engine name and version, arguments, defaults actually in effect."""
        ...

    def close(self) -> None:
        """Release the model and its GPUs (idempotent)."""
        ...
