"""Tests for sweetspot.architecture: from_hf_config aliases and errors, presets, lookup."""

from __future__ import annotations

import dataclasses
import doctest
import re
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import sweetspot.architecture as architecture_module
from sweetspot.architecture import Architecture, get_architecture, list_architectures
from sweetspot.exceptions import ArchitectureError, SweetspotError


def llama_cfg(**overrides: Any) -> dict[str, Any]:
    """A small valid Llama-style config.json dict."""
    cfg: dict[str, Any] = {
        "model_type": "llama",
        "num_hidden_layers": 4,
        "hidden_size": 256,
        "num_attention_heads": 8,
        "num_key_value_heads": 2,
        "intermediate_size": 688,
        "vocab_size": 1000,
    }
    cfg.update(overrides)
    return cfg


def arch_kwargs(**overrides: Any) -> dict[str, Any]:
    kwargs: dict[str, Any] = {
        "name": "toy",
        "n_layers": 2,
        "hidden_size": 64,
        "n_heads": 4,
        "n_kv_heads": 2,
        "head_dim": 16,
        "ffn_size": 256,
        "gated_mlp": True,
        "vocab_size": 100,
    }
    kwargs.update(overrides)
    return kwargs


# --- from_hf_config: aliases ------------------------------------------------------------
def test_gqa_llama_config() -> None:
    arch = Architecture.from_hf_config(llama_cfg(), name="tiny")
    assert (arch.n_layers, arch.hidden_size, arch.n_heads, arch.n_kv_heads) == (4, 256, 8, 2)
    assert arch.head_dim == 32
    assert arch.ffn_size == 688
    assert arch.gated_mlp is True
    assert arch.tied_embeddings is False  # LlamaConfig default
    assert (arch.n_experts, arch.n_experts_active) == (1, 1)
    assert arch.weight_bytes == 2.0 and arch.kv_bytes == 2.0
    assert arch.name == "tiny"


def test_missing_kv_heads_means_multi_head() -> None:
    cfg = llama_cfg()
    del cfg["num_key_value_heads"]
    assert Architecture.from_hf_config(cfg).n_kv_heads == 8


def test_opt_ffn_dim_alias_and_tied_default() -> None:
    cfg = {
        "model_type": "opt",
        "num_hidden_layers": 24,
        "hidden_size": 2048,
        "num_attention_heads": 32,
        "ffn_dim": 8192,
        "vocab_size": 50272,
    }
    arch = Architecture.from_hf_config(cfg)
    assert arch.ffn_size == 8192
    assert arch.gated_mlp is False
    assert arch.tied_embeddings is True  # OPT configs omit the key; OPTConfig ties
    assert arch.n_kv_heads == 32
    assert arch.head_dim == 64


def falcon_7b_cfg() -> dict[str, Any]:
    return {
        "model_type": "falcon",
        "num_hidden_layers": 32,
        "hidden_size": 4544,
        "num_attention_heads": 71,
        "num_kv_heads": 71,
        "multi_query": True,
        "new_decoder_architecture": False,
        "vocab_size": 65024,
    }


def test_falcon_multi_query_overrides_num_kv_heads() -> None:
    arch = Architecture.from_hf_config(falcon_7b_cfg())
    assert arch.n_kv_heads == 1
    assert arch.head_dim == 64
    assert arch.ffn_size == 4 * 4544  # Falcon has no FFN key
    assert arch.gated_mlp is False
    assert arch.tied_embeddings is True


def test_falcon_multi_query_is_the_default() -> None:
    cfg = falcon_7b_cfg()
    del cfg["multi_query"], cfg["num_kv_heads"], cfg["new_decoder_architecture"]
    assert Architecture.from_hf_config(cfg).n_kv_heads == 1


def test_falcon_without_multi_query_is_multi_head() -> None:
    cfg = falcon_7b_cfg() | {"multi_query": False}
    assert Architecture.from_hf_config(cfg).n_kv_heads == 71


def test_falcon_new_decoder_architecture_uses_num_kv_heads() -> None:
    cfg = {
        "model_type": "falcon",
        "num_hidden_layers": 60,
        "hidden_size": 8192,
        "num_attention_heads": 128,
        "num_kv_heads": 8,
        "new_decoder_architecture": True,
        "vocab_size": 65024,
    }
    arch = Architecture.from_hf_config(cfg)
    assert (arch.n_kv_heads, arch.head_dim, arch.ffn_size) == (8, 64, 32768)


