"""Hugging Face Transformers driver: PyTorch ``generate`` with the KV cache, batched.

This engine measures where no model weights can be downloaded: a model with **random
weights** is built from an :class:`~sweetspot.architecture.Architecture` (a preset name) or
from a ``config.json`` alone (``AutoConfig.for_model(model_type, **fields)`` then
``AutoModelForCausalLM.from_config``); to first order the energy of a forward pass does not
depend on the weight values. A directory holding weights is loaded with
``from_pretrained(..., local_files_only=True)`` instead.

What the driver does, and why:

- requests run in waves of ``concurrency`` prompts of exactly ``n_in`` random token ids
  (equal lengths: no padding), through ``model.generate(input_ids, attention_mask=...,
  max_new_tokens=n_out, min_new_tokens=n_out, use_cache=True, do_sample=False)``: the KV
  cache on, and ``min_new_tokens = max_new_tokens`` for exactly ``n_out`` new tokens (the
  end-of-sequence token is suppressed until then); the returned lengths are checked;
- a streamer records when the first new token of the wave arrives (TTFT) and the time
  between tokens; the GPU is synchronised before ``run`` returns;
- the dtype keyword is the one the installed version names (``torch_dtype`` in 4.x,
  ``dtype`` in 5.x); ``"auto"`` means bfloat16 on a GPU and float32 on the CPU;
- in-process: the engine's ``CUDA_VISIBLE_DEVICES`` is applied before PyTorch initialises
  CUDA, and after loading, the UUID CUDA reports for the device is compared with the GPU
  the harness meters (:meth:`TransformersEngine.cuda_uuids`): a mismatch is an error.

Tensor parallelism is not supported (``tp`` must be 1).
"""

from __future__ import annotations

import importlib
import json
import math
import os
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from ...architecture import Architecture, get_architecture
from ...exceptions import ArchitectureError, DependencyError, DeviceError, SpecError
from . import (
    FALLBACK_VOCAB_SIZE,
    FIRST_TOKEN_ID,
    BatchResult,
    EngineConfig,
    RequestTiming,
    check_backend,
    check_run_arguments,
    check_tp,
    random_prompts,
)

__all__ = ["TRANSFORMERS_INSTALL_HINT", "TransformersEngine", "hf_config_for"]

TRANSFORMERS_INSTALL_HINT = 'pip install "sweetspot[transformers]" (PyTorch and Transformers)'


def hf_config_for(arch: Architecture) -> tuple[str, dict[str, Any]]:
    """``model_type`` and config fields of a Transformers model with ``arch``'s shape.

    Dense decoder-only models with a gated MLP and full attention are built as ``llama``
    (``qwen2`` for the Qwen2 family, whose attention has biases); anything else needs its
    own config.json (pass its path as ``model_path``).

    Raises
    ------
    SpecError
        For MoE, sliding-window, MLA or plain-MLP architectures.

    Examples
    --------
    >>> kind, fields = hf_config_for(get_architecture("llama-3.2-1b"))
    >>> kind, fields["num_hidden_layers"], fields["num_key_value_heads"]
    ('llama', 16, 8)
    """
    unsupported = (
        arch.n_experts > 1
        or not arch.gated_mlp
        or bool(arch.layer_types)
        or arch.sliding_window > 0
        or arch.kv_lora_rank > 0
    )
    if unsupported:
        raise SpecError(
            f"cannot build {arch.name} from its Architecture alone (only dense, gated-MLP, "
            "full-attention shapes map onto a Transformers config); pass the model's "
            "config.json as --model-path to build it with random weights."
        )
    model_type = "qwen2" if arch.name.lower().startswith("qwen2") else "llama"
    fields: dict[str, Any] = {
        "hidden_size": arch.hidden_size,
        "intermediate_size": arch.ffn_size,
        "num_hidden_layers": arch.n_layers,
        "num_attention_heads": arch.n_heads,
        "num_key_value_heads": arch.n_kv_heads,
        "vocab_size": arch.vocab_size,
        "tie_word_embeddings": arch.tied_embeddings,
        "max_position_embeddings": 131072,
    }
    if model_type == "llama":
        fields["head_dim"] = arch.head_dim
    return model_type, fields


def _import(name: str) -> ModuleType:
    try:
        return importlib.import_module(name)
    except ImportError as exc:
        raise DependencyError(
            f"the transformers engine needs the {name} module, which cannot be imported "
            f"({exc}); install it with: {TRANSFORMERS_INSTALL_HINT}. Without a GPU or "
            "PyTorch, try --engine fake."
        ) from exc


class _FirstToken:
    """A ``generate`` streamer that only notes when tokens arrive (first call: the prompt)."""

    def __init__(self) -> None:
        self.calls = 0
        self.first: float | None = None

    def put(self, value: Any) -> None:
        self.calls += 1
        if self.calls == 2:
            self.first = time.perf_counter()

    def end(self) -> None:
        """Nothing to flush."""


