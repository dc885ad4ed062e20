"""Toy architectures shared by the tests, built directly with the constructor (shapes follow
the public config.json files of the models they are named after)."""

from __future__ import annotations

from sweetspot import Architecture

LLAMA2_7B = Architecture(
    name="Llama-2-7B-like",
    n_layers=32,
    hidden_size=4096,
    n_heads=32,
    n_kv_heads=32,
    head_dim=128,
    ffn_size=11008,
    gated_mlp=True,
    vocab_size=32000,
)
LLAMA2_70B = Architecture(
    name="Llama-2-70B-like",
    n_layers=80,
    hidden_size=8192,
    n_heads=64,
    n_kv_heads=8,
    head_dim=128,
    ffn_size=28672,
    gated_mlp=True,
    vocab_size=32000,
)
FALCON_7B = Architecture(
    name="Falcon-7B-like",
    n_layers=32,
    hidden_size=4544,
    n_heads=71,
    n_kv_heads=1,
    head_dim=64,
    ffn_size=4 * 4544,
    gated_mlp=False,
    vocab_size=65024,
    tied_embeddings=True,
)
MIXTRAL = Architecture(
    name="Mixtral-8x7B-like",
    n_layers=32,
    hidden_size=4096,
    n_heads=32,
    n_kv_heads=8,
    head_dim=128,
    ffn_size=14336,
    gated_mlp=True,
    vocab_size=32000,
    n_experts=8,
    n_experts_active=2,
)
GEMMA_7B = Architecture(
    name="Gemma-7B-like",
    n_layers=28,
    hidden_size=3072,
    n_heads=16,
    n_kv_heads=16,
    head_dim=256,
    ffn_size=24576,
    gated_mlp=True,
    vocab_size=256000,
    tied_embeddings=True,
)
TINY_FP8 = Architecture(
    name="tiny-fp8",
    n_layers=3,
    hidden_size=96,
    n_heads=6,
    n_kv_heads=2,
    head_dim=16,
    ffn_size=256,
    gated_mlp=False,
    vocab_size=500,
    weight_bytes=1.0,
    kv_bytes=1.0,
)
# Many experts, one per token: prefill touches every expert only once n_in * B >= 64.
WIDE_MOE = Architecture(
    name="wide-MoE",
    n_layers=4,
    hidden_size=128,
    n_heads=4,
    n_kv_heads=2,
    head_dim=32,
    ffn_size=64,
    gated_mlp=True,
    vocab_size=1000,
    n_experts=64,
    n_experts_active=1,
)
MISTRAL_7B = Architecture(
    name="Mistral-7B-like",
    n_layers=32,
    hidden_size=4096,
    n_heads=32,
    n_kv_heads=8,
    head_dim=128,
    ffn_size=14336,
    gated_mlp=True,
    vocab_size=32000,
)