def test_falcon_new_decoder_architecture_without_kv_key_defaults_to_heads() -> None:
    cfg = {
        "model_type": "falcon",
        "num_hidden_layers": 2,
        "hidden_size": 128,
        "num_attention_heads": 16,
        "new_decoder_architecture": True,
        "vocab_size": 100,
    }
    assert Architecture.from_hf_config(cfg).n_kv_heads == 16


def test_falcon_refinedweb_remote_code_config() -> None:
    # Old falcon-40b config (RWConfig): n_head / n_layer / n_head_kv, model_type RefinedWeb.
    cfg = {
        "model_type": "RefinedWeb",
        "n_layer": 60,
        "hidden_size": 8192,
        "n_head": 128,
        "n_head_kv": 8,
        "vocab_size": 65024,
    }
    arch = Architecture.from_hf_config(cfg)
    assert (arch.n_layers, arch.n_heads, arch.n_kv_heads) == (60, 128, 8)
    rw_7b = {
        "model_type": "RefinedWebModel",
        "n_layer": 32,
        "hidden_size": 4544,
        "n_head": 71,
        "multi_query": True,
        "vocab_size": 65024,
    }
    assert Architecture.from_hf_config(rw_7b).n_kv_heads == 1


def test_falcon_ffn_hidden_size_alias() -> None:
    cfg = falcon_7b_cfg() | {"ffn_hidden_size": 10000}
    assert Architecture.from_hf_config(cfg).ffn_size == 10000


def test_gemma_head_dim_differs_from_h_over_a() -> None:
    cfg = {
        "model_type": "gemma",
        "num_hidden_layers": 28,
        "hidden_size": 3072,
        "num_attention_heads": 16,
        "num_key_value_heads": 16,
        "head_dim": 256,
        "intermediate_size": 24576,
        "vocab_size": 256000,
    }
    arch = Architecture.from_hf_config(cfg)
    assert arch.head_dim == 256 != 3072 // 16
    assert arch.q_dim == 4096
    assert arch.gated_mlp is True
    assert arch.tied_embeddings is True  # GemmaConfig ties


def test_null_head_dim_falls_back_to_h_over_a() -> None:
    assert Architecture.from_hf_config(llama_cfg(head_dim=None)).head_dim == 32


def test_mixtral_experts() -> None:
    cfg = llama_cfg(model_type="mixtral", num_local_experts=8, num_experts_per_tok=2)
    arch = Architecture.from_hf_config(cfg)
    assert (arch.n_experts, arch.n_experts_active) == (8, 2)
    assert arch.router_params_per_layer == 256 * 8
    dense = Architecture.from_hf_config(llama_cfg())
    moe_minus_dense = arch.n_params - dense.n_params
    assert moe_minus_dense == 4 * (7 * dense.mlp_params_per_expert + 256 * 8)


def test_num_experts_aliases() -> None:
    cfg = llama_cfg(model_type="mixtral", num_experts=4, num_experts_per_token=1)
    arch = Architecture.from_hf_config(cfg)
    assert (arch.n_experts, arch.n_experts_active) == (4, 1)


def test_gpt2_style_aliases_and_four_h_default() -> None:
    cfg = {"model_type": "gpt2", "n_layer": 12, "n_embd": 768, "n_head": 12, "n_inner": None}
    cfg["vocab_size"] = 50257
    arch = Architecture.from_hf_config(cfg)
    assert (arch.n_layers, arch.hidden_size, arch.n_heads, arch.ffn_size) == (12, 768, 12, 3072)
    assert arch.gated_mlp is False and arch.tied_embeddings is True


def test_d_model_num_layers_aliases_with_gated_override() -> None:
    cfg = {
        "model_type": "something_new",
        "num_layers": 3,
        "d_model": 128,
        "num_attention_heads": 4,
        "intermediate_size": 512,
        "vocab_size": 10,
    }
    arch = Architecture.from_hf_config(cfg, gated_mlp=True)
    assert (arch.n_layers, arch.hidden_size, arch.gated_mlp) == (3, 128, True)


def test_generic_multi_query_flag() -> None:
    cfg = {
        "model_type": "gpt_bigcode",
        "n_layer": 2,
        "n_embd": 64,
        "n_head": 4,
        "multi_query": True,
        "vocab_size": 10,
    }
    assert Architecture.from_hf_config(cfg).n_kv_heads == 1


