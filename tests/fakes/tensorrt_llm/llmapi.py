"""Fake ``tensorrt_llm.llmapi``: ``LLM``, ``SamplingParams``, ``KvCacheConfig``, outputs.

Mirrors the signatures and behaviour of TensorRT-LLM 1.x that the sweetspot driver relies on:

- ``LLM(model, tokenizer=None, ..., tensor_parallel_size=1, dtype="auto", ...,
  **kwargs)`` where, as in the real one, a keyword that is not a field of the LLM arguments
  raises ``ValueError("LLM got invalid argument: ...")``; ``llm.args`` holds the limits in
  effect and the backend; ``llm.tokenizer`` is a wrapper without ``vocab_size`` (as the real
  ``TransformersTokenizer``), holding the HF tokenizer as ``.tokenizer``;
- ``LLM`` is the PyTorch backend and ``TrtLLM`` (``tensorrt_llm._tensorrt_engine.LLM``)
  the TensorRT one;
- ``SamplingParams`` is keyword-only with ``max_tokens=32``, ``min_tokens=None``,
  ``ignore_eos=False``, ``end_id=None``;
- ``llm.generate(inputs, sampling_params)`` returns ``RequestOutput`` objects with
  ``prompt_token_ids`` and ``outputs[0].token_ids``;
- ``llm.generate_async(inputs, sampling_params, streaming=True)`` is async-iterable, yielding
  cumulative outputs token by token;
- the "model" emits its end-of-sequence token after ``LLM.eos_after`` tokens unless
  ``ignore_eos`` (or ``end_id=-1``) is set, and never stops before ``min_tokens``.

Class attributes record what tests need to check (instances, in-flight maximum).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any, ClassVar


@dataclass(kw_only=True)
class KvCacheConfig:
    """KV-cache options (block reuse is on by default, as in TensorRT-LLM; a pydantic model
    there, so keyword arguments only)."""

    enable_block_reuse: bool = True
    max_tokens: int | None = None
    free_gpu_memory_fraction: float | None = None
    enable_partial_reuse: bool = True
    dtype: str = "auto"


class SamplingParams:
    """Sampling options (keyword-only, like the real dataclass)."""

    def __init__(
        self,
        *,
        end_id: int | None = None,
        pad_id: int | None = None,
        max_tokens: int = 32,
        min_tokens: int | None = None,
        ignore_eos: bool = False,
        temperature: float | None = None,
        seed: int | None = None,
    ) -> None:
        self.end_id = end_id
        self.pad_id = pad_id
        self.max_tokens = max_tokens
        self.min_tokens = min_tokens
        self.ignore_eos = ignore_eos
        self.temperature = temperature
        self.seed = seed


@dataclass
class CompletionOutput:
    index: int
    text: str = ""
    token_ids: list[int] = field(default_factory=list)
    finish_reason: str | None = None


@dataclass
class RequestOutput:
    request_id: int
    prompt: str | None
    prompt_token_ids: list[int]
    outputs: list[CompletionOutput]
    finished: bool = False


class _Streaming:
    """What ``generate_async`` returns: async-iterable when streaming, awaitable otherwise."""

    def __init__(self, llm: LLM, prompt: list[int], params: SamplingParams, request_id: int):
        self._llm = llm
        self._prompt = prompt
        self._params = params
        self._id = request_id

    def __aiter__(self) -> AsyncIterator[RequestOutput]:
        return self._stream()

    async def _stream(self) -> AsyncIterator[RequestOutput]:
        llm = self._llm
        llm._in_flight += 1
        LLM.max_in_flight = max(LLM.max_in_flight, llm._in_flight)
        try:
            n = llm._length(self._params)
            tokens: list[int] = []
            for i in range(n):
                await asyncio.sleep(0)
                tokens.append((self._prompt[-1] + i) % llm.tokenizer.tokenizer.vocab_size)
                yield RequestOutput(
                    request_id=self._id,
                    prompt=None,
                    prompt_token_ids=list(self._prompt),
                    outputs=[CompletionOutput(index=0, token_ids=list(tokens))],
                    finished=i == n - 1,
                )
        finally:
            llm._in_flight -= 1

    async def aresult(self) -> RequestOutput:
        last = None
        async for out in self:
            last = out
        assert last is not None
        return last


# Keyword arguments LLM(...) accepts besides its explicit parameters: fields of
# BaseLlmArgs (tensorrt_llm/llmapi/llm_args.py, see tests/fakes/snapshots/tensorrt_llm.json)
# and "_mpi_session" / "backend". The real LLM raises ValueError for anything else.
LLM_ARGS_FIELDS = frozenset(
    {
        "pipeline_parallel_size",
        "context_parallel_size",
        "gpus_per_node",
        "moe_cluster_parallel_size",
        "moe_tensor_parallel_size",
        "moe_expert_parallel_size",
        "enable_attention_dp",
        "cp_config",
        "load_format",
        "enable_lora",
        "lora_config",
        "quant_config",
        "kv_cache_config",
        "enable_chunked_prefill",
        "guided_decoding_backend",
        "batched_logits_processor",
        "iter_stats_max_iterations",
        "request_stats_max_iterations",
        "peft_cache_config",
        "scheduler_config",
        "cache_transceiver_config",
        "speculative_config",
        "batching_type",
        "normalize_log_probs",
        "max_batch_size",
        "max_input_len",
        "max_seq_len",
        "max_beam_width",
        "max_num_tokens",
        "gather_generation_logits",
        "num_postprocess_workers",
        "postprocess_tokenizer_dir",
        "reasoning_parser",
        "garbage_collection_gen0_threshold",
        "decoding_config",
        "_mpi_session",
        "backend",
    }
)


class _HFTokenizer:
    """The Hugging Face tokenizer inside TensorRT-LLM's wrapper (``vocab_size`` and
    ``len``, no added tokens). Its size is GPT-2's, not 32000, which is also the driver's
    fallback when no tokenizer or preset knows the vocabulary."""

    vocab_size = 50257

    def __len__(self) -> int:
        return self.vocab_size


class TransformersTokenizer:
    """Like ``tensorrt_llm.llmapi.tokenizer.TransformersTokenizer``: a wrapper holding the
    HF tokenizer as ``.tokenizer``, with no ``vocab_size`` of its own. It subclasses
    transformers' ``PreTrainedTokenizerBase`` without initialising it, and in transformers 5
    that base class's ``vocab_size`` and ``__len__`` raise ``NotImplementedError``."""

    def __init__(self, tokenizer: Any) -> None:
        self.tokenizer = tokenizer

    @property
    def vocab_size(self) -> int:
        raise NotImplementedError()

    def __len__(self) -> int:
        raise NotImplementedError()

    @property
    def eos_token_id(self) -> int:
        return 2


