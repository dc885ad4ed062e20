"""Fake ``tensorrt_llm.llmapi``: ``LLM``, ``SamplingParams``, ``KvCacheConfig``, outputs.

Mirrors the signatures and behaviour of TensorRT-LLM 1.x that the sweetspot driver relies on:

- ``LLM(model, *, tensor_parallel_size=1, dtype="auto", kv_cache_config=None,
  max_batch_size=None, max_num_tokens=None, **kwargs)``, with ``llm.args`` holding the limits
  in effect and ``llm.tokenizer.vocab_size``;
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
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any, ClassVar


@dataclass
class KvCacheConfig:
    """KV-cache options (block reuse is on by default, as in TensorRT-LLM)."""

    enable_block_reuse: bool = True
    free_gpu_memory_fraction: float | None = None
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
                tokens.append((self._prompt[-1] + i) % llm.tokenizer.vocab_size)
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


class LLM:
    """Fake LLM: records its arguments, generates deterministic tokens."""

    instances: ClassVar[list[LLM]] = []
    max_in_flight = 0
    eos_after = 7
    fail_on_load: Exception | None = None

    def __init__(
        self,
        model: str,
        *,
        tokenizer: Any = None,
        tensor_parallel_size: int = 1,
        dtype: str = "auto",
        kv_cache_config: KvCacheConfig | None = None,
        max_batch_size: int | None = None,
        max_num_tokens: int | None = None,
        **kwargs: Any,
    ) -> None:
        if LLM.fail_on_load is not None:
            raise LLM.fail_on_load
        self.model = model
        self.tensor_parallel_size = tensor_parallel_size
        self.dtype = dtype
        self.kv_cache_config = kv_cache_config or KvCacheConfig()
        self.kwargs = kwargs
        self.args = SimpleNamespace(
            max_batch_size=max_batch_size or 2048,
            max_num_tokens=max_num_tokens or 8192,
            max_seq_len=None,
            backend="pytorch",
        )
        self.tokenizer = SimpleNamespace(vocab_size=32000)
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
        self, inputs: Any, sampling_params: SamplingParams | None = None, *, streaming: bool = False
    ) -> _Streaming:
        prompt = self._check(inputs)
        self._next_id += 1
        return _Streaming(self, prompt, sampling_params or SamplingParams(), self._next_id)

    def generate(self, inputs: Any, sampling_params: SamplingParams | None = None) -> Any:
        single = isinstance(inputs, list) and inputs and isinstance(inputs[0], int)
        prompts = [inputs] if single else list(inputs)

        async def run() -> list[RequestOutput]:
            return [await self.generate_async(p, sampling_params).aresult() for p in prompts]

        outputs = asyncio.run(run())
        return outputs[0] if single else outputs

    def shutdown(self) -> None:
        self.shut_down = True
