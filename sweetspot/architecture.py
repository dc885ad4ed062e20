"""Transformer architectures: the shape numbers that FLOPs and bytes are counted from.

An :class:`Architecture` is plain data (frozen). Build one from a Hugging Face
``config.json`` dict with :meth:`Architecture.from_hf_config`, or take a shipped
preset with :func:`get_architecture` (names are case-insensitive and Hugging Face
ids such as ``meta-llama/Llama-2-7b-chat-hf`` are accepted).

Examples
--------
>>> from sweetspot.architecture import get_architecture, list_architectures
>>> arch = get_architecture("meta-llama/Llama-2-7b-chat-hf")
>>> arch.name, arch.n_layers, arch.n_kv_heads
('Llama-2-7B', 32, 32)
>>> "mixtral-8x7b-v0.1" in list_architectures()
True
"""

from __future__ import annotations

import difflib
import math
import numbers
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .exceptions import ArchitectureError

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
_EXPERT_KEYS = ("num_local_experts", "num_experts")
_ACTIVE_EXPERT_KEYS = ("num_experts_per_tok", "num_experts_per_token")
_DTYPE_KEYS = ("torch_dtype", "dtype")
# Shared-expert / fine-grained MoE layouts (Qwen2-MoE, DeepSeek) have a second FFN size
# that this dataclass cannot hold; refuse them rather than count them wrong.
_UNSUPPORTED_MOE_KEYS = (
    "moe_intermediate_size",
    "shared_expert_intermediate_size",
    "n_shared_experts",
)

