"""A fake of ``vllm``'s offline API: ``LLM``, ``SamplingParams`` (and ``vllm.inputs``).

As strict as the real calls the harness makes (``tests/fakes/snapshots/vllm.json`` records
them, with the upstream files and commits):

- ``LLM(model, *, tokenizer=None, ..., tensor_parallel_size=1, dtype="auto", ...,
  **kwargs)``: the keyword arguments go to ``EngineArgs``, a dataclass, so an unknown one
  raises ``TypeError``;
- ``SamplingParams`` with ``max_tokens=16``, ``min_tokens=0``, ``ignore_eos=False``; an
  unknown keyword raises ``TypeError`` (a msgspec Struct);
- ``LLM.generate(prompts, sampling_params=None, *, use_tqdm=True, lora_request=None,
  priority=None, tokenization_kwargs=None)`` returns one output per prompt with
  ``prompt_token_ids`` and ``outputs[0].token_ids``; the "model" emits its end-of-sequence
  token after ``EOS_AFTER`` tokens unless ``ignore_eos`` (never before ``min_tokens``).

The fake runs in the engine's child process: it records what that process saw
(``CUDA_VISIBLE_DEVICES``, the pid) in ``LLM.seen`` and in the file named by the
environment variable ``SWEETSPOT_FAKE_VLLM_LOG`` (one JSON line per LLM), for tests.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any, ClassVar

__version__ = "0.11.0+fake"

EOS_AFTER = 7

# EngineArgs fields accepted as keywords (a subset of vllm/engine/arg_utils.py)
ENGINE_ARGS_FIELDS = frozenset(
    {
        "max_num_seqs",
        "max_num_batched_tokens",
        "enable_prefix_caching",
        "max_model_len",
        "disable_log_stats",
        "enable_chunked_prefill",
        "block_size",
        "distributed_executor_backend",
        "pipeline_parallel_size",
        "data_parallel_size",
        "kv_cache_dtype",
        "load_format",
    }
)


@dataclass(kw_only=True)
class SamplingParams:
    """Sampling options (keyword arguments; defaults as in vLLM)."""

    n: int = 1
    presence_penalty: float = 0.0
    frequency_penalty: float = 0.0
    repetition_penalty: float = 1.0
    temperature: float = 1.0
    top_p: float = 1.0
    top_k: int = -1
    min_p: float = 0.0
    seed: int | None = None
    stop: list[str] | None = None
    stop_token_ids: list[int] | None = None
    ignore_eos: bool = False
    max_tokens: int | None = 16
    min_tokens: int = 0
    logprobs: int | None = None
    detokenize: bool = True

    def __post_init__(self) -> None:
        if self.max_tokens is not None and self.min_tokens > self.max_tokens:
            raise ValueError(
                f"min_tokens must be less than or equal to max_tokens={self.max_tokens}, "
                f"got {self.min_tokens}."
            )


@dataclass
class _Completion:
    index: int
    token_ids: list[int] = field(default_factory=list)
    text: str = ""


@dataclass
class _RequestOutput:
    request_id: str
    prompt_token_ids: list[int]
    outputs: list[_Completion]
    finished: bool = True


class LLM:
    """Fake offline LLM (no GPU): exact-length generation of deterministic tokens."""

    seen: ClassVar[list[dict[str, Any]]] = []

    def __init__(
        self,
        model: str,
        *,
        tokenizer: str | None = None,
        tokenizer_mode: str = "auto",
        skip_tokenizer_init: bool = False,
        trust_remote_code: bool = False,
        tensor_parallel_size: int = 1,
        dtype: str = "auto",
        quantization: str | None = None,
        revision: str | None = None,
        tokenizer_revision: str | None = None,
        seed: int = 0,
        gpu_memory_utilization: float = 0.9,
        swap_space: float = 4,
        cpu_offload_gb: float = 0,
        enforce_eager: bool = False,
        **kwargs: Any,
    ) -> None:
        for key in kwargs:
            if key not in ENGINE_ARGS_FIELDS:
                raise TypeError(f"EngineArgs.__init__() got an unexpected keyword argument '{key}'")
        if model == "fail-to-load":
            raise RuntimeError("CUDA out of memory (fake)")
        record = {
            "model": model,
            "tensor_parallel_size": tensor_parallel_size,
            "dtype": dtype,
            "kwargs": kwargs,
            "pid": os.getpid(),
            "CUDA_VISIBLE_DEVICES": os.environ.get("CUDA_VISIBLE_DEVICES"),
        }
        LLM.seen.append(record)
        log = os.environ.get("SWEETSPOT_FAKE_VLLM_LOG")
        if log:
            with open(log, "a", encoding="utf-8") as fh:
                fh.write(json.dumps(record) + "\n")
        self.kwargs = kwargs

    def get_tokenizer(self) -> Any:
        return SimpleNamespace(vocab_size=32000)

    def generate(
        self,
        prompts: Any,
        sampling_params: SamplingParams | None = None,
        *,
        use_tqdm: bool = True,
        lora_request: Any = None,
        priority: list[int] | None = None,
        tokenization_kwargs: dict[str, Any] | None = None,
    ) -> list[_RequestOutput]:
        params = sampling_params or SamplingParams()
        items = prompts if isinstance(prompts, list) else [prompts]
        outputs = []
        for i, prompt in enumerate(items):
            if not isinstance(prompt, dict) or "prompt_token_ids" not in prompt:
                raise TypeError("the fake takes TokensPrompt(prompt_token_ids=...) prompts")
            ids = list(prompt["prompt_token_ids"])
            n = params.max_tokens or 16
            if not params.ignore_eos:
                n = min(n, max(EOS_AFTER, params.min_tokens))
            tokens = [(ids[-1] + k) % 32000 for k in range(n)]
            outputs.append(_RequestOutput(str(i), ids, [_Completion(0, tokens)]))
        return outputs
