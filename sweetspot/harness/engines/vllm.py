"""vLLM driver: the offline ``LLM`` in a process of its own per engine configuration.

vLLM has no public way to shut an ``LLM`` down and free its GPUs, so each engine
configuration runs in a child process (``multiprocessing`` with the ``spawn`` start method),
which exits when :meth:`VllmEngine.close` is called; the next configuration gets a fresh
process. The child receives the engine's ``CUDA_VISIBLE_DEVICES`` (the UUIDs of the GPUs the
harness meters) before it imports vLLM.

What the driver does, and why:

- ``LLM(model, tensor_parallel_size=tp, dtype=..., enable_prefix_caching=False,
  max_num_seqs=max_batch_size, max_num_batched_tokens=max_num_tokens)``: prefix caching
  would let repeated prompts skip prefill, so it is off for energy grids;
- prompts are ``TokensPrompt(prompt_token_ids=ids)`` of random token ids of length ``n_in``;
- ``SamplingParams(max_tokens=n_out, min_tokens=n_out, ignore_eos=True)`` forces exactly
  ``n_out`` tokens (the defaults are 16, 0 and False); returned lengths are checked;
- ``LLM.generate`` blocks until every request of the batch has finished, so window edges
  around it bound the GPU work; at most ``max_num_seqs`` requests are scheduled together.
  The offline API gives no per-request first-token time: TTFT and the time between tokens
  are left unknown (NaN); the sweep measures prefill energy in a window of its own.

References
----------
vLLM, ``vllm/entrypoints/llm.py`` (``LLM.__init__``, ``LLM.generate``),
``vllm/sampling_params.py`` and ``vllm/inputs/data.py`` (``TokensPrompt``); the signatures
used are recorded in ``tests/fakes/snapshots/vllm.json`` with the commits they were read at.
"""

from __future__ import annotations

import importlib
import math
import multiprocessing
import os
import time
import traceback
from collections.abc import Mapping
from typing import Any

import numpy as np

from ...exceptions import DependencyError, DeviceError
from . import (
    BatchResult,
    EngineConfig,
    RequestTiming,
    check_backend,
    check_run_arguments,
    random_prompts,
    vocab_size_of,
)

__all__ = ["VLLM_INSTALL_HINT", "VllmEngine"]

VLLM_INSTALL_HINT = 'pip install "sweetspot[vllm]" (Linux with an NVIDIA GPU and CUDA)'
_START_TIMEOUT_S = 1800.0  # loading a large model (and compiling CUDA graphs) takes minutes


def _vocab_size(llm: Any, model: str) -> int:
    try:
        tokenizer = llm.get_tokenizer()
    except Exception:
        tokenizer = None
    return vocab_size_of([tokenizer], model)


def _worker(conn: Any, module: str, kwargs: dict[str, Any], environ: dict[str, str]) -> None:
    """Body of the child process: load vLLM, then serve ``run`` requests until ``close``."""
    os.environ.update(environ)
    try:
        vllm = importlib.import_module(module)
        inputs = importlib.import_module(f"{module}.inputs")
        llm = vllm.LLM(**kwargs)
        vocab = _vocab_size(llm, str(kwargs.get("model")))
        info = {
            "version": getattr(vllm, "__version__", None),
            "pid": os.getpid(),
            "vocab_size": vocab,
            "environment": {k: os.environ.get(k) for k in environ},
        }
        conn.send(("ready", info))
    except BaseException as exc:  # report, then exit: the parent raises DeviceError
        conn.send(("error", f"{type(exc).__name__}: {exc}", traceback.format_exc()))
        return
    while True:
        try:
            message = conn.recv()
        except EOFError:
            return
        if message[0] == "close":
            conn.send(("closed",))
            return
        _, n_in, n_out, n_requests, seed = message
        try:
            ids = random_prompts(np.random.default_rng(seed), vocab, n_requests, n_in)
            prompts = [inputs.TokensPrompt(prompt_token_ids=row) for row in ids]
            params = vllm.SamplingParams(max_tokens=n_out, min_tokens=n_out, ignore_eos=True)
            t0 = time.perf_counter()
            outputs = llm.generate(prompts, params, use_tqdm=False)
            wall = time.perf_counter() - t0
            lengths = [
                (len(out.prompt_token_ids), len(out.outputs[0].token_ids)) for out in outputs
            ]
            conn.send(("ok", lengths, wall))
        except BaseException as exc:
            conn.send(("error", f"{type(exc).__name__}: {exc}", traceback.format_exc()))