@pytest.mark.parametrize(
    ("model_type", "tied"),
    [("llama", False), ("mistral", False), ("qwen2", False), ("opt", True), ("gemma2", True)],
)
def test_tie_default_follows_model_type(model_type: str, tied: bool) -> None:
    cfg = llama_cfg(model_type=model_type)
    assert Architecture.from_hf_config(cfg).tied_embeddings is tied


def test_explicit_tie_word_embeddings_wins() -> None:
    assert Architecture.from_hf_config(llama_cfg(tie_word_embeddings=True)).tied_embeddings
    cfg = llama_cfg(model_type="gemma", tie_word_embeddings=False)
    assert not Architecture.from_hf_config(cfg).tied_embeddings


@pytest.mark.parametrize(
    ("key", "dtype", "nbytes"),
    [
        ("torch_dtype", "bfloat16", 2.0),
        ("torch_dtype", "float16", 2.0),
        ("torch_dtype", "float32", 4.0),
        ("torch_dtype", "torch.float16", 2.0),
        ("dtype", "float32", 4.0),
    ],
)
def test_dtype_sets_weight_and_kv_bytes(key: str, dtype: str, nbytes: float) -> None:
    arch = Architecture.from_hf_config(llama_cfg(**{key: dtype}))
    assert arch.weight_bytes == nbytes and arch.kv_bytes == nbytes


def test_explicit_bytes_override_dtype() -> None:
    cfg = llama_cfg(torch_dtype="float32")
    arch = Architecture.from_hf_config(cfg, weight_bytes=1, kv_bytes=2)
    assert (arch.weight_bytes, arch.kv_bytes) == (1.0, 2.0)


def test_name_source_hf_id_and_default_name() -> None:
    cfg = llama_cfg(_name_or_path="org/my-model")
    assert Architecture.from_hf_config(cfg).name == "org/my-model"
    assert Architecture.from_hf_config(llama_cfg()).name == "llama"
    arch = Architecture.from_hf_config(llama_cfg(), source="https://x", hf_id="org/m")
    assert (arch.source, arch.hf_id) == ("https://x", "org/m")


def test_integral_floats_are_accepted() -> None:
    arch = Architecture.from_hf_config(llama_cfg(num_hidden_layers=4.0))
    assert arch.n_layers == 4 and isinstance(arch.n_layers, int)


# --- from_hf_config: errors -------------------------------------------------------------
def test_not_a_mapping() -> None:
    with pytest.raises(ArchitectureError, match=r"expects the config\.json contents as a dict"):
        Architecture.from_hf_config([("hidden_size", 4)])  # type: ignore[arg-type]


def test_model_type_not_a_string() -> None:
    with pytest.raises(ArchitectureError, match="'model_type' must be a string"):
        Architecture.from_hf_config(llama_cfg(model_type=3))


@pytest.mark.parametrize(
    ("key", "what"),
    [
        ("num_hidden_layers", "number of layers"),
        ("hidden_size", "hidden size"),
        ("num_attention_heads", "number of attention heads"),
        ("vocab_size", "vocabulary size"),
    ],
)
def test_missing_required_key(key: str, what: str) -> None:
    cfg = llama_cfg()
    del cfg[key]
    with pytest.raises(ArchitectureError, match=f"config has no {what}: expected one of.*{key}"):
        Architecture.from_hf_config(cfg)


@pytest.mark.parametrize("bad", [0, -4, 3.5, "32", True])
def test_bad_count_value(bad: Any) -> None:
    with pytest.raises(
        ArchitectureError, match=r"'num_hidden_layers' must be a positive integer; got"
    ):
        Architecture.from_hf_config(llama_cfg(num_hidden_layers=bad))


def test_bad_head_dim_value() -> None:
    with pytest.raises(ArchitectureError, match="'head_dim' must be a positive integer; got 0"):
        Architecture.from_hf_config(llama_cfg(head_dim=0))


def test_heads_do_not_divide_hidden() -> None:
    with pytest.raises(
        ArchitectureError, match="hidden size 250 is not divisible by 8 attention heads"
    ):
        Architecture.from_hf_config(llama_cfg(hidden_size=250))


