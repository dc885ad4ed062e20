"""TensorRT-LLM driver: exact-length requests through the LLM API, with streaming timings.

``tensorrt_llm`` is imported lazily, inside :meth:`TensorRTLLMEngine.load`: it needs Linux
with CUDA and MPI libraries and fails to import elsewhere. Install it with
``pip install "sweetspot[trtllm]"``.

What the driver does, and why:

- The backend: in TensorRT-LLM 1.x ``tensorrt_llm.LLM`` is the PyTorch backend (HF ids and
  checkpoints); a prebuilt engine directory needs ``tensorrt_llm._tensorrt_engine.LLM``.
  ``EngineConfig.backend`` chooses (``"pytorch"`` or ``"tensorrt"``); by default an engine
  directory (``config.json`` with ``build_config`` and ``*.engine`` files) gets the TensorRT
  backend, anything else the PyTorch one.
- ``LLM(model=..., tensor_parallel_size=tp, max_batch_size=..., max_num_tokens=...,
  kv_cache_config=KvCacheConfig(enable_block_reuse=False))``. Block reuse is on by default,
  and repeated prompts would then skip prefill: it is disabled for energy grids.
- Prompts are lists of random token ids of length ``n_in`` (a fresh seeded draw per request,
  avoiding the vocabulary's first 100 ids where special tokens live).
- ``SamplingParams(max_tokens=n_out, min_tokens=n_out, ignore_eos=True)`` forces exactly
  ``n_out`` tokens; the keywords are read from the installed ``SamplingParams`` signature
  (``end_id=-1`` replaces ``ignore_eos`` where it is missing). Returned lengths are checked.
- Requests are submitted with ``LLM.generate_async(..., streaming=True)`` under a semaphore
  of ``concurrency``; the arrival times of the streamed outputs give TTFT, the time between
  tokens and the end-to-end latency. ``run`` returns only when every request has finished,
  so window edges around it bound all GPU work even though the engine runs in worker
  processes.
- The defaults of ``max_batch_size`` and ``max_num_tokens`` differ between versions: the
  values in effect are read back from ``LLM.args`` when available and recorded by
  :meth:`TensorRTLLMEngine.info`.

References
----------
TensorRT-LLM LLM API reference (``LLM``, ``SamplingParams``, ``KvCacheConfig``,
``RequestOutput``): https://nvidia.github.io/TensorRT-LLM/llm-api/reference.html and the
"Generate text in streaming" example (``llm_inference_async_streaming.py``).
"""

from __future__ import annotations

import asyncio
import importlib
import inspect
import json
import os
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from ...exceptions import DependencyError, DeviceError
from . import (
    FALLBACK_VOCAB_SIZE,
    BatchResult,
    EngineConfig,
    RequestTiming,
    check_backend,
    check_run_arguments,
    random_prompts,
    vocab_size_of,
)

__all__ = ["TRTLLM_INSTALL_HINT", "TensorRTLLMEngine", "is_engine_dir"]

TRTLLM_INSTALL_HINT = (
    'pip install "sweetspot[trtllm]" (Linux with CUDA and MPI; see the TensorRT-LLM '
    "installation guide)"
)


def import_trtllm(name: str = "tensorrt_llm") -> ModuleType:
    """Import ``tensorrt_llm`` (or one of its modules), or say how to install it.

    Raises
    ------
    DependencyError
        The module cannot be imported (TensorRT-LLM not installed, or no CUDA).
    """
    try:
        return importlib.import_module(name)
    except ImportError as exc:
        raise DependencyError(
            f"the tensorrt_llm engine needs the {name} module, which cannot be imported "
            f"({exc}); install it with: {TRTLLM_INSTALL_HINT}. Without a GPU, try "
            "--engine fake."
        ) from exc