class _BaseLLM:
    """Fake LLM: records its arguments, generates deterministic tokens."""

    instances: ClassVar[list[Any]] = []
    max_in_flight = 0
    eos_after = 7
    fail_on_load: Exception | None = None
    default_backend: ClassVar[str | None] = "pytorch"

    def __init__(
        self,
        model: str | Path,
        tokenizer: Any = None,
        tokenizer_mode: str = "auto",
        skip_tokenizer_init: bool = False,
        trust_remote_code: bool = False,
        tensor_parallel_size: int = 1,
        dtype: str = "auto",
        revision: str | None = None,
        tokenizer_revision: str | None = None,
        **kwargs: Any,
    ) -> None:
        for key in kwargs:
            if key not in LLM_ARGS_FIELDS:
                raise ValueError(f"{type(self).__name__} got invalid argument: {key}")
        if LLM.fail_on_load is not None:
            raise LLM.fail_on_load
        self.model = model
        self.tensor_parallel_size = tensor_parallel_size
        self.dtype = dtype
        self.kv_cache_config = kwargs.get("kv_cache_config") or KvCacheConfig()
        self.kwargs = kwargs
        self.environment = {
            k: os.environ.get(k) for k in ("CUDA_VISIBLE_DEVICES", "CUDA_DEVICE_ORDER")
        }
        self.args = SimpleNamespace(
            max_batch_size=kwargs.get("max_batch_size") or 2048,
            max_num_tokens=kwargs.get("max_num_tokens") or 8192,
            max_seq_len=None,
            backend=kwargs.get("backend", self.default_backend),
        )
        self.tokenizer = TransformersTokenizer(_HFTokenizer())
        self._in_flight = 0
        self._next_id = 0
        self.shut_down = False
        LLM.instances.append(self)

    def _length(self, params: SamplingParams) -> int:
        n = params.max_tokens
        stops = not params.ignore_eos and params.end_id != -1
        if stops:
            n = min(n, max(self.eos_after, params.min_tokens or 0))
        return n

    def _check(self, inputs: Any) -> list[int]:
        if self.shut_down:
            raise RuntimeError("LLM was shut down")
        if not (isinstance(inputs, list) and all(isinstance(t, int) for t in inputs)):
            raise TypeError("the fake accepts prompts as lists of token ids")
        return inputs

    def generate_async(
        self,
        inputs: Any,
        sampling_params: SamplingParams | None = None,
        lora_request: Any = None,
        prompt_adapter_request: Any = None,
        streaming: bool = False,
        kv_cache_retention_config: Any = None,
        disaggregated_params: Any = None,
        _postproc_params: Any = None,
        scheduling_params: Any = None,
        cache_salt: str | None = None,
    ) -> _Streaming:
        prompt = self._check(inputs)
        self._next_id += 1
        return _Streaming(self, prompt, sampling_params or SamplingParams(), self._next_id)

    def generate(
        self,
        inputs: Any,
        sampling_params: SamplingParams | None = None,
        use_tqdm: bool = True,
        lora_request: Any = None,
        prompt_adapter_request: Any = None,
        kv_cache_retention_config: Any = None,
        disaggregated_params: Any = None,
        scheduling_params: Any = None,
        cache_salt: Any = None,
    ) -> Any:
        single = isinstance(inputs, list) and inputs and isinstance(inputs[0], int)
        prompts = [inputs] if single else list(inputs)

        async def run() -> list[RequestOutput]:
            return [await self.generate_async(p, sampling_params).aresult() for p in prompts]

        outputs = asyncio.run(run())
        return outputs[0] if single else outputs

    def shutdown(self) -> None:
        self.shut_down = True


class LLM(_BaseLLM):
    """``tensorrt_llm.LLM``: the PyTorch backend in TensorRT-LLM 1.x."""

    default_backend = "pytorch"


class TrtLLM(_BaseLLM):
    """``tensorrt_llm._tensorrt_engine.LLM``: the TensorRT backend (engine directories)."""

    default_backend = None