def test_kv_heads_do_not_divide_heads() -> None:
    with pytest.raises(
        ArchitectureError,
        match=r"8 attention heads are not a multiple of 3 key/value heads "
        r"\('num_key_value_heads'\)",
    ):
        Architecture.from_hf_config(llama_cfg(num_key_value_heads=3))


def test_more_kv_heads_than_heads() -> None:
    with pytest.raises(ArchitectureError, match="not a multiple of 16 key/value heads"):
        Architecture.from_hf_config(llama_cfg(num_key_value_heads=16))


def test_experts_active_exceeds_experts() -> None:
    cfg = llama_cfg(model_type="mixtral", num_local_experts=2, num_experts_per_tok=3)
    with pytest.raises(ArchitectureError, match=r"experts per token \(3\) exceeds"):
        Architecture.from_hf_config(cfg)


def test_active_experts_without_experts() -> None:
    with pytest.raises(ArchitectureError, match=r"experts per token \(2\) exceeds.*\(1\)"):
        Architecture.from_hf_config(llama_cfg(num_experts_per_tok=2))


def test_experts_without_active_count() -> None:
    cfg = llama_cfg(model_type="mixtral", num_local_experts=8)
    with pytest.raises(ArchitectureError, match="no number of experts per token"):
        Architecture.from_hf_config(cfg)


def test_shared_expert_moe_is_rejected() -> None:
    cfg = llama_cfg(num_experts=8, num_experts_per_tok=2, moe_intermediate_size=64)
    with pytest.raises(ArchitectureError, match="shared-expert MoE keys"):
        Architecture.from_hf_config(cfg)


def test_missing_ffn_size_for_gated_model() -> None:
    cfg = llama_cfg()
    del cfg["intermediate_size"]
    with pytest.raises(ArchitectureError, match="config has no FFN size"):
        Architecture.from_hf_config(cfg)


@pytest.mark.parametrize("model_type", ["brand_new", None])
def test_unknown_model_type_needs_gated_flag(model_type: str | None) -> None:
    cfg = llama_cfg(model_type=model_type)
    with pytest.raises(ArchitectureError, match="Pass gated_mlp=True or gated_mlp=False"):
        Architecture.from_hf_config(cfg)


def test_gated_override_must_be_bool() -> None:
    with pytest.raises(ArchitectureError, match="gated_mlp must be True, False or None"):
        Architecture.from_hf_config(llama_cfg(), gated_mlp=1)  # type: ignore[arg-type]


def test_tie_word_embeddings_must_be_bool() -> None:
    with pytest.raises(ArchitectureError, match="'tie_word_embeddings' must be true or false"):
        Architecture.from_hf_config(llama_cfg(tie_word_embeddings="yes"))


def test_multi_query_must_be_bool() -> None:
    with pytest.raises(ArchitectureError, match="'multi_query' must be true or false"):
        Architecture.from_hf_config(falcon_7b_cfg() | {"multi_query": 1})


def test_unknown_dtype() -> None:
    with pytest.raises(ArchitectureError, match=r"unknown dtype 'float12'.*weight_bytes="):
        Architecture.from_hf_config(llama_cfg(torch_dtype="float12"))


def test_bad_explicit_weight_bytes() -> None:
    with pytest.raises(ArchitectureError, match="weight_bytes must be a positive number"):
        Architecture.from_hf_config(llama_cfg(), weight_bytes=0)


# --- __post_init__ validation -------------------------------------------------------------
@pytest.mark.parametrize("field", architecture_module._INT_FIELDS)
@pytest.mark.parametrize("bad", [0, -1, 2.5, True, "8"])
def test_post_init_rejects_bad_counts(field: str, bad: Any) -> None:
    with pytest.raises(ArchitectureError, match=f"Architecture.{field} must be a positive integer"):
        Architecture(**arch_kwargs(**{field: bad}))


def test_post_init_accepts_numpy_integers() -> None:
    arch = Architecture(**arch_kwargs(n_layers=np.int64(3), weight_bytes=np.float32(1)))
    assert arch.n_layers == 3 and type(arch.n_layers) is int
    assert arch.weight_bytes == 1.0 and type(arch.weight_bytes) is float


def test_post_init_heads_multiple_of_kv_heads() -> None:
    with pytest.raises(ArchitectureError, match=r"n_heads \(4\) must be a multiple of n_kv_heads"):
        Architecture(**arch_kwargs(n_kv_heads=3))