class TensorRTLLMEngine:
    """Drive TensorRT-LLM's LLM API with exact-length requests.

    Parameters
    ----------
    config : EngineConfig
        ``model`` (Hugging Face id) or ``model_path`` (local checkpoint / engine directory),
        ``tp``, ``max_batch_size``, ``max_num_tokens``, ``dtype``.
    vocab_size : int, optional
        Upper bound of the random prompt token ids; read from the engine's tokenizer, else
        from the architecture preset, else 32000.
    environ : mapping, optional
        ``CUDA_VISIBLE_DEVICES`` of the engine's GPUs, applied before TensorRT-LLM starts
        (the engine runs in this process and the MPI workers it spawns).

    Raises
    ------
    DependencyError
        On :meth:`load`, if ``tensorrt_llm`` cannot be imported.
    DeviceError
        If the engine fails or returns other lengths than asked for.
    """

    name = "tensorrt_llm"
    simulated = False

    def __init__(
        self,
        config: EngineConfig,
        *,
        vocab_size: int | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self.config = config
        self.environ = dict(environ or {})
        self._vocab = vocab_size
        self._llm: Any = None
        self._module: ModuleType | None = None
        self._sampling_params: Any = None
        self._sampling_keys: dict[str, Any] = {}
        self._kwargs: dict[str, Any] = {}
        self.backend: str | None = None
        check_backend(self.name, config.backend)

    def _backend(self) -> str:
        """The backend asked for, else 'tensorrt' for an engine directory, else 'pytorch'."""
        if self.config.backend is not None:
            return self.config.backend
        return "tensorrt" if is_engine_dir(self.config.model_path) else "pytorch"

    # -- lifecycle -----------------------------------------------------------------------
    def load(self) -> None:
        """Import ``tensorrt_llm`` and build the ``LLM`` (idempotent)."""
        if self._llm is not None:
            return
        # the engine's GPUs (UUIDs), for this process and the MPI workers it spawns
        os.environ.update(self.environ)
        trtllm = import_trtllm("tensorrt_llm")
        llmapi = import_trtllm("tensorrt_llm.llmapi")
        self._module = trtllm
        self.backend = self._backend()
        if self.backend == "tensorrt":
            # TensorRT-LLM 1.x: tensorrt_llm.LLM is the PyTorch backend; prebuilt engine
            # directories need the TensorRT backend's class
            llm_cls = import_trtllm("tensorrt_llm._tensorrt_engine").LLM
        else:
            llm_cls = getattr(trtllm, "LLM", None) or llmapi.LLM
        self._sampling_params = getattr(trtllm, "SamplingParams", None) or llmapi.SamplingParams
        kv_config = llmapi.KvCacheConfig(enable_block_reuse=False)
        kwargs: dict[str, Any] = {
            "model": self.config.model_path or self.config.model,
            "tensor_parallel_size": self.config.tp,
            "kv_cache_config": kv_config,
        }
        if self.config.max_batch_size is not None:
            kwargs["max_batch_size"] = self.config.max_batch_size
        if self.config.max_num_tokens is not None:
            kwargs["max_num_tokens"] = self.config.max_num_tokens
        if self.config.dtype != "auto":
            kwargs["dtype"] = self.config.dtype
        self._kwargs = kwargs
        self._sampling_keys = self._exact_length_keywords()
        try:
            self._llm = llm_cls(**kwargs)
        except Exception as exc:
            raise DeviceError(
                f"TensorRT-LLM ({self.backend} backend) could not load {kwargs['model']!r} with "
                f"tensor_parallel_size={self.config.tp}: {exc}. Check the model id or path "
                "(a prebuilt engine directory needs --trtllm-backend tensorrt), that "
                f"{self.config.tp} GPU(s) are visible (CUDA_VISIBLE_DEVICES), and that the "
                "weights fit."
            ) from exc
        if self._vocab is None:
            self._vocab = self._find_vocab_size()

    def close(self) -> None:
        """Shut the engine down (idempotent)."""
        llm, self._llm = self._llm, None
        if llm is not None and hasattr(llm, "shutdown"):
            llm.shutdown()

    def info(self) -> Mapping[str, Any]:
        """Engine version, the arguments passed, and the limits actually in effect."""
        version = getattr(self._module, "__version__", None) if self._module else None
        args = getattr(self._llm, "args", None)
        effective = {
            key: _plain(getattr(args, key, None))
            for key in ("max_batch_size", "max_num_tokens", "max_seq_len", "backend")
        }
        passed = {k: _plain(v) for k, v in self._kwargs.items() if k != "kv_cache_config"}
        passed["kv_cache_config"] = {"enable_block_reuse": False}
        return {
            "engine": "tensorrt_llm",
            "backend": self.backend,
            "version": version,
            "simulated": False,
            "config": self.config.to_dict(),
            "llm_kwargs": passed,
            "sampling_params": {"max_tokens": "n_out", **self._sampling_keys},
            "effective": effective,
        }

    # -- requests ------------------------------------------------------------------------
    def run(
        self, n_in: int, n_out: int, n_requests: int, *, concurrency: int, seed: int
    ) -> BatchResult:
        """Run ``n_requests`` random prompts of ``n_in`` tokens, ``n_out`` tokens each.

        Blocks until every request has finished; see :meth:`Engine.run`.

        Raises
        ------
        DeviceError
            If the engine raises, or a request comes back with another prompt or output
            length than asked for.
        """
        self.load()
        check_run_arguments(n_in, n_out, n_requests, concurrency)
        vocab = int(self._vocab or FALLBACK_VOCAB_SIZE)
        prompts = random_prompts(np.random.default_rng(seed), vocab, n_requests, n_in)
        params = self._sampling_params(max_tokens=n_out, **self._sampling_keys_for(n_out))
        coroutine = self._run_all(prompts, params, concurrency, n_in, n_out)
        try:
            timings, wall = _run_coroutine(coroutine)
        except DeviceError:
            raise
        except Exception as exc:
            raise DeviceError(
                f"TensorRT-LLM failed while running {n_requests} request(s) of n_in={n_in}, "
                f"n_out={n_out}: {exc}"
            ) from exc
        return BatchResult(requests=tuple(timings), wall_s=wall)

    async def _run_all(
        self, prompts: Sequence[list[int]], params: Any, concurrency: int, n_in: int, n_out: int
    ) -> tuple[list[RequestTiming], float]:
        gate = asyncio.Semaphore(concurrency)
        t0 = time.perf_counter()

        async def one(prompt: list[int]) -> RequestTiming:
            async with gate:
                return await self._one(prompt, params, n_in, n_out)

        timings = await asyncio.gather(*(one(p) for p in prompts))
        return list(timings), time.perf_counter() - t0

    async def _one(self, prompt: list[int], params: Any, n_in: int, n_out: int) -> RequestTiming:
        submitted = time.perf_counter()
        first: float | None = None
        last: Any = None
        async for output in self._llm.generate_async(prompt, params, streaming=True):
            if first is None and len(output.outputs[0].token_ids) > 0:
                first = time.perf_counter()
            last = output
        end = time.perf_counter()
        if last is None:
            raise DeviceError("TensorRT-LLM returned no output for a request.")
        got_in = len(getattr(last, "prompt_token_ids", None) or prompt)
        got_out = len(last.outputs[0].token_ids)
        if got_in != n_in or got_out != n_out:
            raise DeviceError(
                f"TensorRT-LLM returned a request with {got_in} prompt and {got_out} output "
                f"tokens; asked for exactly n_in={n_in} and n_out={n_out} (sampling keywords "
                f"{self._sampling_keys_for(n_out)}). The installed tensorrt_llm may ignore "
                "min_tokens or ignore_eos, or max_seq_len / max_num_tokens may be too small "
                "for these lengths; upgrade tensorrt-llm or raise --max-num-tokens."
            )
        ttft = (first if first is not None else end) - submitted
        tbt = (end - first) / (n_out - 1) if first is not None and n_out > 1 else float("nan")
        return RequestTiming(n_in=n_in, n_out=n_out, ttft_s=ttft, tbt_s=tbt, e2e_s=end - submitted)

    # -- helpers -------------------------------------------------------------------------
    def _exact_length_keywords(self) -> dict[str, Any]:
        """Keywords forcing exact output lengths, from the installed signature."""
        try:
            names = set(inspect.signature(self._sampling_params).parameters)
        except (TypeError, ValueError):
            names = set()
        keys: dict[str, Any] = {}
        if "min_tokens" in names:
            keys["min_tokens"] = "n_out"
        if "ignore_eos" in names:
            keys["ignore_eos"] = True
        elif "end_id" in names:
            keys["end_id"] = -1
        if "min_tokens" not in keys and "end_id" not in keys and "ignore_eos" not in keys:
            raise DependencyError(
                "the installed tensorrt_llm SamplingParams has neither min_tokens, ignore_eos "
                "nor end_id, so exact output lengths cannot be requested; upgrade with: "
                f"{TRTLLM_INSTALL_HINT}"
            )
        return keys

    def _sampling_keys_for(self, n_out: int) -> dict[str, Any]:
        return {k: (n_out if v == "n_out" else v) for k, v in self._sampling_keys.items()}

    def _find_vocab_size(self) -> int:
        """Upper bound of the prompt token ids: the Hugging Face tokenizer inside
        TensorRT-LLM's wrapper, else the architecture preset, else 32000.

        The wrapper (``tensorrt_llm.llmapi.tokenizer.TransformersTokenizer``) has no
        ``vocab_size`` of its own: with transformers 5 the attribute it inherits from
        ``PreTrainedTokenizerBase`` raises ``NotImplementedError``, so every lookup is
        guarded (:func:`~sweetspot.harness.engines.vocab_size_of`) and the wrapped tokenizer
        (``.tokenizer``) is asked first.
        """
        wrapper = getattr(self._llm, "tokenizer", None)
        return vocab_size_of((getattr(wrapper, "tokenizer", None), wrapper), self.config.model)


def is_engine_dir(path: str | None) -> bool:
    """True for a directory holding a TensorRT engine built by ``trtllm-build`` (a
    ``config.json`` with a ``build_config`` and ``*.engine`` files)."""
    if not path:
        return False
    root = Path(path)
    config = root / "config.json"
    if not (root.is_dir() and config.is_file() and any(root.glob("*.engine"))):
        return False
    try:
        return "build_config" in json.loads(config.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False


def _plain(value: Any) -> Any:
    """A JSON-friendly form of an argument value."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


def _run_coroutine(coroutine: Any) -> Any:
    """Run a coroutine to completion, also from inside a running event loop (notebooks)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    result: dict[str, Any] = {}

    def target() -> None:
        try:
            result["value"] = asyncio.run(coroutine)
        except BaseException as exc:
            result["error"] = exc

    thread = threading.Thread(target=target, name="sweetspot-trtllm")
    thread.start()
    thread.join()
    if "error" in result:
        raise result["error"]
    return result["value"]
