"""Transformer architectures: the shape numbers that FLOPs and bytes are counted from.

An :class:`Architecture` is plain data (frozen). Build one from a Hugging Face
``config.json`` dict with :meth:`Architecture.from_hf_config`, or take a shipped
preset with :func:`get_architecture` (names are case-insensitive and Hugging Face
ids such as ``meta-llama/Llama-2-7b-chat-hf`` are accepted, as are the names of the
SweetSpot paper's Table 2, e.g. ``"Llama 3.2 (1B)"``).

Besides the uniform shape (layers, widths, heads, one FFN size) an architecture can
describe what modern models vary per layer, as :mod:`sweetspot.counts` counts it:
sliding-window and chunked attention layers (``layer_types``), dense and MoE layers
mixed (``mlp_layer_types``) with shared experts, multi-head latent attention (MLA,
``kv_lora_rank``) and 4-bit experts (``expert_weight_bytes``). docs/architectures.md
lists the config.json keys read for each family.

Examples
--------
>>> from sweetspot.architecture import get_architecture, list_architectures
>>> arch = get_architecture("meta-llama/Llama-2-7b-chat-hf")
>>> arch.name, arch.n_layers, arch.n_kv_heads
('Llama-2-7B', 32, 32)
>>> "mixtral-8x7b-v0.1" in list_architectures()
True
>>> get_architecture("Granite (8B)").name
'Granite-8B-Code'
"""

from __future__ import annotations

import difflib
import math
import numbers
import re
import warnings
from collections import ChainMap
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .exceptions import ArchitectureError, SweetspotWarning

__all__ = ["Architecture", "get_architecture", "list_architectures"]

# --- how Hugging Face config.json files spell things ----------------------------------
# Aliases are tried in order; the first key present with a non-null value wins.
_LAYER_KEYS = ("num_hidden_layers", "n_layer", "num_layers", "n_layers")
_HIDDEN_KEYS = ("hidden_size", "d_model", "n_embd", "n_embed", "dim")
_HEAD_KEYS = ("num_attention_heads", "n_head", "n_heads", "num_heads")
_KV_HEAD_KEYS = ("num_key_value_heads", "num_kv_heads", "n_head_kv", "n_kv_heads")
_FALCON_KV_HEAD_KEYS = ("num_kv_heads", "n_head_kv")
_FFN_KEYS = ("intermediate_size", "ffn_dim", "ffn_hidden_size", "n_inner", "ffn_embed_dim")
_VOCAB_KEYS = ("vocab_size", "padded_vocab_size", "n_vocab")
# Routed experts: Mixtral/gpt-oss/Llama 4 "num_local_experts", Qwen-MoE "num_experts",
# DeepSeek "n_routed_experts".
_EXPERT_KEYS = ("num_local_experts", "num_experts", "n_routed_experts")
_ACTIVE_EXPERT_KEYS = ("num_experts_per_tok", "num_experts_per_token", "experts_per_token")
_DTYPE_KEYS = ("torch_dtype", "dtype")
_ACTIVATION_KEYS = ("hidden_act", "hidden_activation", "activation_function")
# Activations whose MLP is gated (SwiGLU) in every transformers model that uses them.
_SWIGLU_ACTIVATIONS = frozenset({"silu", "swish", "swiglu"})
# Keys of a fine-grained / shared-expert MoE layout (a second FFN size).
_FINE_MOE_KEYS = (
    "moe_intermediate_size",
    "shared_expert_intermediate_size",
    "n_shared_experts",
    "shared_intermediate_size",
)
# Keys a multimodal wrapper (Gemma 3, Llama 4, Mistral 3) may hold at its top level for
# the text model it nests under "text_config".
_INHERITED_KEYS = ("torch_dtype", "dtype", "tie_word_embeddings", "quantization_config")

# Falcon: the old "RefinedWeb*" names are the remote-code model types of the same models.
_FALCON_TYPES = frozenset({"falcon", "refinedweb", "refinedwebmodel"})
# Model types with routed experts (all with gated expert MLPs).
_MOE_TYPES = frozenset(
    {
        "mixtral",
        "qwen2_moe",
        "qwen3_moe",
        "deepseek",
        "deepseek_v2",
        "deepseek_v3",
        "llama4",
        "llama4_text",
        "gpt_oss",
        "phimoe",
        "granitemoe",
        "olmoe",
    }
)
# Dense SwiGLU / GeGLU MLPs (gate, up, down matrices).
_DENSE_GATED_TYPES = frozenset(
    {
        "llama",
        "mistral",
        "ministral",
        "ministral3",
        "gemma",
        "gemma2",
        "gemma3",
        "gemma3_text",
        "qwen2",
        "qwen3",
        "granite",
        "olmo",
        "olmo2",
        "phi3",
        "smollm3",
    }
)
_GATED_TYPES = _DENSE_GATED_TYPES | _MOE_TYPES
# Two-matrix MLPs (up, down).
_PLAIN_MLP_TYPES = frozenset(
    {"opt", "gpt2", "gptj", "gpt_neox", "bloom", "gpt_bigcode"} | _FALCON_TYPES
)
_KNOWN_TYPES = _GATED_TYPES | _PLAIN_MLP_TYPES
# Model types whose config.json may omit the FFN size because it is 4 h by definition.
_FOUR_H_TYPES = frozenset({"gpt2", "gptj", "bloom", "gpt_bigcode"} | _FALCON_TYPES)
# transformers' config classes that default tie_word_embeddings to False; every other
# class inherits PretrainedConfig's default of True (OPT, Gemma 1-3, Falcon, GPT-2).
_UNTIED_BY_DEFAULT = frozenset(
    {
        "llama",
        "mistral",
        "mixtral",
        "qwen2",
        "qwen2_moe",
        "qwen3",
        "qwen3_moe",
        "granite",
        "granitemoe",
        "gptj",
        "gpt_neox",
        "deepseek",
        "deepseek_v2",
        "deepseek_v3",
        "llama4",
        "llama4_text",
        "gpt_oss",
        "phi3",
        "phimoe",
        "olmo",
        "olmo2",
    }
)
# Attention layouts by model type (when the config has no "layer_types" list):
# a sliding_window applies to every layer (MistralAttention, Phi3Attention, ...),
_ALL_SLIDING_TYPES = frozenset({"mistral", "mixtral", "phi3", "phimoe"})
# to every other layer starting with the first (Gemma-2, gpt-oss),
_ALTERNATING_TYPES = frozenset({"gemma2", "gpt_oss"})
# to all but every sliding_window_pattern-th layer (Gemma-3),
_PATTERN_TYPES = frozenset({"gemma3", "gemma3_text"})
# or to the layers from max_window_layers on when use_sliding_window is true (Qwen).
_QWEN_TYPES = frozenset({"qwen2", "qwen2_moe", "qwen3", "qwen3_moe"})
# Llama 4: chunked attention on its RoPE layers, full attention on its NoPE layers.
_CHUNKED_TYPES = frozenset({"llama4", "llama4_text"})
_HF_LAYER_TYPES = {
    "full_attention": "full",
    "sliding_attention": "sliding",
    "chunked_attention": "chunked",
}
_DTYPE_BYTES: dict[str, float] = {
    "float32": 4.0,
    "fp32": 4.0,
    "float": 4.0,
    "float16": 2.0,
    "fp16": 2.0,
    "half": 2.0,
    "bfloat16": 2.0,
    "bf16": 2.0,
    "float8_e4m3fn": 1.0,
    "float8_e5m2": 1.0,
    "int8": 1.0,
}
#: Bytes per MXFP4 weight: a 4-bit E2M1 value plus one 8-bit E8M0 scale per 32 weights.
_MXFP4_BYTES = (4 + 8 / 32) / 8

_INT_FIELDS = (
    "n_layers",
    "hidden_size",
    "n_heads",
    "n_kv_heads",
    "head_dim",
    "ffn_size",
    "vocab_size",
    "n_experts",
    "n_experts_active",
)
# Non-negative counts added for per-layer structure; 0 means "not used".
_COUNT_FIELDS = (
    "sliding_window",
    "attention_chunk",
    "dense_ffn_size",
    "shared_ffn_size",
    "kv_lora_rank",
    "q_lora_rank",
    "qk_rope_head_dim",
    "v_head_dim",
)
_ATTENTION_KINDS = ("full", "sliding", "chunked")
_MLP_KINDS = ("dense", "moe")
# Fields of the original schema: to_dict() always writes them, the later ones only when
# they differ from their defaults (saved fits of uniform models keep their old form).
_BASE_FIELDS = frozenset(
    {
        "name",
        "n_layers",
        "hidden_size",
        "n_heads",
        "n_kv_heads",
        "head_dim",
        "ffn_size",
        "gated_mlp",
        "vocab_size",
        "tied_embeddings",
        "n_experts",
        "n_experts_active",
        "weight_bytes",
        "kv_bytes",
        "source",
        "hf_id",
    }
)