def test_post_init_active_experts() -> None:
    with pytest.raises(ArchitectureError, match=r"n_experts_active \(3\) cannot exceed n_experts"):
        Architecture(**arch_kwargs(n_experts=2, n_experts_active=3))


@pytest.mark.parametrize("field", ["weight_bytes", "kv_bytes"])
@pytest.mark.parametrize("bad", [0, -2.0, float("nan"), float("inf"), True, "2"])
def test_post_init_rejects_bad_bytes(field: str, bad: Any) -> None:
    with pytest.raises(ArchitectureError, match=f"Architecture.{field} must be a positive number"):
        Architecture(**arch_kwargs(**{field: bad}))


@pytest.mark.parametrize("field", ["gated_mlp", "tied_embeddings"])
def test_post_init_rejects_non_bool_flags(field: str) -> None:
    with pytest.raises(ArchitectureError, match=f"Architecture.{field} must be True or False"):
        Architecture(**arch_kwargs(**{field: 1}))


@pytest.mark.parametrize("field", ["name", "source", "hf_id"])
def test_post_init_rejects_non_string_text(field: str) -> None:
    with pytest.raises(ArchitectureError, match=f"Architecture.{field} must be a string"):
        Architecture(**arch_kwargs(**{field: None}))


def test_architecture_error_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        Architecture(**arch_kwargs(n_layers=0))
    assert issubclass(ArchitectureError, SweetspotError)


def test_frozen_slots_hashable() -> None:
    arch = Architecture(**arch_kwargs())
    with pytest.raises(dataclasses.FrozenInstanceError):
        arch.n_layers = 3  # type: ignore[misc]
    assert not hasattr(arch, "__dict__")
    assert arch == Architecture(**arch_kwargs())
    assert len({arch, Architecture(**arch_kwargs())}) == 1


def test_derived_numbers() -> None:
    arch = Architecture(**arch_kwargs())
    h, a_d, k_d = 64, 64, 32
    assert arch.attn_params_per_layer == h * a_d + 2 * h * k_d + a_d * h
    assert arch.mlp_params_per_expert == 3 * 64 * 256
    assert arch.n_params == 2 * (arch.attn_params_per_layer + arch.mlp_params_per_expert) + (
        2 * 100 * 64
    )
    assert arch.kv_bytes_per_token == 2 * 2 * 32 * 2.0


# --- round trip (property) ------------------------------------------------------------------
@st.composite
def architectures(draw: st.DrawFn) -> Architecture:
    n_kv = draw(st.integers(1, 8))
    group = draw(st.integers(1, 8))
    n_experts = draw(st.integers(1, 8))
    return Architecture(
        name="prop",
        n_layers=draw(st.integers(1, 100)),
        hidden_size=draw(st.integers(1, 10_000)),
        n_heads=n_kv * group,
        n_kv_heads=n_kv,
        head_dim=draw(st.integers(1, 256)),
        ffn_size=draw(st.integers(1, 50_000)),
        gated_mlp=draw(st.booleans()),
        vocab_size=draw(st.integers(1, 300_000)),
        tied_embeddings=draw(st.booleans()),
        n_experts=n_experts,
        n_experts_active=draw(st.integers(1, n_experts)),
    )


@given(architectures())
def test_from_hf_config_round_trips(arch: Architecture) -> None:
    cfg: dict[str, Any] = {
        "model_type": "mixtral" if arch.gated_mlp else "opt",
        "num_hidden_layers": arch.n_layers,
        "hidden_size": arch.hidden_size,
        "num_attention_heads": arch.n_heads,
        "num_key_value_heads": arch.n_kv_heads,
        "head_dim": arch.head_dim,
        "intermediate_size": arch.ffn_size,
        "vocab_size": arch.vocab_size,
        "tie_word_embeddings": arch.tied_embeddings,
        "num_local_experts": arch.n_experts,
        "num_experts_per_tok": arch.n_experts_active,
    }
    assert Architecture.from_hf_config(cfg, name="prop") == arch


# --- presets ----------------------------------------------------------------------------------
REQUIRED_PRESETS = [
    "opt-1.3b",
    "opt-2.7b",
    "opt-6.7b",
    "llama-3.2-1b",
    "llama-3.2-3b",
    "llama-3.1-8b",
    "llama-2-7b",
    "llama-2-13b",
    "llama-2-70b",
    "gemma-2b",
    "gemma-7b",
    "gemma-2-2b",
    "gemma-2-9b",
    "falcon-7b",
    "falcon-40b",
    "qwen2-0.5b",
    "qwen2-1.5b",
    "qwen2-7b",
    "granite-3.0-2b",
    "granite-3.0-8b",
    "mistral-7b-v0.1",
    "mixtral-8x7b-v0.1",
]