# Falcon: the old "RefinedWeb*" names are the remote-code model types of the same models.
_FALCON_TYPES = frozenset({"falcon", "refinedweb", "refinedwebmodel"})
# SwiGLU / GeGLU MLPs (gate, up, down matrices).
_GATED_TYPES = frozenset(
    {"llama", "mistral", "mixtral", "gemma", "gemma2", "qwen2", "granite", "granitemoe"}
)
# Two-matrix MLPs (up, down).
_PLAIN_MLP_TYPES = frozenset(
    {"opt", "gpt2", "gptj", "gpt_neox", "bloom", "gpt_bigcode"} | _FALCON_TYPES
)
# Model types whose config.json may omit the FFN size because it is 4 h by definition.
_FOUR_H_TYPES = frozenset({"gpt2", "gptj", "bloom", "gpt_bigcode"} | _FALCON_TYPES)
# transformers' config classes that default tie_word_embeddings to False; every other
# class inherits PretrainedConfig's default of True (OPT, Gemma, Gemma-2, Falcon, GPT-2).
_UNTIED_BY_DEFAULT = frozenset(
    {"llama", "mistral", "mixtral", "qwen2", "granite", "granitemoe", "gptj", "gpt_neox"}
)
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
        Key/value heads ``k`` (``k == a`` multi-head, ``1 < k < a`` GQA, ``k == 1`` MQA).
    head_dim : int
        Per-head dimension ``d`` (usually ``h / a``; Gemma-7B has 256).
    ffn_size : int
        Intermediate size ``f`` of the MLP (of one expert for MoE).
    gated_mlp : bool
        True for SwiGLU/GeGLU MLPs (3 matrices: gate, up, down), False for 2 matrices.
    vocab_size : int
        Vocabulary ``V``; the LM head is ``h x V``.
    tied_embeddings : bool
        Input embedding and LM head share one matrix (the LM head is still streamed
        in full at every forward pass).
    n_experts : int
        Experts per MoE layer ``X`` (1 for a dense model).
    n_experts_active : int
        Experts each token is routed to ``x`` (1 for a dense model).
    weight_bytes : float
        Bytes per weight (2 for bf16/fp16, 1 for fp8/int8).
    kv_bytes : float
        Bytes per cached K or V element.
    source : str
        Where the numbers come from (URL of the config.json, commit or paper).
    hf_id : str
        Hugging Face model id the preset describes, if any.

    Raises
    ------
    ArchitectureError
        If a count is not a positive integer, ``n_heads`` is not a multiple of
        ``n_kv_heads``, ``n_experts_active > n_experts``, a byte width is not a
        positive finite number, or a flag is not a bool.

    Notes
    -----
    Parameter counts cover the linear layers, the router and the embeddings; biases,
    norms and learned positional embeddings are ignored (well under 1 % for the
    presets shipped here).

    Examples
    --------
    >>> arch = Architecture(name="toy", n_layers=2, hidden_size=64, n_heads=4,
    ...                     n_kv_heads=2, head_dim=16, ffn_size=256, gated_mlp=True,
    ...                     vocab_size=1000)
    >>> arch.kv_dim, arch.attn_params_per_layer, arch.kv_bytes_per_token
    (32, 12288, 256.0)
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
        for field_name in ("gated_mlp", "tied_embeddings"):
            value = getattr(self, field_name)
            if not isinstance(value, bool):
                raise ArchitectureError(
                    f"Architecture.{field_name} must be True or False; got {value!r}."
                )
        for field_name in ("weight_bytes", "kv_bytes"):
            value = getattr(self, field_name)
            if (
                isinstance(value, bool)
                or not isinstance(value, numbers.Real)
                or not math.isfinite(float(value))
                or float(value) <= 0
            ):
                raise ArchitectureError(
                    f"Architecture.{field_name} must be a positive number of bytes; "
                    f"got {value!r}. Use 2 for fp16/bf16, 1 for fp8/int8, 4 for fp32."
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
        name : str, optional
            Display name; defaults to ``cfg["_name_or_path"]``, else ``cfg["model_type"]``.
        source : str, optional
            Provenance of the numbers, e.g. the URL of the config.json.
        hf_id : str, optional
            Hugging Face model id the config belongs to.
        weight_bytes : float, optional
            Bytes per weight [B]; defaults to the width of ``torch_dtype`` (``dtype`` in
            transformers 5), 2 when the config names none.
        kv_bytes : float, optional
            Bytes per cached K/V element [B]; defaults like ``weight_bytes``.
        gated_mlp : bool, optional
            Override the gated-MLP flag; required for a ``model_type`` this function does
            not know (see Notes).

        Returns
        -------
        Architecture

        Raises
        ------
        ArchitectureError
            If a required key is missing, a count is not a positive integer, the hidden
            size is not divisible by the heads (and there is no ``head_dim``), the query
            heads are not a multiple of the KV heads, ``experts_active > experts``, the
            dtype is unknown, or the MLP type cannot be told from ``model_type``.

        Notes
        -----
        Keys and aliases (the first present, non-null one wins):

        - layers ``L``: ``num_hidden_layers``, ``n_layer``, ``num_layers``;
          width ``h``: ``hidden_size``, ``d_model``, ``n_embd``;
          query heads ``a``: ``num_attention_heads``, ``n_head``;
          vocabulary ``V``: ``vocab_size``.
        - head dimension ``d``: ``head_dim`` (Gemma-7B: 256 although ``h/a = 192``),
          else ``h / a``.
        - KV heads ``k``: ``num_key_value_heads`` (GQA); ``multi_query: true`` gives 1
          (GPT-BigCode); else ``k = a``. Falcon follows ``FalconConfig``/``FalconAttention``
          in transformers: with ``new_decoder_architecture`` (falcon-40b) ``k`` is
          ``num_kv_heads`` (``n_head_kv`` in the old RefinedWeb configs); otherwise
          ``multi_query`` (default true) gives ``k = 1`` (falcon-7b), whatever
          ``num_kv_heads`` says.
        - FFN size ``f``: ``intermediate_size``, OPT ``ffn_dim``, Falcon ``ffn_hidden_size``,
          GPT-2 ``n_inner``; absent (or null) it is ``4 h`` for Falcon, GPT-2, GPT-J, BLOOM
          and GPT-BigCode, and an error otherwise.
        - gated MLP by ``model_type``: llama, mistral, mixtral, gemma, gemma2, qwen2,
          granite, granitemoe are gated; opt, falcon, gpt2, gptj, gpt_neox, bloom,
          gpt_bigcode are not. Other types need ``gated_mlp=``.
        - tied embeddings: ``tie_word_embeddings`` when present; otherwise the default of
          the model type's transformers config class -- False for llama, mistral,
          mixtral, qwen2, granite, granitemoe, gptj, gpt_neox; True (the
          ``PretrainedConfig`` default) for everything else, including OPT, Gemma,
          Gemma-2 and Falcon, whose config.json files omit the key.
        - MoE: ``num_local_experts`` (or ``num_experts``) and ``num_experts_per_tok``.
          Shared-expert layouts (``moe_intermediate_size`` ...) are rejected.
        - dtype: ``torch_dtype`` bfloat16/float16 -> 2 bytes, float32 -> 4.

        References
        ----------
        Hugging Face transformers configuration classes (``LlamaConfig``, ``OPTConfig``,
        ``FalconConfig``, ``GemmaConfig``, ``MixtralConfig``, ...),
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
        """
        if not isinstance(cfg, Mapping):
            raise ArchitectureError(
                f"from_hf_config expects the config.json contents as a dict; got "
                f"{type(cfg).__name__}. Load it first: cfg = json.load(open('config.json'))."
            )
        model_type = cfg.get("model_type") or ""
        if not isinstance(model_type, str):
            raise ArchitectureError(
                f"config key 'model_type' must be a string; got {model_type!r}."
            )
        model_type = model_type.lower()
        is_falcon = model_type in _FALCON_TYPES

        present = [k for k in _UNSUPPORTED_MOE_KEYS if cfg.get(k) is not None]
        if present:
            raise ArchitectureError(
                f"config has shared-expert MoE keys {present}, which Architecture cannot "
                "represent (one FFN size per expert only). Build Architecture(...) "
                "directly with the routed experts' sizes."
            )

        n_layers = _require_int(cfg, _LAYER_KEYS, "number of layers")
        hidden = _require_int(cfg, _HIDDEN_KEYS, "hidden size")
        n_heads = _require_int(cfg, _HEAD_KEYS, "number of attention heads")
        vocab = _require_int(cfg, _VOCAB_KEYS, "vocabulary size")

        found = _optional_int(cfg, ("head_dim",))
        if found is not None:
            head_dim = found[1]
        else:
            if hidden % n_heads:
                raise ArchitectureError(
                    f"hidden size {hidden} is not divisible by {n_heads} attention heads and "
                    "the config has no 'head_dim'; expected hidden_size % "
                    "num_attention_heads == 0. Add 'head_dim' or fix the two values."
                )
            head_dim = hidden // n_heads

        n_kv_heads, kv_key = _kv_heads(cfg, n_heads, is_falcon, model_type)
        if n_kv_heads > n_heads or n_heads % n_kv_heads:
            raise ArchitectureError(
                f"{n_heads} attention heads are not a multiple of {n_kv_heads} key/value "
                f"heads ({kv_key!r}); grouped-query attention needs num_attention_heads % "
                "n_kv_heads == 0. Fix the value against the model's config.json."
            )

        found = _optional_int(cfg, _FFN_KEYS)
        if found is not None:
            ffn = found[1]
        elif model_type in _FOUR_H_TYPES:
            ffn = 4 * hidden
        else:
            raise ArchitectureError(
                f"config has no FFN size: expected one of {list(_FFN_KEYS)} (model_type "
                f"{model_type or 'missing'!r} has no 4*hidden default). Add "
                "'intermediate_size' from the model's config.json."
            )

        if gated_mlp is None:
            if model_type in _GATED_TYPES:
                gated_mlp = True
            elif model_type in _PLAIN_MLP_TYPES:
                gated_mlp = False
            else:
                raise ArchitectureError(
                    f"cannot tell whether model_type {model_type or 'missing'!r} has a gated "
                    "(SwiGLU/GeGLU, 3-matrix) MLP; expected one of "
                    f"{sorted(_GATED_TYPES | _PLAIN_MLP_TYPES)}. Pass gated_mlp=True or "
                    "gated_mlp=False."
                )
        elif not isinstance(gated_mlp, bool):
            raise ArchitectureError(f"gated_mlp must be True, False or None; got {gated_mlp!r}.")

        tied = cfg.get("tie_word_embeddings")
        if tied is None:
            tied = model_type not in _UNTIED_BY_DEFAULT
        elif not isinstance(tied, bool):
            raise ArchitectureError(
                f"config key 'tie_word_embeddings' must be true or false; got {tied!r}."
            )

        found = _optional_int(cfg, _EXPERT_KEYS)
        n_experts = found[1] if found is not None else 1
        found = _optional_int(cfg, _ACTIVE_EXPERT_KEYS)
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

        dtype_bytes = _dtype_bytes(cfg)
        if not name:
            guess = cfg.get("_name_or_path") or model_type or "custom"
            name = str(guess)
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
            weight_bytes=dtype_bytes if weight_bytes is None else weight_bytes,
            kv_bytes=dtype_bytes if kv_bytes is None else kv_bytes,
            source=source,
            hf_id=hf_id,
        )

    # -- derived shape numbers (used by sweetspot.counts) ------------------------------
    @property
    def q_dim(self) -> int:
        """Width of the query projection output, ``a d``."""
        return self.n_heads * self.head_dim

    @property
    def kv_dim(self) -> int:
        """Width of each of the K and V projections, ``k d``."""
        return self.n_kv_heads * self.head_dim

    @property
    def attn_params_per_layer(self) -> int:
        """Weights of Q, K, V and O projections in one layer: ``h(ad) + 2h(kd) + (ad)h``."""
        h = self.hidden_size
        return h * self.q_dim + 2 * h * self.kv_dim + self.q_dim * h

    @property
    def mlp_params_per_expert(self) -> int:
        """Weights of one MLP (one expert): ``3hf`` gated, ``2hf`` otherwise."""
        return (3 if self.gated_mlp else 2) * self.hidden_size * self.ffn_size

    @property
    def router_params_per_layer(self) -> int:
        """Weights of the MoE router, ``h X`` (0 for a dense model)."""
        return self.hidden_size * self.n_experts if self.n_experts > 1 else 0

    @property
    def active_params_per_token(self) -> int:
        """Linear-layer weights one token multiplies through (excluding the LM head)."""
        return self.n_layers * (
            self.attn_params_per_layer
            + self.n_experts_active * self.mlp_params_per_expert
            + self.router_params_per_layer
        )

    @property
    def lm_head_params(self) -> int:
        """Weights of the LM head, ``h V``."""
        return self.hidden_size * self.vocab_size

    @property
    def n_params(self) -> int:
        """Total parameter count (linear layers, all experts, embeddings; norms and biases
        ignored), close to the advertised size."""
        body = self.n_layers * (
            self.attn_params_per_layer
            + self.n_experts * self.mlp_params_per_expert
            + self.router_params_per_layer
        )
        emb = self.vocab_size * self.hidden_size
        return body + emb + (0 if self.tied_embeddings else self.lm_head_params)

    @property
    def kv_bytes_per_token(self) -> float:
        """KV-cache bytes one token occupies: ``2 L k d b_kv``."""
        return 2.0 * self.n_layers * self.kv_dim * self.kv_bytes


# --- config.json helpers ---------------------------------------------------------------
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

# --- name lookup -----------------------------------------------------------------------
# Fine-tune markers: chat/instruct variants share the base model's architecture.
_VARIANT_TOKENS = frozenset({"hf", "chat", "instruct", "it", "base"})


def _normalise(name: str) -> str:
    """Canonical lookup key: no org prefix, lowercase, '_', '.', ' ' read as '-', and
    fine-tune markers (-hf, -chat, -instruct, -it, -base) dropped wherever they appear
    after the first token; a leading 'meta-' (Meta-Llama-3.1-8B) is dropped too."""
    base = name.strip().rsplit("/", 1)[-1].lower()
    tokens = [t for t in re.split(r"[-_.\s]+", base) if t]
    if len(tokens) > 1 and tokens[0] == "meta":
        tokens = tokens[1:]
    kept = tokens[:1] + [t for t in tokens[1:] if t not in _VARIANT_TOKENS]
    return "-".join(kept)


_LOOKUP: dict[str, str] = {}
for _key, _arch in _PRESETS.items():
    for _alias in (_key, _arch.hf_id):
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
    ['falcon-40b', 'falcon-7b', 'gemma-2-2b']
    """
    return sorted(_PRESETS)


def get_architecture(name: str | Architecture) -> Architecture:
    """Return a preset :class:`Architecture` by name or Hugging Face id.

    Parameters
    ----------
    name : str or Architecture
        A preset name (``"llama-2-7b"``) or Hugging Face id with or without the org
        (``"meta-llama/Llama-2-7b-chat-hf"``, ``"Mixtral-8x7B-v0.1"``). Matching is
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
