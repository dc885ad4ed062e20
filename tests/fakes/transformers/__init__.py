"""A minimal fake of ``transformers`` (5.x) for the Transformers engine's tests.

``AutoConfig.for_model(model_type, **fields)`` and ``AutoModelForCausalLM.from_config(config,
dtype=...)`` build a "model" whose ``generate`` follows the real keyword rules the engine
relies on: ``max_new_tokens`` caps the new tokens, the end-of-sequence token comes after
``EOS_AFTER`` tokens unless ``min_new_tokens`` holds it back, a ``streamer`` gets ``put``
first with the prompt then once per step, then ``end``. An unknown ``generate`` keyword
raises ``ValueError`` (as ``_validate_model_kwargs`` does); ``from_config`` takes ``dtype``
(the 5.x name) and refuses other keywords.
"""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any, ClassVar

import numpy as np

from .. import torch as _torch

__version__ = "5.0.0+fake"

EOS_AFTER = 5
_KNOWN_TYPES = ("llama", "qwen2")
_GENERATE_KWARGS = frozenset(
    {
        "input_ids",
        "attention_mask",
        "max_new_tokens",
        "min_new_tokens",
        "use_cache",
        "do_sample",
        "pad_token_id",
        "eos_token_id",
        "streamer",
    }
)


class AutoConfig:
    @staticmethod
    def for_model(model_type: str, *args: Any, **kwargs: Any) -> SimpleNamespace:
        if model_type not in _KNOWN_TYPES:
            raise ValueError(f"Unrecognized model identifier: {model_type}.")
        return SimpleNamespace(model_type=model_type, **kwargs)

    @staticmethod
    def from_pretrained(path: str, **kwargs: Any) -> SimpleNamespace:
        fields = json.loads((Path(path) / "config.json").read_text())
        return AutoConfig.for_model(fields.pop("model_type"), **fields)


class _Model:
    built: ClassVar[list[_Model]] = []

    def __init__(self, config: Any, dtype: Any) -> None:
        self.config = config
        self.dtype = dtype
        self.device = "cpu"
        self.calls: list[dict[str, Any]] = []
        _Model.built.append(self)

    def to(self, device: Any) -> _Model:
        self.device = str(device)
        return self

    def eval(self) -> _Model:
        return self

    def generate(self, inputs: Any = None, generation_config: Any = None, **kwargs: Any) -> Any:
        unknown = set(kwargs) - _GENERATE_KWARGS
        if unknown:
            raise ValueError(
                f"The following `model_kwargs` are not used by the model: {sorted(unknown)}"
            )
        self.calls.append({k: v for k, v in kwargs.items() if k != "streamer"})
        ids = kwargs.get("input_ids", inputs)
        streamer = kwargs.get("streamer")
        n = int(kwargs.get("max_new_tokens") or 20)
        n = min(n, max(EOS_AFTER, int(kwargs.get("min_new_tokens") or 0)))
        if streamer is not None:
            streamer.put(ids.cpu())
        data = ids.data
        new = np.zeros((data.shape[0], n), dtype=np.int64)
        for step in range(n):
            new[:, step] = (data[:, -1] + step) % self.config.vocab_size
            if streamer is not None:
                streamer.put(_torch.Tensor(new[:, step]))
        if streamer is not None:
            streamer.end()
        return _torch.Tensor(np.concatenate([data, new], axis=1), ids.device)


class AutoModelForCausalLM:
    @staticmethod
    def from_config(config: Any, *, dtype: Any = None, attn_implementation: Any = None) -> _Model:
        return _Model(config, dtype)

    @staticmethod
    def from_pretrained(path: str, *, dtype: Any = None, local_files_only: bool = False) -> _Model:
        return _Model(AutoConfig.from_pretrained(path), dtype)