@dataclass(frozen=True, slots=True, kw_only=True)
class Architecture:
    """Shape of a decoder-only transformer.

    Parameters
    ----------
    name : str
        Display name, e.g. ``"Llama-2-7B"``.
    n_layers : int
        Number of transformer blocks ``L``.
    hidden_size : int
        Model width ``h``.
    n_heads : int
        Query heads ``a``.
    n_kv_heads : int
        Key/value heads ``k`` (``k == a`` multi-head, ``1 < k < a`` GQA, ``k == 1`` MQA;
        ``k == a`` for MLA).
    head_dim : int
        Per-head dimension ``d`` of queries and keys (usually ``h / a``; Gemma-7B has 256;
        MLA: ``qk_nope_head_dim + qk_rope_head_dim``).
    ffn_size : int
        Intermediate size ``f`` of the MLP (of one routed expert for MoE).
    gated_mlp : bool
        True for SwiGLU/GeGLU MLPs (3 matrices: gate, up, down), False for 2 matrices.
    vocab_size : int
        Vocabulary ``V``; the LM head is ``h x V``.
    tied_embeddings : bool
        Input embedding and LM head share one matrix (the LM head is still streamed
        in full at every forward pass).
    n_experts : int
        Routed experts per MoE layer ``X`` (1 for a dense model).
    n_experts_active : int
        Routed experts each token is sent to ``x`` (1 for a dense model).
    weight_bytes : float
        Bytes per weight (2 for bf16/fp16, 1 for fp8/int8).
    kv_bytes : float
        Bytes per cached K or V element.
    source : str
        Where the numbers come from (URL of the config.json, commit or paper).
    hf_id : str
        Hugging Face model id the preset describes, if any.
    layer_types : tuple of str, default ()
        Attention of each layer: ``"full"``, ``"sliding"`` (attends to the last
        ``sliding_window`` tokens) or ``"chunked"`` (attends within its chunk of
        ``attention_chunk`` tokens). Empty: every layer full, or every layer sliding
        when ``sliding_window > 0`` (Mistral-7B-v0.1). Stored empty when all are full.
    sliding_window : int, default 0
        Window ``W`` [tokens] of the sliding layers, the query included (0: none).
    attention_chunk : int, default 0
        Chunk ``C`` [tokens] of the chunked layers (Llama 4; 0: none).
    mlp_layer_types : tuple of str, default ()
        MLP of each layer: ``"dense"`` or ``"moe"``. Empty: every layer MoE when
        ``n_experts > 1``, else every layer dense.
    dense_ffn_size : int, default 0
        Intermediate size of the dense layers of an MoE model (0: ``ffn_size``).
    shared_ffn_size : int, default 0
        Total intermediate size of the shared experts every token of an MoE layer goes
        through besides its routed ones (0: none).
    expert_weight_bytes : float or None, default None
        Bytes per routed-expert weight when they are stored narrower than the rest
        (MXFP4: 0.53125); None: ``weight_bytes``.
    kv_lora_rank, q_lora_rank, qk_rope_head_dim, v_head_dim : int, default 0
        Multi-head latent attention (DeepSeek-V2/V3): rank of the cached KV latent, rank
        of the query down-projection (0: a plain ``q_proj``), the RoPE part of the
        query/key head dim (cached beside the latent). ``v_head_dim`` is the value head
        dim of any attention (0: ``head_dim``).

    Raises
    ------
    ArchitectureError
        If a count is not a positive integer, ``n_heads`` is not a multiple of
        ``n_kv_heads``, ``n_experts_active > n_experts``, a byte width is not a
        positive finite number, a flag is not a bool, or a per-layer field is
        inconsistent (wrong length, unknown kind, a window without sliding layers, MoE
        layers without experts, MLA keys without ``kv_lora_rank``).

    Notes
    -----
    Parameter counts cover the linear layers, the router and the embeddings; biases,
    norms, learned positional embeddings, attention sinks and shared-expert gates are
    ignored (well under 1 % for the models here).

    Examples
    --------
    >>> arch = Architecture(name="toy", n_layers=2, hidden_size=64, n_heads=4,
    ...                     n_kv_heads=2, head_dim=16, ffn_size=256, gated_mlp=True,
    ...                     vocab_size=1000)
    >>> arch.kv_dim, arch.attn_params_per_layer, arch.kv_bytes_per_token
    (32, 12288, 256.0)
    >>> swa = Architecture(name="toy-swa", n_layers=2, hidden_size=64, n_heads=4,
    ...                    n_kv_heads=2, head_dim=16, ffn_size=256, gated_mlp=True,
    ...                    vocab_size=1000, layer_types=["sliding", "full"],
    ...                    sliding_window=8)
    >>> swa.layer_types, float(swa.kv_cache_bytes(100))  # 8 + 100 tokens of 128 B
    (('sliding', 'full'), 13824.0)
    """

    name: str
    n_layers: int
    hidden_size: int
    n_heads: int
    n_kv_heads: int
    head_dim: int
    ffn_size: int
    gated_mlp: bool
    vocab_size: int
    tied_embeddings: bool = False
    n_experts: int = 1
    n_experts_active: int = 1
    weight_bytes: float = 2.0
    kv_bytes: float = 2.0
    source: str = ""
    hf_id: str = ""
    layer_types: tuple[str, ...] = ()
    sliding_window: int = 0
    attention_chunk: int = 0
    mlp_layer_types: tuple[str, ...] = ()
    dense_ffn_size: int = 0
    shared_ffn_size: int = 0
    expert_weight_bytes: float | None = None
    kv_lora_rank: int = 0
    q_lora_rank: int = 0
    qk_rope_head_dim: int = 0
    v_head_dim: int = 0

    def __post_init__(self) -> None:
        for field_name in ("name", "source", "hf_id"):
            value = getattr(self, field_name)
            if not isinstance(value, str):
                raise ArchitectureError(
                    f"Architecture.{field_name} must be a string; got {value!r} "
                    f"({type(value).__name__})."
                )
        for field_name in _INT_FIELDS:
            value = getattr(self, field_name)
            if (
                isinstance(value, bool)
                or not isinstance(value, numbers.Integral)
                or int(value) <= 0
            ):
                raise ArchitectureError(
                    f"Architecture.{field_name} must be a positive integer; got {value!r}. "
                    f"Pass a whole count such as {field_name}=32."
                )
            # numpy integers are accepted but stored as plain int (hashing, JSON).
            object.__setattr__(self, field_name, int(value))
        for field_name in _COUNT_FIELDS:
            value = getattr(self, field_name)
            if isinstance(value, bool) or not isinstance(value, numbers.Integral) or int(value) < 0:
                raise ArchitectureError(
                    f"Architecture.{field_name} must be a non-negative integer (0: not "
                    f"used); got {value!r}."
                )
            object.__setattr__(self, field_name, int(value))
        for field_name in ("gated_mlp", "tied_embeddings"):
            value = getattr(self, field_name)
            if not isinstance(value, bool):
                raise ArchitectureError(
                    f"Architecture.{field_name} must be True or False; got {value!r}."
                )
        for field_name in ("weight_bytes", "kv_bytes", "expert_weight_bytes"):
            value = getattr(self, field_name)
            if value is None and field_name == "expert_weight_bytes":
                continue
            if (
                isinstance(value, bool)
                or not isinstance(value, numbers.Real)
                or not math.isfinite(float(value))
                or float(value) <= 0
            ):
                raise ArchitectureError(
                    f"Architecture.{field_name} must be a positive number of bytes; "
                    f"got {value!r}. Use 2 for fp16/bf16, 1 for fp8/int8, 4 for fp32"
                    + (", 0.53125 for MXFP4." if field_name == "expert_weight_bytes" else ".")
                )
            object.__setattr__(self, field_name, float(value))
        if self.n_heads % self.n_kv_heads:
            raise ArchitectureError(
                f"Architecture.n_heads ({self.n_heads}) must be a multiple of n_kv_heads "
                f"({self.n_kv_heads}): each key/value head serves a whole group of query "
                "heads. Check both values against the model's config.json."
            )
        if self.n_experts_active > self.n_experts:
            raise ArchitectureError(
                f"Architecture.n_experts_active ({self.n_experts_active}) cannot exceed "
                f"n_experts ({self.n_experts}). For a dense model leave both at 1."
            )
        self._check_layer_types()
        self._check_mlp_layer_types()
        self._check_latent_attention()

    def _kinds(self, field_name: str, allowed: tuple[str, ...]) -> tuple[str, ...]:
        value = getattr(self, field_name)
        if isinstance(value, str) or not isinstance(value, list | tuple):
            raise ArchitectureError(
                f"Architecture.{field_name} must be a tuple (or list) of strings, one per "
                f"layer; got {value!r}."
            )
        kinds = tuple(value)
        bad = [k for k in kinds if k not in allowed]
        if bad:
            raise ArchitectureError(
                f"Architecture.{field_name} has unknown entries {sorted(set(map(str, bad)))}; "
                f"expected each of {list(allowed)}."
            )
        if kinds and len(kinds) != self.n_layers:
            raise ArchitectureError(
                f"Architecture.{field_name} has {len(kinds)} entries but n_layers is "
                f"{self.n_layers}; give one entry per layer (or none)."
            )
        return kinds

    def _check_layer_types(self) -> None:
        kinds = self._kinds("layer_types", _ATTENTION_KINDS)
        if not kinds and self.sliding_window and self.attention_chunk:
            raise ArchitectureError(
                "Architecture has both sliding_window and attention_chunk but no "
                "layer_types saying which layers use which; give layer_types."
            )
        if not kinds and self.sliding_window:
            kinds = ("sliding",) * self.n_layers  # Mistral-7B-v0.1: every layer
        elif not kinds and self.attention_chunk:
            kinds = ("chunked",) * self.n_layers
        for kind, size, field_name in (
            ("sliding", self.sliding_window, "sliding_window"),
            ("chunked", self.attention_chunk, "attention_chunk"),
        ):
            if (kind in kinds) != (size > 0):
                raise ArchitectureError(
                    f"Architecture.{field_name} is {size} but "
                    f"{'some' if kind in kinds else 'no'} layer is {kind!r}: a {kind} layer "
                    f"needs {field_name} > 0, and {field_name} > 0 needs a {kind} layer. "
                    "Fix layer_types or the size."
                )
        if all(k == "full" for k in kinds):
            kinds = ()
        object.__setattr__(self, "layer_types", kinds)

    def _check_mlp_layer_types(self) -> None:
        kinds = self._kinds("mlp_layer_types", _MLP_KINDS)
        if "moe" in kinds and self.n_experts == 1:
            raise ArchitectureError(
                "Architecture.mlp_layer_types has 'moe' layers but n_experts is 1; set "
                "n_experts and n_experts_active, or make every layer 'dense'."
            )
        if kinds and all(k == ("moe" if self.n_experts > 1 else "dense") for k in kinds):
            kinds = ()
        object.__setattr__(self, "mlp_layer_types", kinds)
        if self.shared_ffn_size and self.n_moe_layers == 0:
            raise ArchitectureError(
                f"Architecture.shared_ffn_size is {self.shared_ffn_size} but no layer is an "
                "MoE layer; shared experts belong to MoE layers (set n_experts > 1)."
            )

    def _check_latent_attention(self) -> None:
        if not self.kv_lora_rank:
            if self.q_lora_rank or self.qk_rope_head_dim:
                raise ArchitectureError(
                    "Architecture.q_lora_rank / qk_rope_head_dim describe multi-head latent "
                    "attention and need kv_lora_rank > 0; got kv_lora_rank=0."
                )
            return
        if not 0 < self.qk_rope_head_dim < self.head_dim:
            raise ArchitectureError(
                f"Architecture.qk_rope_head_dim must be positive and below head_dim "
                f"({self.head_dim} = qk_nope_head_dim + qk_rope_head_dim) for MLA; got "
                f"{self.qk_rope_head_dim}."
            )
        if self.n_kv_heads != self.n_heads:
            raise ArchitectureError(
                f"Architecture.n_kv_heads must equal n_heads ({self.n_heads}) for MLA, whose "
                f"keys and values are expanded per head from the latent; got "
                f"{self.n_kv_heads}."
            )

    # -- serialisation --------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict that ``Architecture(**d)`` rebuilds exactly.

        The per-layer fields are written only when they differ from their defaults, so
        the dict of a uniform model is the same as before they existed; tuples become
        lists.

        Examples
        --------
        >>> arch = get_architecture("llama-2-7b")
        >>> Architecture(**arch.to_dict()) == arch, "layer_types" in arch.to_dict()
        (True, False)
        """
        defaults = {f.name: f.default for f in fields(self)}
        out: dict[str, Any] = {}
        for key, value in asdict(self).items():
            if key not in _BASE_FIELDS and value == defaults[key]:
                continue
            out[key] = list(value) if isinstance(value, tuple) else value
        return out

    # -- construction from a Hugging Face config.json ----------------------------------
    @classmethod
    def from_hf_config(
        cls,
        cfg: Mapping[str, Any],
        *,
        name: str = "",
        source: str = "",
        hf_id: str = "",
        weight_bytes: float | None = None,
        kv_bytes: float | None = None,
        gated_mlp: bool | None = None,
    ) -> Architecture:
        """Build an :class:`Architecture` from a Hugging Face ``config.json`` dict.

        Parameters
        ----------
        cfg : Mapping[str, Any]
            The parsed ``config.json`` (``json.load``) or ``PretrainedConfig.to_dict()``.
            A multimodal config whose text model sits under ``"text_config"`` (Gemma 3,
            Llama 4, Mistral 3) is read from there.
        name : str, optional
            Display name; defaults to ``cfg["_name_or_path"]``, else ``cfg["model_type"]``.
        source : str, optional
            Provenance of the numbers, e.g. the URL of the config.json.
        hf_id : str, optional
            Hugging Face model id the config belongs to.
        weight_bytes : float, optional
            Bytes per weight [B], all weights included; defaults to the width of
            ``torch_dtype`` (``dtype`` in transformers 5), 2 when the config names none,
            1 for an ``fp8`` ``quantization_config``, with MXFP4 experts at 0.53125.
        kv_bytes : float, optional
            Bytes per cached K/V element [B]; defaults to the width of ``torch_dtype``.
        gated_mlp : bool, optional
            Override the gated-MLP flag; needed for a ``model_type`` this function does
            not know unless its ``hidden_act`` is SiLU (see Notes).

        Returns
        -------
        Architecture

        Raises
        ------
        ArchitectureError
            If a required key is missing, a count is not a positive integer, the hidden
            size is not divisible by the heads (and there is no ``head_dim``), the query
            heads are not a multiple of the KV heads, ``experts_active > experts``, the
            dtype is unknown, a layer type is not full/sliding/chunked attention, a dense
            model type carries fine-grained MoE keys, or the MLP type cannot be told.

        Warns
        -----
        SweetspotWarning
            For a ``model_type`` this function does not know (it is read as a standard
            decoder; the message lists the keys used), and for a ``quantization_config``
            whose method is not read.

        Notes
        -----
        Keys and aliases (the first present, non-null one wins); docs/architectures.md
        has the table by family:

        - layers ``L``: ``num_hidden_layers``, ``n_layer``, ``num_layers``;
          width ``h``: ``hidden_size``, ``d_model``, ``n_embd``;
          query heads ``a``: ``num_attention_heads``, ``n_head``;
          vocabulary ``V``: ``vocab_size``.
        - head dimension ``d``: ``head_dim`` (Gemma-7B: 256 although ``h/a = 192``),
          else ``h / a``; MLA: ``qk_nope_head_dim + qk_rope_head_dim``.
        - KV heads ``k``: ``num_key_value_heads`` (GQA); ``multi_query: true`` gives 1
          (GPT-BigCode); else ``k = a``. Falcon follows ``FalconConfig``/``FalconAttention``
          in transformers: with ``new_decoder_architecture`` (falcon-40b) ``k`` is
          ``num_kv_heads`` (``n_head_kv`` in the old RefinedWeb configs); otherwise
          ``multi_query`` (default true) gives ``k = 1`` (falcon-7b), whatever
          ``num_kv_heads`` says. MLA (``kv_lora_rank``): ``k = a``, the cache holds
          ``kv_lora_rank + qk_rope_head_dim`` elements per token and layer.
        - FFN size ``f``: ``intermediate_size``, OPT ``ffn_dim``, Falcon ``ffn_hidden_size``,
          GPT-2 ``n_inner``; absent (or null) it is ``4 h`` for Falcon, GPT-2, GPT-J, BLOOM
          and GPT-BigCode, and an error otherwise. MoE with ``moe_intermediate_size``
          (Qwen-MoE, DeepSeek): ``f`` is that, and ``intermediate_size`` is the dense
          layers' size; Llama 4: ``f = intermediate_size``, dense layers
          ``intermediate_size_mlp``, one shared expert of ``f``.
        - gated MLP by ``model_type`` (docs/architectures.md lists them), else from
          ``hidden_act`` SiLU/SwiGLU (with a warning), else ``gated_mlp=`` is required.
        - tied embeddings: ``tie_word_embeddings`` when present; otherwise the default of
          the model type's transformers config class (False for Llama, Mistral, Qwen,
          DeepSeek, Llama 4, gpt-oss, Phi-3, OLMo ...; True for OPT, Gemma 1-3, Falcon).
        - MoE: ``num_local_experts`` / ``num_experts`` / ``n_routed_experts`` and
          ``num_experts_per_tok``; dense and MoE layers per ``moe_layers`` /
          ``interleave_moe_layer_step`` (Llama 4), ``first_k_dense_replace`` and
          ``moe_layer_freq`` (DeepSeek), ``decoder_sparse_step`` and ``mlp_only_layers``
          (Qwen-MoE); shared experts ``n_shared_experts`` x ``moe_intermediate_size`` or
          ``shared_expert_intermediate_size``.
        - attention per layer: ``layer_types`` when present; else Gemma-2 and gpt-oss
          alternate sliding/full from layer 0, Gemma-3 has every
          ``sliding_window_pattern``-th layer full, Qwen slides the layers from
          ``max_window_layers`` on when ``use_sliding_window`` is true, Mistral, Mixtral
          and Phi-3 slide every layer when ``sliding_window`` is set, and Llama 4 chunks
          (``attention_chunk_size``) its RoPE layers (``no_rope_layers``, else all but
          every 4th).
        - dtype: ``torch_dtype`` bfloat16/float16 -> 2 bytes, float32 -> 4;
          ``quantization_config`` ``mxfp4`` (gpt-oss) -> routed experts at 4.25 bits,
          ``fp8`` -> weights at 1 byte.

        References
        ----------
        Hugging Face transformers configuration classes (``LlamaConfig``, ``OPTConfig``,
        ``FalconConfig``, ``Gemma3TextConfig``, ``Llama4TextConfig``, ``GptOssConfig``,
        ``DeepseekV3Config``, ``Qwen3MoeConfig`` ...),
        https://github.com/huggingface/transformers/tree/main/src/transformers/models

        Examples
        --------
        >>> falcon_7b = {"model_type": "falcon", "num_hidden_layers": 32,
        ...              "hidden_size": 4544, "num_attention_heads": 71,
        ...              "num_kv_heads": 71, "multi_query": True,
        ...              "new_decoder_architecture": False, "vocab_size": 65024}
        >>> arch = Architecture.from_hf_config(falcon_7b, name="falcon-7b")
        >>> arch.n_kv_heads, arch.head_dim, arch.ffn_size, arch.gated_mlp
        (1, 64, 18176, False)
        >>> gemma2 = {"model_type": "gemma2", "num_hidden_layers": 4, "hidden_size": 64,
        ...           "num_attention_heads": 4, "num_key_value_heads": 2, "head_dim": 16,
        ...           "intermediate_size": 128, "vocab_size": 100, "sliding_window": 32}
        >>> Architecture.from_hf_config(gemma2).layer_types
        ('sliding', 'full', 'sliding', 'full')
        """
        if not isinstance(cfg, Mapping):
            raise ArchitectureError(
                f"from_hf_config expects the config.json contents as a dict; got "
                f"{type(cfg).__name__}. Load it first: cfg = json.load(open('config.json'))."
            )
        view = _text_view(cfg)
        model_type = view.get("model_type") or ""
        if not isinstance(model_type, str):
            raise ArchitectureError(
                f"config key 'model_type' must be a string; got {model_type!r}."
            )
        model_type = model_type.lower()
        is_falcon = model_type in _FALCON_TYPES
        known = model_type in _KNOWN_TYPES

        present = [k for k in _FINE_MOE_KEYS if view.get(k) is not None]
        if present and known and model_type not in _MOE_TYPES:
            raise ArchitectureError(
                f"config has shared-expert MoE keys {present}, but model_type "
                f"{model_type!r} is a dense model whose transformers class has no experts; "
                "the two contradict each other. Fix model_type (e.g. 'qwen3_moe', "
                "'deepseek_v3') or remove the MoE keys."
            )

        n_layers = _require_int(view, _LAYER_KEYS, "number of layers")
        hidden = _require_int(view, _HIDDEN_KEYS, "hidden size")
        n_heads = _require_int(view, _HEAD_KEYS, "number of attention heads")
        vocab = _require_int(view, _VOCAB_KEYS, "vocabulary size")
        used = [_used(view, _LAYER_KEYS), _used(view, _HIDDEN_KEYS), _used(view, _HEAD_KEYS)]

        mla: dict[str, int] = {}
        found = _optional_int(view, ("kv_lora_rank",))
        if found is not None:
            mla["kv_lora_rank"] = found[1]
            for key in ("qk_nope_head_dim", "qk_rope_head_dim", "v_head_dim"):
                mla[key] = _require_int(view, (key,), f"{key} of multi-head latent attention")
            q_lora = _optional_int(view, ("q_lora_rank",))
            mla["q_lora_rank"] = q_lora[1] if q_lora else 0
            head_dim = mla.pop("qk_nope_head_dim") + mla["qk_rope_head_dim"]
            n_kv_heads, kv_key = n_heads, "kv_lora_rank"
        else:
            found = _optional_int(view, ("head_dim",))
            if found is not None:
                head_dim = found[1]
                used.append(f"head_dim={head_dim}")
            else:
                if hidden % n_heads:
                    raise ArchitectureError(
                        f"hidden size {hidden} is not divisible by {n_heads} attention heads "
                        "and the config has no 'head_dim'; expected hidden_size % "
                        "num_attention_heads == 0. Add 'head_dim' or fix the two values."
                    )
                head_dim = hidden // n_heads
            n_kv_heads, kv_key = _kv_heads(view, n_heads, is_falcon, model_type)
            if n_kv_heads > n_heads or n_heads % n_kv_heads:
                raise ArchitectureError(
                    f"{n_heads} attention heads are not a multiple of {n_kv_heads} key/value "
                    f"heads ({kv_key!r}); grouped-query attention needs "
                    "num_attention_heads % n_kv_heads == 0. Fix the value against the "
                    "model's config.json."
                )
        if view.get(kv_key) is not None and kv_key != "num_attention_heads":
            used.append(f"{kv_key}={view[kv_key]}")
        else:
            used.append(f"no KV-head key ({n_kv_heads} KV heads)")

        n_experts = _expert_count(view)
        found = _optional_int(view, _ACTIVE_EXPERT_KEYS)
        if found is not None:
            n_active = found[1]
        elif n_experts > 1:
            raise ArchitectureError(
                f"config has {n_experts} experts but no number of experts per token: "
                f"expected one of {list(_ACTIVE_EXPERT_KEYS)}. Add 'num_experts_per_tok' "
                "(2 for Mixtral)."
            )
        else:
            n_active = 1
        if n_active > n_experts:
            raise ArchitectureError(
                f"experts per token ({n_active}) exceeds the number of experts "
                f"({n_experts}); expected num_experts_per_tok <= num_local_experts. "
                "Fix one of the two keys."
            )

        mlp_kinds = _mlp_layout(view, n_layers) if n_experts > 1 else ()
        has_dense = n_experts == 1 or "dense" in mlp_kinds
        base_ffn = _optional_int(view, _FFN_KEYS)
        routed = _optional_int(view, ("moe_intermediate_size",)) if n_experts > 1 else None
        dense_ffn = shared_ffn = 0
        if model_type in _CHUNKED_TYPES and n_experts > 1:
            ffn = _require_int(view, ("intermediate_size",), "expert FFN size")
            shared_ffn = ffn  # Llama4TextMoe: one shared expert of intermediate_size
            if has_dense:
                dense_ffn = _require_int(
                    view, ("intermediate_size_mlp",), "FFN size of the dense layers"
                )
        elif routed is not None:
            ffn = routed[1]
            if has_dense:
                if base_ffn is None:
                    raise ArchitectureError(
                        "config has dense layers besides its MoE layers but no FFN size for "
                        f"them: expected one of {list(_FFN_KEYS)}."
                    )
                dense_ffn = base_ffn[1]
            n_shared = _optional_int(view, ("n_shared_experts",))
            if n_shared is not None:
                shared_ffn = n_shared[1] * ffn
            else:
                found = _optional_int(
                    view, ("shared_expert_intermediate_size", "shared_intermediate_size")
                )
                shared_ffn = found[1] if found else 0
        elif base_ffn is not None:
            ffn = base_ffn[1]
        elif model_type in _FOUR_H_TYPES:
            ffn = 4 * hidden
        else:
            raise ArchitectureError(
                f"config has no FFN size: expected one of {list(_FFN_KEYS)} (model_type "
                f"{model_type or 'missing'!r} has no 4*hidden default). Add "
                "'intermediate_size' from the model's config.json."
            )
        used.append(_used(view, _FFN_KEYS) if base_ffn else f"ffn={ffn}")
        used.append(_used(view, _VOCAB_KEYS))

        gated_from = "model_type"
        if gated_mlp is None:
            if model_type in _GATED_TYPES:
                gated_mlp = True
            elif model_type in _PLAIN_MLP_TYPES:
                gated_mlp = False
            else:
                act = _activation(view)
                if act not in _SWIGLU_ACTIVATIONS:
                    raise ArchitectureError(
                        f"cannot tell whether model_type {model_type or 'missing'!r} has a "
                        "gated (SwiGLU/GeGLU, 3-matrix) MLP; expected one of "
                        f"{sorted(_KNOWN_TYPES)}, or a SiLU 'hidden_act' (got {act!r}). "
                        "Pass gated_mlp=True or gated_mlp=False."
                    )
                gated_mlp, gated_from = True, f"hidden_act={act!r}"
        elif not isinstance(gated_mlp, bool):
            raise ArchitectureError(f"gated_mlp must be True, False or None; got {gated_mlp!r}.")
        else:
            gated_from = f"gated_mlp={gated_mlp}"

        tied = view.get("tie_word_embeddings")
        if tied is None:
            tied = model_type not in _UNTIED_BY_DEFAULT
        elif not isinstance(tied, bool):
            raise ArchitectureError(
                f"config key 'tie_word_embeddings' must be true or false; got {tied!r}."
            )

        layer_types, window, chunk, ignored = _attention_layout(view, model_type, n_layers)

        dtype_bytes = _dtype_bytes(view)
        default_weight_bytes, expert_bytes = dtype_bytes, None
        quant = view.get("quantization_config")
        if isinstance(quant, Mapping) and weight_bytes is None:
            method = str(quant.get("quant_method", "")).lower()
            if method == "mxfp4":  # gpt-oss: the routed experts only
                expert_bytes = _MXFP4_BYTES if n_experts > 1 else None
            elif method == "fp8":  # DeepSeek-V3: block-scaled e4m3 linear weights
                default_weight_bytes = 1.0
            else:
                warnings.warn(
                    f"config's quantization_config method {method!r} is not read; weights "
                    f"are counted at {dtype_bytes:g} bytes (torch_dtype). Pass "
                    "weight_bytes= for the quantized width.",
                    SweetspotWarning,
                    stacklevel=2,
                )

        if not known:
            keys = ", ".join(used)
            extra = f"; {ignored} is not read for an unknown model type" if ignored else ""
            warnings.warn(
                f"model_type {model_type or 'missing'!r} is not one sweetspot knows; read "
                f"as a standard decoder from {keys}, gated MLP from {gated_from}, "
                f"tie_word_embeddings={tied}{extra}. Check these against the model's code; "
                "build Architecture(...) directly for per-layer structure.",
                SweetspotWarning,
                stacklevel=2,
            )

        if not name:
            guess = view.get("_name_or_path") or cfg.get("_name_or_path") or model_type
            name = str(guess or "custom")
        return cls(
            name=name,
            n_layers=n_layers,
            hidden_size=hidden,
            n_heads=n_heads,
            n_kv_heads=n_kv_heads,
            head_dim=head_dim,
            ffn_size=ffn,
            gated_mlp=gated_mlp,
            vocab_size=vocab,
            tied_embeddings=tied,
            n_experts=n_experts,
            n_experts_active=n_active,
            weight_bytes=default_weight_bytes if weight_bytes is None else weight_bytes,
            kv_bytes=dtype_bytes if kv_bytes is None else kv_bytes,
            source=source,
            hf_id=hf_id,
            layer_types=layer_types,
            sliding_window=window,
            attention_chunk=chunk,
            mlp_layer_types=mlp_kinds,
            dense_ffn_size=dense_ffn if "dense" in mlp_kinds else 0,
            shared_ffn_size=shared_ffn,
            expert_weight_bytes=expert_bytes,
            **mla,
        )

    # -- derived shape numbers (used by sweetspot.counts) ------------------------------
    @property
    def is_mla(self) -> bool:
        """Multi-head latent attention (``kv_lora_rank > 0``)."""
        return self.kv_lora_rank > 0

    @property
    def value_head_dim(self) -> int:
        """Value head dimension ``d_v`` (``v_head_dim``, else ``head_dim``)."""
        return self.v_head_dim or self.head_dim

    @property
    def q_dim(self) -> int:
        """Width of the query projection output, ``a d``."""
        return self.n_heads * self.head_dim

    @property
    def kv_dim(self) -> int:
        """Width of each of the K and V projections, ``k d``."""
        return self.n_kv_heads * self.head_dim

    @property
    def attention_kinds(self) -> tuple[str, ...]:
        """Attention of every layer (``layer_types`` with the empty default expanded)."""
        return self.layer_types or ("full",) * self.n_layers

    @property
    def mlp_kinds(self) -> tuple[str, ...]:
        """MLP of every layer (``mlp_layer_types`` with the empty default expanded)."""
        default = "moe" if self.n_experts > 1 else "dense"
        return self.mlp_layer_types or (default,) * self.n_layers

    @property
    def n_moe_layers(self) -> int:
        """Layers whose MLP is a mixture of experts."""
        return self.mlp_kinds.count("moe")

    @property
    def n_dense_layers(self) -> int:
        """Layers with a dense MLP."""
        return self.n_layers - self.n_moe_layers

    @property
    def attn_params_per_layer(self) -> int:
        """Weights of the attention projections of one layer.

        ``h(ad) + h(kd) + h(kd_v) + (ad_v)h`` (Q, K, V, O; ``d_v = d`` unless
        ``v_head_dim`` is set); MLA: ``q_proj`` (or ``q_a_proj`` + ``q_b_proj``),
        ``kv_a_proj_with_mqa`` ``h (r + d_rope)``, ``kv_b_proj``
        ``r a (d - d_rope + d_v)`` and ``o_proj``.
        """
        h, a, dv = self.hidden_size, self.n_heads, self.value_head_dim
        if self.is_mla:
            r, rope = self.kv_lora_rank, self.qk_rope_head_dim
            if self.q_lora_rank:
                q = h * self.q_lora_rank + self.q_lora_rank * self.q_dim
            else:
                q = h * self.q_dim
            kv_a = h * (r + rope)
            kv_b = r * a * (self.head_dim - rope + dv)
            return q + kv_a + kv_b + a * dv * h
        if dv == self.head_dim:
            return h * self.q_dim + 2 * h * self.kv_dim + self.q_dim * h
        return h * self.q_dim + h * self.kv_dim + h * self.n_kv_heads * dv + a * dv * h

    @property
    def mlp_params_per_expert(self) -> int:
        """Weights of one MLP (one routed expert): ``3hf`` gated, ``2hf`` otherwise."""
        return (3 if self.gated_mlp else 2) * self.hidden_size * self.ffn_size

    @property
    def dense_mlp_params(self) -> int:
        """Weights of the MLP of a dense layer (``dense_ffn_size``, else ``ffn_size``)."""
        return (
            (3 if self.gated_mlp else 2) * self.hidden_size * (self.dense_ffn_size or self.ffn_size)
        )

    @property
    def shared_mlp_params(self) -> int:
        """Weights of the shared experts of one MoE layer (0 without shared experts)."""
        return (3 if self.gated_mlp else 2) * self.hidden_size * self.shared_ffn_size

    @property
    def router_params_per_layer(self) -> int:
        """Weights of the router of one MoE layer, ``h X`` (0 for a dense model)."""
        return self.hidden_size * self.n_experts if self.n_experts > 1 else 0

    @property
    def active_params_per_token(self) -> int:
        """Linear-layer weights one token multiplies through (excluding the LM head)."""
        moe = (
            self.n_experts_active * self.mlp_params_per_expert
            + self.shared_mlp_params
            + self.router_params_per_layer
        )
        if self.n_moe_layers == self.n_layers:
            return self.n_layers * (self.attn_params_per_layer + moe)
        return (
            self.n_layers * self.attn_params_per_layer
            + self.n_moe_layers * moe
            + self.n_dense_layers * self.dense_mlp_params
        )

    @property
    def lm_head_params(self) -> int:
        """Weights of the LM head, ``h V``."""
        return self.hidden_size * self.vocab_size

    @property
    def n_params(self) -> int:
        """Total parameter count (linear layers, all experts, embeddings; norms and biases
        ignored), close to the advertised size."""
        moe = (
            self.n_experts * self.mlp_params_per_expert
            + self.shared_mlp_params
            + self.router_params_per_layer
        )
        body = (
            self.n_layers * self.attn_params_per_layer
            + self.n_moe_layers * moe
            + self.n_dense_layers * self.dense_mlp_params
        )
        emb = self.vocab_size * self.hidden_size
        return body + emb + (0 if self.tied_embeddings else self.lm_head_params)

    @property
    def kv_elements_per_layer(self) -> int:
        """Cached elements per token and layer: ``k (d + d_v)``; MLA ``r + d_rope``."""
        if self.is_mla:
            return self.kv_lora_rank + self.qk_rope_head_dim
        return self.n_kv_heads * (self.head_dim + self.value_head_dim)

    @property
    def kv_bytes_per_token(self) -> float:
        """KV-cache bytes one token occupies in all layers: ``2 L k d b_kv`` (MLA:
        ``L (r + d_rope) b_kv``), before any sliding window evicts it."""
        return float(self.n_layers * self.kv_elements_per_layer) * self.kv_bytes

    def kv_cache_bytes(self, n_tokens: ArrayLike) -> NDArray[np.float64]:
        """Bytes the KV cache of one sequence of ``n_tokens`` tokens holds [B].

        Full layers hold every token, sliding layers at most ``sliding_window`` and
        chunked layers at most ``attention_chunk`` tokens (an upper bound: the current
        chunk).

        Parameters
        ----------
        n_tokens : float or array_like
            Tokens of the sequence (prompt plus generated).

        Returns
        -------
        ndarray of float64
            Bytes, of the shape of ``n_tokens``.

        Examples
        --------
        >>> float(get_architecture("llama-2-7b").kv_cache_bytes(1000))  # 0.5 MiB/token
        524288000.0
        """
        n = np.asarray(n_tokens, dtype=np.float64)
        kinds = self.attention_kinds
        held = kinds.count("full") * n
        if self.sliding_window:
            held = held + kinds.count("sliding") * np.minimum(n, self.sliding_window)
        if self.attention_chunk:
            held = held + kinds.count("chunked") * np.minimum(n, self.attention_chunk)
        out: NDArray[np.float64] = held * (self.kv_elements_per_layer * self.kv_bytes)
        return out


# --- config.json helpers ---------------------------------------------------------------
def _text_view(cfg: Mapping[str, Any]) -> Mapping[str, Any]:
    """The text model's keys: ``cfg`` itself, or its ``text_config`` (multimodal wrappers)
    with the dtype, tie and quantization keys the wrapper holds for it."""
    nested = cfg.get("text_config")
    if not isinstance(nested, Mapping) or any(cfg.get(k) is not None for k in _LAYER_KEYS):
        return cfg
    text = dict(nested)
    if not text.get("model_type") and cfg.get("model_type"):
        text["model_type"] = cfg["model_type"]
    inherited = {k: cfg[k] for k in _INHERITED_KEYS if cfg.get(k) is not None}
    return ChainMap(text, inherited)


def _used(cfg: Mapping[str, Any], keys: tuple[str, ...]) -> str:
    for key in keys:
        if cfg.get(key) is not None:
            return f"{key}={cfg[key]}"
    return ""


def _optional_int(cfg: Mapping[str, Any], keys: tuple[str, ...]) -> tuple[str, int] | None:
    """Return ``(key, value)`` for the first key present with a non-null value, checked."""
    for key in keys:
        value = cfg.get(key)
        if value is None:
            continue
        integral = isinstance(value, numbers.Integral) or (
            isinstance(value, float) and value.is_integer()
        )
        if isinstance(value, bool) or not integral or value <= 0:
            raise ArchitectureError(
                f"config key {key!r} must be a positive integer; got {value!r}. "
                "Check it against the model's published config.json."
            )
        return key, int(value)
    return None


def _require_int(cfg: Mapping[str, Any], keys: tuple[str, ...], what: str) -> int:
    found = _optional_int(cfg, keys)
    if found is None:
        raise ArchitectureError(
            f"config has no {what}: expected one of {list(keys)}; got keys "
            f"{sorted(map(str, cfg))}. Add it from the model's config.json or build "
            "Architecture(...) directly."
        )
    return found[1]


def _flag(cfg: Mapping[str, Any], key: str, default: bool) -> bool:
    value = cfg.get(key)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise ArchitectureError(f"config key {key!r} must be true or false; got {value!r}.")
    return value


def _kv_heads(
    cfg: Mapping[str, Any], n_heads: int, is_falcon: bool, model_type: str
) -> tuple[int, str]:
    """Number of KV heads and the key it came from (see from_hf_config Notes)."""
    if is_falcon:
        # Old RefinedWeb (40B) configs imply the new decoder architecture by model type.
        if _flag(cfg, "new_decoder_architecture", model_type == "refinedweb"):
            found = _optional_int(cfg, _FALCON_KV_HEAD_KEYS)
            return (found[1], found[0]) if found else (n_heads, "num_kv_heads")
        if _flag(cfg, "multi_query", True):  # FalconConfig's default is multi_query=True
            return 1, "multi_query"
        return n_heads, "num_attention_heads"
    found = _optional_int(cfg, _KV_HEAD_KEYS)
    if found is not None:
        return found[1], found[0]
    if _flag(cfg, "multi_query", False):
        return 1, "multi_query"
    return n_heads, "num_attention_heads"


def _dtype_bytes(cfg: Mapping[str, Any]) -> float:
    for key in _DTYPE_KEYS:
        value = cfg.get(key)
        if value is None:
            continue
        label = str(value).lower().removeprefix("torch.")
        if label not in _DTYPE_BYTES:
            raise ArchitectureError(
                f"config key {key!r} names an unknown dtype {value!r}; expected one of "
                f"{sorted(_DTYPE_BYTES)}. Pass weight_bytes= and kv_bytes= explicitly."
            )
        return _DTYPE_BYTES[label]
    return 2.0


def _expert_count(cfg: Mapping[str, Any]) -> int:
    """Routed experts per MoE layer (1 for a dense model; 0 or null read as dense)."""
    for key in _EXPERT_KEYS:
        value = cfg.get(key)
        if value is None or (value == 0 and not isinstance(value, bool)):
            continue
        return _require_int(cfg, (key,), "number of experts")
    return 1


def _activation(cfg: Mapping[str, Any]) -> str | None:
    for key in _ACTIVATION_KEYS:
        value = cfg.get(key)
        if isinstance(value, str):
            return value.lower()
    return None


def _int_list(cfg: Mapping[str, Any], key: str) -> list[int] | None:
    """A list of non-negative integers (layer indices, 0/1 flags), or None if absent."""
    value = cfg.get(key)
    if value is None:
        return None
    if not isinstance(value, list | tuple) or not all(
        isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in value
    ):
        raise ArchitectureError(
            f"config key {key!r} must be a list of non-negative integers; got {value!r}."
        )
    return [int(v) for v in value]


def _nonnegative_int(cfg: Mapping[str, Any], key: str) -> int | None:
    value = cfg.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0:
        raise ArchitectureError(
            f"config key {key!r} must be a non-negative integer; got {value!r}."
        )
    return int(value)


def _step(cfg: Mapping[str, Any], key: str) -> int | None:
    found = _optional_int(cfg, (key,))
    return None if found is None else found[1]


def _mlp_layout(cfg: Mapping[str, Any], n_layers: int) -> tuple[str, ...]:
    """``"dense"``/``"moe"`` per layer of an MoE config, as transformers builds them."""
    moe = [True] * n_layers
    listed = _int_list(cfg, "moe_layers")  # Llama 4
    if listed is not None:
        chosen = set(listed)
        moe = [i in chosen for i in range(n_layers)]
    else:
        step = _step(cfg, "interleave_moe_layer_step")  # Llama 4: layers step-1, 2 step-1 ...
        if step is not None:
            moe = [(i + 1) % step == 0 for i in range(n_layers)]
    kinds = cfg.get("mlp_layer_types")  # newer configs spell it out ("dense"/"sparse")
    if isinstance(kinds, list | tuple) and len(kinds) == n_layers:
        moe = [str(k).lower() in ("sparse", "moe") for k in kinds]
    first_dense = _nonnegative_int(cfg, "first_k_dense_replace")  # DeepSeek: k dense first
    if first_dense is not None:
        moe = [m and i >= first_dense for i, m in enumerate(moe)]
    freq = _step(cfg, "moe_layer_freq")  # DeepSeek: MoE where i % freq == 0
    if freq is not None:
        moe = [m and i % freq == 0 for i, m in enumerate(moe)]
    sparse_step = _step(cfg, "decoder_sparse_step")  # Qwen-MoE: (i + 1) % step == 0
    if sparse_step is not None:
        moe = [m and (i + 1) % sparse_step == 0 for i, m in enumerate(moe)]
    dense_only = _int_list(cfg, "mlp_only_layers")  # Qwen-MoE
    if dense_only:
        excluded = set(dense_only)
        moe = [m and i not in excluded for i, m in enumerate(moe)]
    if all(moe):
        return ()
    return tuple("moe" if m else "dense" for m in moe)


def _attention_layout(
    cfg: Mapping[str, Any], model_type: str, n_layers: int
) -> tuple[tuple[str, ...], int, int, str]:
    """``(layer_types, sliding_window, attention_chunk, ignored)`` as transformers reads
    the config; ``ignored`` names a window key that an unknown model type carries."""
    window = _optional_int(cfg, ("sliding_window",))
    w = window[1] if window else 0
    chunk_key = _optional_int(cfg, ("attention_chunk_size",))
    c = chunk_key[1] if chunk_key else 0
    listed = cfg.get("layer_types")
    kinds: list[str]
    if isinstance(listed, list | tuple) and listed:
        if len(listed) != n_layers:
            raise ArchitectureError(
                f"config key 'layer_types' has {len(listed)} entries for {n_layers} layers; "
                "expected one per layer."
            )
        unknown = sorted({str(t) for t in listed if t not in _HF_LAYER_TYPES})
        if unknown:
            raise ArchitectureError(
                f"config key 'layer_types' has layer types {unknown} that sweetspot cannot "
                f"count; expected {sorted(_HF_LAYER_TYPES)}. Linear-attention and state-space "
                "layers have no KV cache of this form: build Architecture(...) directly."
            )
        kinds = [_HF_LAYER_TYPES[t] for t in listed]
        # A sliding (chunked) layer without a window (chunk) size attends to everything.
        kinds = [
            "full" if (k == "sliding" and not w) or (k == "chunked" and not c) else k for k in kinds
        ]
    elif model_type in _CHUNKED_TYPES and c:
        rope = _int_list(cfg, "no_rope_layers")
        if not rope:
            interval = _step(cfg, "no_rope_layer_interval") or 4
            rope = [int((i + 1) % interval != 0) for i in range(n_layers)]
        if len(rope) < n_layers:
            raise ArchitectureError(
                f"config key 'no_rope_layers' has {len(rope)} entries for {n_layers} layers."
            )
        kinds = ["chunked" if rope[i] else "full" for i in range(n_layers)]
    elif not w or cfg.get("use_sliding_window") is False:
        kinds = ["full"] * n_layers
    elif model_type in _ALTERNATING_TYPES:
        kinds = ["sliding" if (i + 1) % 2 else "full" for i in range(n_layers)]
    elif model_type in _PATTERN_TYPES:
        pattern = _step(cfg, "sliding_window_pattern") or _step(cfg, "_sliding_window_pattern")
        pattern = pattern or 6
        kinds = ["sliding" if (i + 1) % pattern else "full" for i in range(n_layers)]
    elif model_type in _QWEN_TYPES:
        first = _optional_int(cfg, ("max_window_layers",))
        start = first[1] if first else 0
        use = cfg.get("use_sliding_window") is True
        kinds = ["sliding" if use and i >= start else "full" for i in range(n_layers)]
    elif model_type in _ALL_SLIDING_TYPES:
        kinds = ["sliding"] * n_layers
    else:
        return (), 0, 0, f"sliding_window={w}" if model_type not in _KNOWN_TYPES else ""
    out = tuple(kinds) if any(k != "full" for k in kinds) else ()
    return (
        out,
        w if "sliding" in out else 0,
        c if "chunked" in out else 0,
        "",
    )


# --- presets ---------------------------------------------------------------------------
# Every preset is built from the published config.json values (only the keys needed) and
# describes 16-bit serving (weight_bytes = kv_bytes = 2), whatever dtype the checkpoint
# is stored in. Values were checked against stored copies of the huggingface.co files:
# the config.json itself where it was stored, otherwise configs of fine-tunes,
# quantisations or mirrors that record the model as "_name_or_path":
# - OPT-2.7B: facebook/opt-2.7b config.json; OPT-1.3B, OPT-6.7B: derived configs
#   (e.g. mit-han-lab/opt-6.7b-smoothquant, iproskurina/opt-1.3b-gptq-4bit).
# - Llama-2-7B/13B/70B, Llama-3.1-8B, Llama-3.2-1B: derived configs (e.g.
#   philschmid/Llama-2-7b-hf, TheBloke/Llama-2-70B-fp16); Llama-3.2-3B: the
#   mlx-community/Llama-3.2-3B-bf16 conversion.
# - Gemma-2B/7B, Gemma-2-2B/9B: derived configs (_name_or_path google/gemma-*).
# - Falcon-40B: tiiuae/falcon-40b config.json (in-library form); Falcon-7B: derived
#   configs in both the in-library and the older RefinedWebModel form.
# - Qwen2-7B: Qwen/Qwen2-7B config.json; Qwen2-0.5B/1.5B: derived configs.
# - Granite-3.0-2B/8B: RichardErkhov/ibm-granite_-_granite-3.0-2b-base-8bits and copies
#   of the granite-3.0-8b configs; vocab 49155 also in the GGUF metadata of
#   ollama granite3-dense 2b/8b; tie_word_embeddings inferred (see _granite).
# - Mistral-7B-v0.1: derived configs; Mixtral-8x7B-v0.1: derived configs and
#   mistralai/Mixtral-8x7B-Instruct-v0.1 config.json.
# - Falcon-RW-7B, Granite-3B-Code, Granite-8B-Code (the SweetSpot paper's Table 2): see
#   their entries below.
# The presets keep only the uniform shape: they carry no sliding window (Mistral-7B-v0.1,
# Gemma-2), as the fits shipped in sweetspot/data were made with them; the full
# config.json read by Architecture.from_hf_config adds the windows (docs/architectures.md).
_PRESETS: dict[str, Architecture] = {}


def _preset(display: str, hf_id: str, cfg: dict[str, Any]) -> None:
    arch = Architecture.from_hf_config(
        cfg,
        name=display,
        hf_id=hf_id,
        source=f"https://huggingface.co/{hf_id}/blob/main/config.json",
        weight_bytes=2.0,
        kv_bytes=2.0,
    )
    _PRESETS[display.lower()] = arch


def _opt(layers: int, hidden: int, ffn: int) -> dict[str, Any]:
    # OPT configs carry no tie_word_embeddings key; OPTConfig ties (PretrainedConfig).
    return {
        "ffn_dim": ffn,
        "hidden_size": hidden,
        "model_type": "opt",
        "num_attention_heads": 32,
        "num_hidden_layers": layers,
        "vocab_size": 50272,
    }


_preset("OPT-1.3B", "facebook/opt-1.3b", _opt(24, 2048, 8192))
_preset("OPT-2.7B", "facebook/opt-2.7b", _opt(32, 2560, 10240))
_preset("OPT-6.7B", "facebook/opt-6.7b", _opt(32, 4096, 16384))


def _llama(
    layers: int, hidden: int, heads: int, kv: int, ffn: int, vocab: int, tied: bool
) -> dict[str, Any]:
    return {
        "hidden_size": hidden,
        "intermediate_size": ffn,
        "model_type": "llama",
        "num_attention_heads": heads,
        "num_hidden_layers": layers,
        "num_key_value_heads": kv,
        "tie_word_embeddings": tied,
        "vocab_size": vocab,
    }


_preset("Llama-2-7B", "meta-llama/Llama-2-7b-hf", _llama(32, 4096, 32, 32, 11008, 32000, False))
_preset("Llama-2-13B", "meta-llama/Llama-2-13b-hf", _llama(40, 5120, 40, 40, 13824, 32000, False))
_preset("Llama-2-70B", "meta-llama/Llama-2-70b-hf", _llama(80, 8192, 64, 8, 28672, 32000, False))
_preset("Llama-3.1-8B", "meta-llama/Llama-3.1-8B", _llama(32, 4096, 32, 8, 14336, 128256, False))
_preset("Llama-3.2-1B", "meta-llama/Llama-3.2-1B", _llama(16, 2048, 32, 8, 8192, 128256, True))
# Llama-3.2-3B: 24 query heads over 8 KV heads, 3 per group; the SweetSpot paper's Table 2
# gives a grouping factor of 4 (docs/architectures.md). The config.json is followed.
_preset("Llama-3.2-3B", "meta-llama/Llama-3.2-3B", _llama(28, 3072, 24, 8, 8192, 128256, True))


def _gemma(
    model_type: str, layers: int, hidden: int, heads: int, kv: int, ffn: int
) -> dict[str, Any]:
    # Gemma configs carry no tie_word_embeddings key; GemmaConfig/Gemma2Config tie.
    return {
        "head_dim": 256,
        "hidden_size": hidden,
        "intermediate_size": ffn,
        "model_type": model_type,
        "num_attention_heads": heads,
        "num_hidden_layers": layers,
        "num_key_value_heads": kv,
        "vocab_size": 256000,
    }


_preset("Gemma-2B", "google/gemma-2b", _gemma("gemma", 18, 2048, 8, 1, 16384))
_preset("Gemma-7B", "google/gemma-7b", _gemma("gemma", 28, 3072, 16, 16, 24576))
_preset("Gemma-2-2B", "google/gemma-2-2b", _gemma("gemma2", 26, 2304, 8, 4, 9216))
_preset("Gemma-2-9B", "google/gemma-2-9b", _gemma("gemma2", 42, 3584, 16, 8, 14336))

# In-library Falcon configs; no FFN key (4 h) and no tie key (FalconConfig ties).
_preset(
    "Falcon-7B",
    "tiiuae/falcon-7b",
    {
        "hidden_size": 4544,
        "model_type": "falcon",
        "multi_query": True,
        "new_decoder_architecture": False,
        "num_attention_heads": 71,
        "num_hidden_layers": 32,
        "num_kv_heads": 71,  # ignored: multi_query without the new architecture -> 1
        "vocab_size": 65024,
    },
)
_preset(
    "Falcon-40B",
    "tiiuae/falcon-40b",
    {
        "hidden_size": 8192,
        "model_type": "falcon",
        "new_decoder_architecture": True,
        "num_attention_heads": 128,
        "num_hidden_layers": 60,
        "num_kv_heads": 8,
        "vocab_size": 65024,
    },
)


def _qwen2(
    layers: int, hidden: int, heads: int, kv: int, ffn: int, vocab: int, tied: bool
) -> dict[str, Any]:
    return {
        "hidden_size": hidden,
        "intermediate_size": ffn,
        "model_type": "qwen2",
        "num_attention_heads": heads,
        "num_hidden_layers": layers,
        "num_key_value_heads": kv,
        "tie_word_embeddings": tied,
        "vocab_size": vocab,
    }


_preset("Qwen2-0.5B", "Qwen/Qwen2-0.5B", _qwen2(24, 896, 14, 2, 4864, 151936, True))
_preset("Qwen2-1.5B", "Qwen/Qwen2-1.5B", _qwen2(28, 1536, 12, 2, 8960, 151936, True))
_preset("Qwen2-7B", "Qwen/Qwen2-7B", _qwen2(28, 3584, 28, 4, 18944, 152064, False))


def _granite(hidden: int, ffn: int) -> dict[str, Any]:
    # tie_word_embeddings: the stored copies of the 3.0 config.json were cut before this
    # key; True is inferred from the checkpoint sizes (2B: 10.13 GB fp32 = 2.53e9
    # weights, 8B: 16.3 GB bf16 = 8.17e9, both matching tied embeddings) and the model
    # cards (2.5B, 8.1B parameters). The 3.1 configs, same shapes, say true explicitly.
    return {
        "hidden_size": hidden,
        "intermediate_size": ffn,
        "model_type": "granite",
        "num_attention_heads": 32,
        "num_hidden_layers": 40,
        "num_key_value_heads": 8,
        "tie_word_embeddings": True,
        "vocab_size": 49155,
    }


_preset("Granite-3.0-2B", "ibm-granite/granite-3.0-2b-base", _granite(2048, 8192))
_preset("Granite-3.0-8B", "ibm-granite/granite-3.0-8b-base", _granite(4096, 12800))

_preset(
    "Mistral-7B-v0.1",
    "mistralai/Mistral-7B-v0.1",
    {
        "hidden_size": 4096,
        "intermediate_size": 14336,
        "model_type": "mistral",
        "num_attention_heads": 32,
        "num_hidden_layers": 32,
        "num_key_value_heads": 8,
        "tie_word_embeddings": False,
        "vocab_size": 32000,
    },
)
_preset(
    "Mixtral-8x7B-v0.1",
    "mistralai/Mixtral-8x7B-v0.1",
    {
        "hidden_size": 4096,
        "intermediate_size": 14336,
        "model_type": "mixtral",
        "num_attention_heads": 32,
        "num_experts_per_tok": 2,
        "num_hidden_layers": 32,
        "num_key_value_heads": 8,
        "num_local_experts": 8,
        "tie_word_embeddings": False,
        "vocab_size": 32000,
    },
)


# Falcon-RW-7B (tiiuae/falcon-rw-7b): GPT-3-like decoder trained on RefinedWeb only;
# in-library FalconConfig form of its config.json: MHA (multi_query false, so k = a = 64),
# ALiBi positions, sequential (not parallel) attention and MLP, 4 h FFN (no FFN key) and
# tied embeddings (FalconConfig default). 36 x 12 h^2 + V h = 7.5e9 weights, the paper's
# "7.5B". Values as in the paper's Table 2 (64 heads, MHA, hidden 4096, 36 layers).
_preset(
    "Falcon-RW-7B",
    "tiiuae/falcon-rw-7b",
    {
        "alibi": True,
        "hidden_size": 4096,
        "model_type": "falcon",
        "multi_query": False,
        "new_decoder_architecture": False,
        "num_attention_heads": 64,
        "num_hidden_layers": 36,
        "parallel_attn": False,
        "vocab_size": 65024,
    },
)


def _granite_code(layers: int, hidden: int, kv: int, ffn: int) -> dict[str, Any]:
    # Granite code models (Mishra et al., arXiv:2405.04324, Table 1) are published as
    # model_type "llama" (LlamaForCausalLM, with attention and MLP biases, ignored here):
    # 32 query heads, StarCoder tokenizer (vocab 49152), tied embeddings (3.48e9 and
    # 8.05e9 weights, the sizes on their model pages, need the LM head tied).
    return {
        "hidden_size": hidden,
        "intermediate_size": ffn,
        "model_type": "llama",
        "num_attention_heads": 32,
        "num_hidden_layers": layers,
        "num_key_value_heads": kv,
        "tie_word_embeddings": True,
        "vocab_size": 49152,
    }


# Granite-3B-Code: MHA, hidden 2560. The paper's Table 2 gives "Granite (3B)" a hidden size
# of 2048, which no Granite code checkpoint has (2048 x 32 layers would make 2.65B weights):
# read as a typo for 2560; the config.json value is used (docs/architectures.md).
_preset("Granite-3B-Code", "ibm-granite/granite-3b-code-base", _granite_code(32, 2560, 32, 10240))
# Granite-8B-Code: GQA with 8 KV heads (grouping 4), 36 layers, as in Table 2.
_preset("Granite-8B-Code", "ibm-granite/granite-8b-code-base", _granite_code(36, 4096, 8, 14336))


# --- name lookup -----------------------------------------------------------------------
# Fine-tune markers: chat/instruct variants share the base model's architecture.
_VARIANT_TOKENS = frozenset({"hf", "chat", "instruct", "it", "base"})


def _normalise(name: str) -> str:
    """Canonical lookup key: no org prefix, lowercase, '_', '.', ' ' and parentheses read
    as '-', and fine-tune markers (-hf, -chat, -instruct, -it, -base) dropped wherever they
    appear after the first token; a leading 'meta-' (Meta-Llama-3.1-8B) is dropped too."""
    base = re.sub(r"[()]", " ", name.strip().rsplit("/", 1)[-1].lower())
    tokens = [t for t in re.split(r"[-_.\s]+", base) if t]
    if len(tokens) > 1 and tokens[0] == "meta":
        tokens = tokens[1:]
    kept = tokens[:1] + [t for t in tokens[1:] if t not in _VARIANT_TOKENS]
    return "-".join(kept)


# The SweetSpot paper's names for its 13 LLMs (the "model" column of its Tables 2 and 5,
# ../shared/data/sweetspot-paper-h100/), and short names that do not follow the presets'.
_ALIASES: dict[str, str] = {
    "Llama 3.2 (1B)": "llama-3.2-1b",
    "OPT (1.3B)": "opt-1.3b",
    "Qwen 2 (1.5B)": "qwen2-1.5b",
    "Gemma 2 (2B)": "gemma-2-2b",
    "OPT (2.7B)": "opt-2.7b",
    "Llama 3.2 (3B)": "llama-3.2-3b",
    "Granite (3B)": "granite-3b-code",
    "OPT (6.7B)": "opt-6.7b",
    "Qwen 2 (7B)": "qwen2-7b",
    "Falcon-RW (7.5B)": "falcon-rw-7b",
    "Granite (8B)": "granite-8b-code",
    "Llama 3.1 (8B)": "llama-3.1-8b",
    "Gemma 2 (9B)": "gemma-2-9b",
    "ibm-granite/granite-3b-code-base-2k": "granite-3b-code",
    "ibm-granite/granite-8b-code-base-4k": "granite-8b-code",
}

_LOOKUP: dict[str, str] = {}
for _key, _arch in _PRESETS.items():
    for _alias in (_key, _arch.hf_id):
        _LOOKUP.setdefault(_normalise(_alias), _key)
for _alias, _key in _ALIASES.items():
    _LOOKUP.setdefault(_normalise(_alias), _key)
del _key, _arch, _alias


def list_architectures() -> list[str]:
    """Names of the shipped presets, sorted.

    Returns
    -------
    list of str
        Lowercase preset names, each accepted by :func:`get_architecture`.

    Examples
    --------
    >>> names = list_architectures()
    >>> names[:3]
    ['falcon-40b', 'falcon-7b', 'falcon-rw-7b']
    """
    return sorted(_PRESETS)


def get_architecture(name: str | Architecture) -> Architecture:
    """Return a preset :class:`Architecture` by name or Hugging Face id.

    Parameters
    ----------
    name : str or Architecture
        A preset name (``"llama-2-7b"``) or Hugging Face id with or without the org
        (``"meta-llama/Llama-2-7b-chat-hf"``, ``"Mixtral-8x7B-v0.1"``), or a name of the
        SweetSpot paper's Table 2 (``"Qwen 2 (1.5B)"``, ``"Granite (8B)"``). Matching is
        case-insensitive, reads ``_``, ``.`` and ``-`` alike and ignores the fine-tune
        markers ``-hf``, ``-chat``, ``-instruct``, ``-it`` and ``-base`` (chat and
        instruct variants share the base architecture). An :class:`Architecture` is
        returned as is.

    Returns
    -------
    Architecture

    Raises
    ------
    ArchitectureError
        For an unknown name (the message lists close matches) or a non-string.

    See Also
    --------
    list_architectures : the preset names.
    Architecture.from_hf_config : build any other model from its config.json.

    Examples
    --------
    >>> get_architecture("meta-llama/Llama-2-7b-chat-hf").n_layers
    32
    >>> get_architecture("google/gemma-7b-it").head_dim
    256
    >>> get_architecture("Qwen/Qwen2-7B-Instruct").n_kv_heads
    4
    >>> get_architecture("Falcon-RW (7.5B)").n_layers
    36
    """
    if isinstance(name, Architecture):
        return name
    if not isinstance(name, str):
        raise ArchitectureError(
            f"get_architecture expects a preset name or Hugging Face id (str) or an "
            f"Architecture; got {type(name).__name__}. See list_architectures()."
        )
    key = _normalise(name)
    if key in _LOOKUP:
        return _PRESETS[_LOOKUP[key]]
    close = difflib.get_close_matches(key, list(_LOOKUP), n=3, cutoff=0.6)
    suggestions = list(dict.fromkeys(_LOOKUP[c] for c in close))
    hint = f" Did you mean {', '.join(repr(s) for s in suggestions)}?" if suggestions else ""
    raise ArchitectureError(
        f"unknown architecture {name!r} (looked up as {key!r}).{hint} "
        "list_architectures() gives the presets; for any other model build one from its "
        "config.json with Architecture.from_hf_config(json.load(open('config.json')))."
    )
