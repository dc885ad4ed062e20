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
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Protocol, runtime_checkable

import numpy as np

from ...exceptions import ArchitectureError, SpecError

__all__ = [
    "ENGINES",
    "ENGINE_BACKENDS",
    "ONE_GPU_ENGINES",
    "BatchResult",
    "Engine",
    "EngineConfig",
    "RequestTiming",
]

ENGINES: tuple[str, ...] = ("fake", "tensorrt_llm", "vllm", "transformers")
"""Engine names accepted by the harness."""

# The rules below are read both by SweepSpec (at validation) and by the drivers.

ENGINE_BACKENDS: Mapping[str, Mapping[str, str]] = MappingProxyType(
    {"tensorrt_llm": MappingProxyType({"pytorch": "", "tensorrt": "a prebuilt engine directory"})}
)
"""The values of ``EngineConfig.backend`` each engine accepts besides None, with what each
is for (an engine missing here has no backend choice)."""

ONE_GPU_ENGINES: frozenset[str] = frozenset({"transformers"})
"""Engines without tensor parallelism (``tp`` must be 1)."""

FIRST_TOKEN_ID = 100
"""Lowest random prompt token id: tokenizers keep their special tokens in the low ids."""

FALLBACK_VOCAB_SIZE = 32000
"""Upper bound of the prompt token ids when neither the tokenizer nor a preset knows it."""


def check_backend(engine: str, backend: str | None) -> None:
    """Raise :class:`~sweetspot.exceptions.SpecError` if ``engine`` has no ``backend``."""
    allowed = ENGINE_BACKENDS.get(engine, {})
    if backend is None or backend in allowed:
        return
    if not allowed:
        raise SpecError(f"the {engine} engine has no backend choice; got {backend!r}.")
    choices = " or ".join(
        f"{name!r} ({what})" if what else repr(name) for name, what in allowed.items()
    )
    raise SpecError(f"the {engine} engine's backend is {choices}; got {backend!r}.")


def check_tp(engine: str, tp: int) -> None:
    """Raise :class:`~sweetspot.exceptions.SpecError` if ``engine`` cannot run on ``tp``
    GPUs (an engine of :data:`ONE_GPU_ENGINES` with ``tp != 1``)."""
    if engine in ONE_GPU_ENGINES and tp != 1:
        raise SpecError(
            f"the {engine} engine runs on one GPU (tp=1); got tp={tp}. Use "
            "--engine vllm or tensorrt_llm for tensor parallelism."
        )


def check_run_arguments(n_in: int, n_out: int, n_requests: int, concurrency: int) -> None:
    """Raise :class:`~sweetspot.exceptions.SpecError` unless the arguments of
    :meth:`Engine.run` are all at least 1."""
    if min(n_in, n_out, n_requests, concurrency) < 1:
        raise SpecError(
            "n_in, n_out, n_requests and concurrency must all be >= 1; got "
            f"{n_in}, {n_out}, {n_requests} and {concurrency}."
        )


def random_prompts(
    rng: np.random.Generator, vocab_size: int, n_requests: int, n_in: int
) -> list[list[int]]:
    """``n_requests`` prompts of ``n_in`` random token ids in
    ``[FIRST_TOKEN_ID, vocab_size)`` (at least one id wide)."""
    high = max(vocab_size, FIRST_TOKEN_ID + 1)
    ids: list[list[int]] = rng.integers(FIRST_TOKEN_ID, high, size=(n_requests, n_in)).tolist()
    return ids


def vocab_size_of(tokenizers: Iterable[Any], model: str) -> int:
    """Upper bound of the prompt token ids: the first of ``tokenizers`` whose
    ``vocab_size`` (else ``len``) is an int above :data:`FIRST_TOKEN_ID`, else the
    architecture preset of ``model``, else :data:`FALLBACK_VOCAB_SIZE`.

    Every lookup is guarded: tokenizer wrappers may raise anything (``NotImplementedError``
    from transformers 5's ``PreTrainedTokenizerBase``, ``AttributeError``, ...); None
    entries are skipped.
    """
    for tokenizer in tokenizers:
        if tokenizer is None:
            continue
        for read in (lambda t: t.vocab_size, len):
            try:
                value = read(tokenizer)
            except Exception:
                continue
            if isinstance(value, int) and not isinstance(value, bool) and value > FIRST_TOKEN_ID:
                return value
    from ...architecture import get_architecture  # kept off the CLI parser's import path

    try:
        return get_architecture(model).vocab_size
    except ArchitectureError:
        return FALLBACK_VOCAB_SIZE


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