class TransformersEngine:
    """Drive a Transformers causal LM with ``generate``, weights random or loaded.

    Parameters
    ----------
    config : EngineConfig
        ``model``: an architecture preset (random weights); ``model_path``: a config.json
        file or a directory with one (random weights), or a directory with weights too
        (loaded); ``dtype``; ``tp`` must be 1.
    architecture : Architecture, optional
        Build this shape (random weights) instead of looking ``model`` up.
    device : str, optional
        ``"cuda"`` or ``"cpu"``; default the GPU when PyTorch sees one.
    environ : mapping, optional
        ``CUDA_VISIBLE_DEVICES`` (and ``CUDA_DEVICE_ORDER``) to apply before CUDA starts.
    expected_uuids : sequence of str, optional
        UUIDs of the GPUs the harness meters; checked against what CUDA reports.
    seed : int, default 0
        Seed of the random weights.
    torch_module, transformers_module : str
        Modules to import (tests pass fakes).

    Raises
    ------
    SpecError
        For ``tp > 1`` or an unknown ``dtype``.
    DependencyError
        On :meth:`load`, if PyTorch or Transformers is missing.
    DeviceError
        If generation fails, returns other lengths, or CUDA runs on another GPU than the
        one metered.
    """

    name = "transformers"
    simulated = False

    def __init__(
        self,
        config: EngineConfig,
        *,
        architecture: Architecture | None = None,
        device: str | None = None,
        environ: Mapping[str, str] | None = None,
        expected_uuids: Sequence[str] | None = None,
        seed: int = 0,
        torch_module: str = "torch",
        transformers_module: str = "transformers",
    ) -> None:
        check_tp(self.name, config.tp)
        check_backend(self.name, config.backend)
        self.config = config
        self.architecture = architecture
        self.device = device
        self.environ = dict(environ or {})
        self.expected_uuids = tuple(expected_uuids or ())
        self.seed = int(seed)
        self._torch_name = torch_module
        self._tf_name = transformers_module
        self._torch: Any = None
        self._tf: Any = None
        self._model: Any = None
        self._vocab = FALLBACK_VOCAB_SIZE
        self._source = ""
        self._dtype_key = ""
        self._dtype: Any = None

    # -- lifecycle -----------------------------------------------------------------------
    def load(self) -> None:
        """Build (or load) the model on its device (idempotent)."""
        if self._model is not None:
            return
        torch = _import(self._torch_name)
        if self.environ and not _cuda_started(torch):
            os.environ.update(self.environ)
        tf = _import(self._tf_name)
        self._torch, self._tf = torch, tf
        device = self.device or ("cuda" if torch.cuda.is_available() else "cpu")
        self.device = device
        self._dtype = self._torch_dtype(torch, device)
        major = int(str(getattr(tf, "__version__", "4")).split(".")[0] or 4)
        self._dtype_key = "dtype" if major >= 5 else "torch_dtype"
        dtype_kw = {self._dtype_key: self._dtype}
        torch.manual_seed(self.seed)
        try:
            model = self._build(tf, dtype_kw)
            model = model.to(device)
            model.eval()
        except (SpecError, DependencyError):
            raise
        except Exception as exc:
            raise DeviceError(
                f"Transformers could not build {self._source} on {device}: {exc}"
            ) from exc
        self._model = model
        vocab = getattr(model.config, "vocab_size", None)
        self._vocab = (
            int(vocab) if isinstance(vocab, int) and vocab > FIRST_TOKEN_ID else FALLBACK_VOCAB_SIZE
        )
        if device.startswith("cuda") and self.expected_uuids:
            got = self.cuda_uuids()
            want = [u.lower().removeprefix("gpu-") for u in self.expected_uuids]
            if got and [g.lower().removeprefix("gpu-") for g in got[: len(want)]] != want:
                raise DeviceError(
                    f"CUDA runs this engine on the GPU(s) {got[: len(want)]} but the harness "
                    f"meters {list(self.expected_uuids)}: CUDA_VISIBLE_DEVICES changed after "
                    "PyTorch started CUDA. Start the sweep in a fresh process."
                )

    def _torch_dtype(self, torch: Any, device: str) -> Any:
        name = self.config.dtype
        if name == "auto":
            name = "bfloat16" if device.startswith("cuda") else "float32"
        value = getattr(torch, name, None)
        if value is None:
            raise SpecError(
                f"dtype {self.config.dtype!r} is not a torch dtype; use auto, bfloat16, "
                "float16 or float32."
            )
        return value

    def _build(self, tf: Any, dtype_kw: dict[str, Any]) -> Any:
        path = Path(self.config.model_path) if self.config.model_path else None
        if path is not None:
            folder = path if path.is_dir() else path.parent
            config_file = path if path.is_file() else path / "config.json"
            if not config_file.is_file():
                raise SpecError(
                    f"--model-path {path} is neither a config.json nor a directory holding one."
                )
            weights = path.is_dir() and any(
                folder.glob(pattern) for pattern in ("*.safetensors", "*.bin")
            )
            if weights:
                self._source = f"the checkpoint {folder} (weights loaded)"
                return tf.AutoModelForCausalLM.from_pretrained(
                    str(folder), local_files_only=True, **dtype_kw
                )
            fields = json.loads(config_file.read_text(encoding="utf-8"))
            model_type = fields.pop("model_type", None)
            if not isinstance(model_type, str):
                raise SpecError(f"{config_file} has no model_type; it is not a config.json.")
            for key in ("architectures", "transformers_version", "_name_or_path", "torch_dtype"):
                fields.pop(key, None)
            self._source = f"{config_file} (random weights)"
            config = tf.AutoConfig.for_model(model_type, **fields)
        else:
            arch = self.architecture
            if arch is None:
                try:
                    arch = get_architecture(self.config.model)
                except ArchitectureError as exc:
                    raise SpecError(
                        f"the transformers engine builds {self.config.model!r} from an "
                        f"architecture preset or a config.json (--model-path); {exc}"
                    ) from None
            model_type, fields = hf_config_for(arch)
            self._source = f"{arch.name} ({model_type} config, random weights)"
            config = tf.AutoConfig.for_model(model_type, **fields)
        return tf.AutoModelForCausalLM.from_config(config, **dtype_kw)

    def cuda_uuids(self) -> list[str]:
        """UUIDs of the devices CUDA shows this process (``GPU-...``; empty on the CPU)."""
        torch = self._torch
        if torch is None or not torch.cuda.is_available():
            return []
        out = []
        for i in range(torch.cuda.device_count()):
            uuid = getattr(torch.cuda.get_device_properties(i), "uuid", None)
            if uuid is None:
                return []
            text = str(uuid)
            out.append(text if text.upper().startswith(("GPU-", "MIG-")) else f"GPU-{text}")
        return out

    def close(self) -> None:
        """Drop the model and free the GPU memory (idempotent)."""
        model, self._model = self._model, None
        if model is not None:
            del model
            torch = self._torch
            if torch is not None and torch.cuda.is_available():
                torch.cuda.empty_cache()

    def info(self) -> Mapping[str, Any]:
        """Library versions, device, dtype and where the model came from."""
        return {
            "engine": "transformers",
            "version": getattr(self._tf, "__version__", None),
            "torch_version": getattr(self._torch, "__version__", None),
            "simulated": False,
            "config": self.config.to_dict(),
            "model_source": self._source,
            "device": self.device,
            "dtype": str(self._dtype),
            "dtype_keyword": self._dtype_key,
            "generate_kwargs": {
                "max_new_tokens": "n_out",
                "min_new_tokens": "n_out",
                "use_cache": True,
                "do_sample": False,
            },
            "cuda_uuids": self.cuda_uuids(),
            "effective": {"max_batch_size": self.config.max_batch_size},
        }

    # -- requests ------------------------------------------------------------------------
    def run(
        self, n_in: int, n_out: int, n_requests: int, *, concurrency: int, seed: int
    ) -> BatchResult:
        """Run ``n_requests`` prompts in waves of ``concurrency``; block until done.

        Raises
        ------
        DeviceError
            If ``generate`` raises or returns other lengths than asked for.
        """
        check_run_arguments(n_in, n_out, n_requests, concurrency)
        self.load()
        torch = self._torch
        rng = np.random.default_rng(seed)
        timings: list[RequestTiming] = []
        t_start = time.perf_counter()
        done = 0
        while done < n_requests:
            b = min(concurrency, n_requests - done)
            ids = random_prompts(rng, self._vocab, b, n_in)
            streamer = _FirstToken()
            try:
                input_ids = torch.tensor(ids, dtype=torch.long, device=self.device)
                mask = torch.ones_like(input_ids)
                t0 = time.perf_counter()
                with torch.no_grad():
                    out = self._model.generate(
                        input_ids=input_ids,
                        attention_mask=mask,
                        max_new_tokens=n_out,
                        min_new_tokens=n_out,
                        use_cache=True,
                        do_sample=False,
                        pad_token_id=0,
                        streamer=streamer,
                    )
                if str(self.device).startswith("cuda"):
                    torch.cuda.synchronize()
                end = time.perf_counter()
            except Exception as exc:
                raise DeviceError(
                    f"Transformers generate failed for {b} request(s) of n_in={n_in}, "
                    f"n_out={n_out}: {exc}"
                ) from exc
            shape = tuple(int(x) for x in out.shape)
            if shape != (b, n_in + n_out):
                raise DeviceError(
                    f"Transformers returned sequences of shape {shape}; asked for {b} x "
                    f"(n_in={n_in} + n_out={n_out}). generate ignored min_new_tokens: "
                    "upgrade transformers."
                )
            first = streamer.first
            ttft = (first if first is not None else end) - t0
            tbt = (end - first) / (n_out - 1) if first is not None and n_out > 1 else math.nan
            timings.extend(
                RequestTiming(n_in=n_in, n_out=n_out, ttft_s=ttft, tbt_s=tbt, e2e_s=end - t0)
                for _ in range(b)
            )
            done += b
        return BatchResult(requests=tuple(timings), wall_s=time.perf_counter() - t_start)


def _cuda_started(torch: Any) -> bool:
    fn = getattr(getattr(torch, "cuda", None), "is_initialized", None)
    try:
        return bool(fn()) if fn is not None else False
    except Exception:
        return False