def test_list_architectures_sorted_and_complete() -> None:
    names = list_architectures()
    assert names == sorted(names)
    assert set(REQUIRED_PRESETS) <= set(names)
    names.append("mutating the copy must not matter")
    assert "mutating the copy must not matter" not in list_architectures()


@pytest.mark.parametrize("key", list_architectures())
def test_preset_is_valid_and_sourced(key: str) -> None:
    arch = get_architecture(key)
    assert arch.name.lower() == key
    assert re.fullmatch(r"[\w.-]+/[\w.-]+", arch.hf_id)
    assert arch.source == f"https://huggingface.co/{arch.hf_id}/blob/main/config.json"
    assert dataclasses.replace(arch) == arch  # passes __post_init__ again
    assert (arch.weight_bytes, arch.kv_bytes) == (2.0, 2.0)
    assert get_architecture(arch.hf_id) is arch
    assert get_architecture(arch.name) is arch
    assert get_architecture(arch.name.upper()) is arch


# (L, h, a, k, d, f, V, tied, experts, active) as published in each config.json
PUBLISHED = {
    "llama-2-7b": (32, 4096, 32, 32, 128, 11008, 32000, False, 1, 1),
    "llama-2-13b": (40, 5120, 40, 40, 128, 13824, 32000, False, 1, 1),
    "llama-2-70b": (80, 8192, 64, 8, 128, 28672, 32000, False, 1, 1),
    "mistral-7b-v0.1": (32, 4096, 32, 8, 128, 14336, 32000, False, 1, 1),
    "mixtral-8x7b-v0.1": (32, 4096, 32, 8, 128, 14336, 32000, False, 8, 2),
    "falcon-7b": (32, 4544, 71, 1, 64, 18176, 65024, True, 1, 1),
    "falcon-40b": (60, 8192, 128, 8, 64, 32768, 65024, True, 1, 1),
    "gemma-7b": (28, 3072, 16, 16, 256, 24576, 256000, True, 1, 1),
    "gemma-2b": (18, 2048, 8, 1, 256, 16384, 256000, True, 1, 1),
    "llama-3.1-8b": (32, 4096, 32, 8, 128, 14336, 128256, False, 1, 1),
    "llama-3.2-1b": (16, 2048, 32, 8, 64, 8192, 128256, True, 1, 1),
    "llama-3.2-3b": (28, 3072, 24, 8, 128, 8192, 128256, True, 1, 1),
    "opt-1.3b": (24, 2048, 32, 32, 64, 8192, 50272, True, 1, 1),
    "qwen2-7b": (28, 3584, 28, 4, 128, 18944, 152064, False, 1, 1),
    "granite-3.0-8b": (40, 4096, 32, 8, 128, 12800, 49155, True, 1, 1),
}


@pytest.mark.parametrize(("key", "expected"), PUBLISHED.items())
def test_preset_matches_published_config(key: str, expected: tuple[Any, ...]) -> None:
    a = get_architecture(key)
    got = (
        a.n_layers,
        a.hidden_size,
        a.n_heads,
        a.n_kv_heads,
        a.head_dim,
        a.ffn_size,
        a.vocab_size,
        a.tied_embeddings,
        a.n_experts,
        a.n_experts_active,
    )
    assert got == expected


# Commonly quoted parameter counts (Hugging Face model pages; Mixtral: 46.7B total in
# Mistral AI's release). Our count ignores biases and norms, which are < 0.1 % for these
# bias-free models, so 3 % is a loose bound that still catches a wrong FFN size, a missing
# KV-head reduction or an untied head counted twice.
PUBLISHED_PARAMS = {
    "llama-2-7b": 6.74e9,
    "llama-2-13b": 13.0e9,
    "llama-2-70b": 69.0e9,
    "llama-3.1-8b": 8.03e9,
    "mistral-7b-v0.1": 7.24e9,
    "mixtral-8x7b-v0.1": 46.7e9,
    "gemma-7b": 8.54e9,
    "qwen2-7b": 7.62e9,
}


