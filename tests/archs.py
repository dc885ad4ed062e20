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

# --- per-layer structure (windows, chunks, MLA, mixed dense/MoE layers, narrow experts) ---
# Windows and chunks are a few tokens wide so that the brute-force lengths cross them.

# Gemma-2-like: sliding and full layers alternate, starting with a sliding one.
ALTERNATING_SWA = Architecture(
    name="alternating-SWA",
    n_layers=4,
    hidden_size=64,
    n_heads=4,
    n_kv_heads=2,
    head_dim=16,
    ffn_size=96,
    gated_mlp=True,
    vocab_size=300,
    tied_embeddings=True,
    layer_types=("sliding", "full", "sliding", "full"),
    sliding_window=5,
)
# Mistral-7B-v0.1-like: every layer slides (layer_types left empty).
ALL_SWA = Architecture(
    name="all-SWA",
    n_layers=3,
    hidden_size=48,
    n_heads=4,
    n_kv_heads=1,
    head_dim=12,
    ffn_size=80,
    gated_mlp=True,
    vocab_size=200,
    sliding_window=6,
)
# Llama-4-like: chunked attention on three layers of four, dense and MoE layers
# alternating, a shared expert in every MoE layer, one routed expert per token.
CHUNKED_MOE = Architecture(
    name="chunked-MoE",
    n_layers=4,
    hidden_size=64,
    n_heads=4,
    n_kv_heads=2,
    head_dim=16,
    ffn_size=32,
    gated_mlp=True,
    vocab_size=300,
    n_experts=8,
    n_experts_active=1,
    layer_types=("chunked", "chunked", "chunked", "full"),
    attention_chunk=4,
    mlp_layer_types=("dense", "moe", "dense", "moe"),
    dense_ffn_size=128,
    shared_ffn_size=32,
)
# gpt-oss-like: alternating windows, every layer MoE, routed experts in MXFP4.
MXFP4_MOE = Architecture(
    name="MXFP4-MoE",
    n_layers=4,
    hidden_size=64,
    n_heads=8,
    n_kv_heads=2,
    head_dim=8,
    ffn_size=64,
    gated_mlp=True,
    vocab_size=300,
    n_experts=4,
    n_experts_active=2,
    layer_types=("sliding", "full", "sliding", "full"),
    sliding_window=4,
    expert_weight_bytes=0.53125,
)
# DeepSeek-V3-like: MLA with a query LoRA, a dense first layer, routed + shared experts.
MLA_MOE = Architecture(
    name="MLA-MoE",
    n_layers=3,
    hidden_size=64,
    n_heads=4,
    n_kv_heads=4,
    head_dim=24,
    v_head_dim=16,
    kv_lora_rank=12,
    q_lora_rank=20,
    qk_rope_head_dim=8,
    ffn_size=16,
    gated_mlp=True,
    vocab_size=300,
    n_experts=6,
    n_experts_active=2,
    mlp_layer_types=("dense", "moe", "moe"),
    dense_ffn_size=96,
    shared_ffn_size=16,
    weight_bytes=1.0,
)
# DeepSeek-V2-Lite-like: MLA with a plain q_proj, dense, one-byte KV cache.
MLA_DENSE = Architecture(
    name="MLA-dense",
    n_layers=2,
    hidden_size=48,
    n_heads=3,
    n_kv_heads=3,
    head_dim=12,
    kv_lora_rank=8,
    qk_rope_head_dim=4,
    ffn_size=64,
    gated_mlp=False,
    vocab_size=150,
    kv_bytes=1.0,
)