class VllmEngine:
    """Drive vLLM's offline ``LLM`` in a child process with exact-length requests.

    Parameters
    ----------
    config : EngineConfig
        ``model`` (Hugging Face id) or ``model_path``, ``tp``, ``max_batch_size``
        (``max_num_seqs``), ``max_num_tokens`` (``max_num_batched_tokens``), ``dtype``.
    environ : mapping, optional
        Environment of the child process (``CUDA_VISIBLE_DEVICES`` of the engine's GPUs).
    module : str, default "vllm"
        Module to import in the child (tests pass a fake).
    start_timeout_s : float, default 1800
        Longest time to wait for the model to load [s].

    Raises
    ------
    DependencyError
        On :meth:`load`, if the child cannot import vLLM.
    DeviceError
        If vLLM fails, or returns other lengths than asked for.
    """

    name = "vllm"
    simulated = False

    def __init__(
        self,
        config: EngineConfig,
        *,
        environ: Mapping[str, str] | None = None,
        module: str = "vllm",
        start_timeout_s: float = _START_TIMEOUT_S,
    ) -> None:
        check_backend(self.name, config.backend)
        self.config = config
        self.environ = dict(environ or {})
        self.module = module
        self.start_timeout_s = float(start_timeout_s)
        self._process: Any = None
        self._conn: Any = None
        self._info: dict[str, Any] = {}
        self._kwargs: dict[str, Any] = {}

    def _llm_kwargs(self) -> dict[str, Any]:
        kwargs: dict[str, Any] = {
            "model": self.config.model_path or self.config.model,
            "tensor_parallel_size": self.config.tp,
            "enable_prefix_caching": False,
        }
        if self.config.dtype != "auto":
            kwargs["dtype"] = self.config.dtype
        if self.config.max_batch_size is not None:
            kwargs["max_num_seqs"] = self.config.max_batch_size
        if self.config.max_num_tokens is not None:
            kwargs["max_num_batched_tokens"] = self.config.max_num_tokens
        return kwargs

    def load(self) -> None:
        """Start the child process and load the model in it (idempotent)."""
        if self._process is not None:
            return
        self._kwargs = self._llm_kwargs()
        ctx = multiprocessing.get_context("spawn")
        parent, child = ctx.Pipe()
        process = ctx.Process(
            target=_worker,
            args=(child, self.module, self._kwargs, self.environ),
            name="sweetspot-vllm",
            daemon=True,
        )
        process.start()
        child.close()
        self._process, self._conn = process, parent
        reply = self._receive(self.start_timeout_s, "loading the model")
        if reply[0] != "ready":
            self._stop()
            text = reply[1] if len(reply) > 1 else "no reply"
            if "ModuleNotFoundError" in text or "ImportError" in text:
                raise DependencyError(
                    f"the vllm engine needs the {self.module} module, which cannot be imported "
                    f"in the engine's process ({text}); install it with: {VLLM_INSTALL_HINT}. "
                    "Without a GPU, try --engine fake."
                )
            raise DeviceError(
                f"vLLM could not load {self._kwargs['model']!r} with tensor_parallel_size="
                f"{self.config.tp}: {text}. Check the model id or path, that the GPUs are "
                f"visible ({self.environ.get('CUDA_VISIBLE_DEVICES', 'all')}), and that the "
                f"weights fit.\n{reply[2] if len(reply) > 2 else ''}".rstrip()
            )
        self._info = dict(reply[1])

    def _receive(self, timeout_s: float, what: str) -> tuple[Any, ...]:
        if not self._conn.poll(timeout_s):
            self._stop()
            raise DeviceError(f"the vLLM process did not answer within {timeout_s:g} s {what}.")
        try:
            return tuple(self._conn.recv())
        except EOFError:
            code = self._process.exitcode if self._process is not None else None
            self._stop()
            raise DeviceError(
                f"the vLLM process ended while {what} (exit code {code}); its log is above."
            ) from None

    def run(
        self, n_in: int, n_out: int, n_requests: int, *, concurrency: int, seed: int
    ) -> BatchResult:
        """Run ``n_requests`` prompts of ``n_in`` tokens, ``n_out`` tokens each, in one
        ``generate`` call (vLLM schedules at most ``max_num_seqs`` of them at once).

        Raises
        ------
        DeviceError
            If vLLM raises or returns other lengths than asked for.
        """
        check_run_arguments(n_in, n_out, n_requests, concurrency)
        self.load()
        self._conn.send(("run", n_in, n_out, n_requests, seed))
        reply = self._receive(max(600.0, 10.0 * n_requests), "generating")
        if reply[0] != "ok":
            raise DeviceError(
                f"vLLM failed while running {n_requests} request(s) of n_in={n_in}, "
                f"n_out={n_out}: {reply[1]}"
            )
        lengths, wall = reply[1], float(reply[2])
        for got_in, got_out in lengths:
            if (got_in, got_out) != (n_in, n_out):
                raise DeviceError(
                    f"vLLM returned a request with {got_in} prompt and {got_out} output tokens; "
                    f"asked for exactly n_in={n_in} and n_out={n_out} (SamplingParams(max_tokens="
                    f"{n_out}, min_tokens={n_out}, ignore_eos=True)). Check max_model_len."
                )
        timings = tuple(
            RequestTiming(n_in=n_in, n_out=n_out, ttft_s=math.nan, tbt_s=math.nan, e2e_s=wall)
            for _ in lengths
        )
        return BatchResult(requests=timings, wall_s=wall)

    def info(self) -> Mapping[str, Any]:
        """vLLM version, the arguments passed, the child's pid and environment."""
        return {
            "engine": "vllm",
            "version": self._info.get("version"),
            "simulated": False,
            "config": self.config.to_dict(),
            "llm_kwargs": dict(self._kwargs),
            "sampling_params": {"max_tokens": "n_out", "min_tokens": "n_out", "ignore_eos": True},
            "process": {"pid": self._info.get("pid"), "environment": self._info.get("environment")},
            "effective": {"max_batch_size": self.config.max_batch_size},
        }

    def close(self) -> None:
        """Stop the child process, which frees the GPUs (idempotent)."""
        if self._process is None:
            return
        try:
            if self._process.is_alive():
                self._conn.send(("close",))
                if self._conn.poll(60):
                    self._conn.recv()
        except (OSError, EOFError):
            pass
        finally:
            self._stop()

    def _stop(self) -> None:
        process, self._process = self._process, None
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()
        if process is not None:
            process.join(timeout=60)
            if process.is_alive():
                process.terminate()
                process.join(timeout=10)