@pytest.mark.parametrize(("key", "n_params"), PUBLISHED_PARAMS.items())
def test_preset_parameter_count_close_to_published(key: str, n_params: float) -> None:
    assert get_architecture(key).n_params == pytest.approx(n_params, rel=0.03)


DENSE_PRESETS = [k for k in list_architectures() if get_architecture(k).n_experts == 1]


@pytest.mark.parametrize("key", DENSE_PRESETS)
def test_preset_parameter_count_near_nominal_size(key: str) -> None:
    # The size in the name is rounded and often leaves out the embeddings (Gemma-7B has
    # 8.5B, Gemma-2-2B 2.6B, Llama-3.2-1B 1.24B), and OPT/Falcon biases are not counted:
    # 35 % still flags a grossly wrong shape (a factor of two in a width or layer count).
    match = re.search(r"(\d+(?:\.\d+)?)b", key)
    assert match is not None
    nominal = float(match.group(1)) * 1e9
    assert get_architecture(key).n_params == pytest.approx(nominal, rel=0.35)


def test_mixtral_active_parameters() -> None:
    # Mistral AI: 12.9B active parameters per token (LM head and embedding included).
    arch = get_architecture("mixtral-8x7b-v0.1")
    active = arch.active_params_per_token + arch.lm_head_params + arch.hidden_size * arch.vocab_size
    assert active == pytest.approx(12.9e9, rel=0.03)


# --- name lookup -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("query", "key"),
    [
        ("llama-2-7b", "llama-2-7b"),
        ("meta-llama/Llama-2-7b-chat-hf", "llama-2-7b"),
        ("Llama-2-7b-hf", "llama-2-7b"),
        ("LLAMA_2_7B", "llama-2-7b"),
        ("  llama-2-70b-chat  ", "llama-2-70b"),
        ("mistralai/Mistral-7B-v0.1", "mistral-7b-v0.1"),
        ("mistralai/Mistral-7B-Instruct-v0.1", "mistral-7b-v0.1"),
        ("tiiuae/falcon-7b", "falcon-7b"),
        ("tiiuae/falcon-7b-instruct", "falcon-7b"),
        ("falcon-40b", "falcon-40b"),
        ("Mixtral-8x7B-v0.1", "mixtral-8x7b-v0.1"),
        ("mistralai/Mixtral-8x7B-Instruct-v0.1", "mixtral-8x7b-v0.1"),
        ("google/gemma-7b-it", "gemma-7b"),
        ("google/gemma-2-9b-it", "gemma-2-9b"),
        ("Qwen/Qwen2-7B-Instruct", "qwen2-7b"),
        ("qwen2_0.5b", "qwen2-0.5b"),
        ("ibm-granite/granite-3.0-2b-base", "granite-3.0-2b"),
        ("ibm-granite/granite-3.0-8b-instruct", "granite-3.0-8b"),
        ("meta-llama/Meta-Llama-3.1-8B-Instruct", "llama-3.1-8b"),
        ("Llama_3.2_1B", "llama-3.2-1b"),
        ("facebook/opt-6.7b", "opt-6.7b"),
    ],
)
def test_name_normalisation(query: str, key: str) -> None:
    assert get_architecture(query) is get_architecture(key)
    assert get_architecture(query).name.lower() == key


def test_architecture_instance_passes_through() -> None:
    arch = Architecture(**arch_kwargs())
    assert get_architecture(arch) is arch


def test_unknown_name_suggests_close_matches() -> None:
    with pytest.raises(ArchitectureError, match="Did you mean 'llama-2-7b'") as info:
        get_architecture("meta-llama/Llama-2-8b-hf")
    message = str(info.value)
    assert "list_architectures()" in message
    assert "Architecture.from_hf_config" in message


def test_unknown_name_without_close_matches() -> None:
    with pytest.raises(ArchitectureError, match="unknown architecture 'zzz'") as info:
        get_architecture("zzz")
    assert "Did you mean" not in str(info.value)


def test_non_string_name() -> None:
    with pytest.raises(ArchitectureError, match="expects a preset name or Hugging Face id"):
        get_architecture(7)  # type: ignore[arg-type]


def test_presets_have_distinct_lookup_keys() -> None:
    keys = [architecture_module._normalise(k) for k in list_architectures()]
    assert len(keys) == len(set(keys))


def test_module_doctests() -> None:
    result = doctest.testmod(architecture_module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0
    assert result.failed == 0
