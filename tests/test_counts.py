"""Tests of sweetspot.counts against a brute-force reference that loops over every step.

The reference below is written independently of the closed forms: it walks the forward
passes of a request, the tokens of each pass, the layers of each token and (for
attention) the keys each query attends to, adding up FLOPs and bytes one piece at a time.
"""

from __future__ import annotations

import dataclasses
import json
import math
from functools import cache
from pathlib import Path

import numpy as np
import pytest
from archs import (
    ALL_SWA,
    ALTERNATING_SWA,
    CHUNKED_MOE,
    FALCON_7B,
    GEMMA_7B,
    LLAMA2_7B,
    LLAMA2_70B,
    MIXTRAL,
    MLA_DENSE,
    MLA_MOE,
    MXFP4_MOE,
    TINY_FP8,
    WIDE_MOE,
)
from hypothesis import given, settings
from hypothesis import strategies as st

from sweetspot.architecture import Architecture
from sweetspot.counts import (
    Counts,
    count_terms,
    flops,
    memory_bytes,
    quadratic_coefficients,
    roofline_time,
)
from sweetspot.exceptions import SpecError

# Exact quadratics with the cache (no window or chunk).
ARCHS = [LLAMA2_7B, LLAMA2_70B, FALCON_7B, MIXTRAL, GEMMA_7B, TINY_FP8, MLA_MOE, MLA_DENSE]
# Every one keeps at least one full-attention layer (cubic without the cache).
ALL_ARCHS = [*ARCHS, WIDE_MOE, ALTERNATING_SWA, CHUNKED_MOE, MXFP4_MOE]
BRUTE_ARCHS = [*ALL_ARCHS, ALL_SWA]
DENSE = [a for a in ARCHS if a.n_experts == 1]

# (n_in, n_out); small so the loops stay fast. (3, 4) keeps the Mixtral prefill below
# all 8 experts at batch size 1 (2 * 3 < 8); the longer ones cross the toy windows
# (4 to 6 tokens) and chunks (4 tokens).
LENGTHS_CACHED = [(1, 1), (1, 5), (3, 4), (7, 1), (13, 6), (40, 12)]
LENGTHS_UNCACHED = [(1, 1), (1, 5), (3, 4), (7, 1), (9, 6), (20, 8)]


# -- brute-force reference ----------------------------------------------------------------


def _passes(n_in: int, n_out: int, kv_cache: bool) -> list[tuple[str, list[int]]]:
    """Forward passes of one request: (phase, contexts of the tokens the pass processes)."""
    if kv_cache:
        passes = [("prefill", list(range(1, n_in + 1)))]
        passes += [("decode", [n_in + j]) for j in range(1, n_out)]
    else:
        # Pass t recomputes all n_in + t - 1 tokens of the prefix.
        passes = [
            ("prefill" if t == 1 else "decode", list(range(1, n_in + t)))
            for t in range(1, n_out + 1)
        ]
    return passes


def _attention_kind(arch: Architecture, layer: int) -> str:
    return (arch.layer_types or ("full",) * arch.n_layers)[layer]


def _is_moe(arch: Architecture, layer: int) -> bool:
    if arch.mlp_layer_types:
        return arch.mlp_layer_types[layer] == "moe"
    return arch.n_experts > 1


def _attends(arch: Architecture, layer: int, query: int, key: int) -> bool:
    """Whether the query at position ``query`` sees the key at ``key <= query`` (1-based)."""
    kind = _attention_kind(arch, layer)
    if kind == "sliding":  # the window counts the query itself
        return query - key < arch.sliding_window
    if kind == "chunked":  # same chunk of attention_chunk positions
        return (query - 1) // arch.attention_chunk == (key - 1) // arch.attention_chunk
    return True


def _attention_matrices(arch: Architecture) -> list[tuple[int, int]]:
    """(in, out) of the attention projections of one layer."""
    h, a, k, d = arch.hidden_size, arch.n_heads, arch.n_kv_heads, arch.head_dim
    dv = arch.v_head_dim or d
    if arch.kv_lora_rank:  # MLA: q (or q_a + q_b), kv_a_proj_with_mqa, kv_b_proj, o_proj
        r, rope, ql = arch.kv_lora_rank, arch.qk_rope_head_dim, arch.q_lora_rank
        shapes = [(h, ql), (ql, a * d)] if ql else [(h, a * d)]
        return [*shapes, (h, r + rope), (r, a * (d - rope + dv)), (a * dv, h)]
    return [(h, a * d), (h, k * d), (h, k * dv), (a * dv, h)]


def _mlp_matrices(arch: Architecture, f: int) -> list[tuple[int, int]]:
    """(in, out) of one MLP of intermediate size ``f``: gate, up, down (or up, down)."""
    if f == 0:
        return []
    down = (f, arch.hidden_size)
    up = (arch.hidden_size, f)
    return [up, up, down] if arch.gated_mlp else [up, down]


def _linear_flops_one_token(arch: Architecture) -> int:
    h = arch.hidden_size
    total = 0
    for layer in range(arch.n_layers):
        for m, n in _attention_matrices(arch):
            total += 2 * m * n
        if _is_moe(arch, layer):
            for _expert in range(arch.n_experts_active):
                for m, n in _mlp_matrices(arch, arch.ffn_size):
                    total += 2 * m * n
            for m, n in _mlp_matrices(arch, arch.shared_ffn_size):
                total += 2 * m * n
            total += 2 * h * arch.n_experts  # router
        else:
            for m, n in _mlp_matrices(arch, arch.dense_ffn_size or arch.ffn_size):
                total += 2 * m * n
    return total


def _attention_flops_one_token(arch: Architecture, context: int) -> int:
    dv = arch.v_head_dim or arch.head_dim
    total = 0
    for layer in range(arch.n_layers):
        for key in range(1, context + 1):
            if _attends(arch, layer, context, key):
                total += 2 * arch.n_heads * arch.head_dim  # q . k for every head
                total += 2 * arch.n_heads * dv  # p * v for every head
    return total


@cache
def brute_flops(
    arch: Architecture, n_in: int, n_out: int, kv_cache: bool, logits: str
) -> dict[str, int]:
    out = {
        f"{phase}_{kind}": 0 for phase in ("prefill", "decode") for kind in ("lin", "att", "log")
    }
    for phase, contexts in _passes(n_in, n_out, kv_cache):
        for c in contexts:
            out[f"{phase}_lin"] += _linear_flops_one_token(arch)
            out[f"{phase}_att"] += _attention_flops_one_token(arch, c)
        positions = len(contexts) if logits == "all" else 1
        for _pos in range(positions):
            out[f"{phase}_log"] += 2 * arch.hidden_size * arch.vocab_size
    return out


def _kv_bytes_one_layer(arch: Architecture) -> float:
    """Bytes one token caches in one layer."""
    if arch.kv_lora_rank:  # the latent and the shared RoPE key
        return (arch.kv_lora_rank + arch.qk_rope_head_dim) * arch.kv_bytes
    total = 0.0
    for dim in (arch.head_dim, arch.v_head_dim or arch.head_dim):  # K, V
        total += arch.n_kv_heads * dim * arch.kv_bytes
    return total


def _kv_bytes_one_token(arch: Architecture) -> float:
    total = 0.0
    for _layer in range(arch.n_layers):
        total += _kv_bytes_one_layer(arch)
    return total


def _params(shapes: list[tuple[int, int]]) -> int:
    return sum(m * n for m, n in shapes)


@cache
def brute_bytes(
    arch: Architecture, n_in: int, n_out: int, kv_cache: bool, batch_size: int
) -> dict[str, float]:
    h = arch.hidden_size
    expert_bytes = arch.expert_weight_bytes or arch.weight_bytes
    weights = 0.0
    kv_write = 0.0
    kv_read = 0.0
    for phase, contexts in _passes(n_in, n_out, kv_cache):
        # Experts one MoE layer touches: every token of every request in the batch picks
        # x experts, distinct until all X are in use.
        slots = 0
        for _request in range(batch_size):
            for _token in contexts:
                slots += arch.n_experts_active
        touched = min(arch.n_experts, slots)
        params = 0  # at weight_bytes
        expert_params = 0  # at expert_weight_bytes
        for layer in range(arch.n_layers):
            params += _params(_attention_matrices(arch))
            if _is_moe(arch, layer):
                params += h * arch.n_experts  # router
                params += _params(_mlp_matrices(arch, arch.shared_ffn_size))
                for _expert in range(touched):
                    expert_params += _params(_mlp_matrices(arch, arch.ffn_size))
            else:
                params += _params(_mlp_matrices(arch, arch.dense_ffn_size or arch.ffn_size))
        params += h * arch.vocab_size  # LM head, streamed even when tied
        weights += (params * arch.weight_bytes + expert_params * expert_bytes) / batch_size
        for c in contexts:
            kv_write += _kv_bytes_one_token(arch)
            if kv_cache:
                if phase == "decode":  # the prefill computes its K/V, reads no cache
                    for layer in range(arch.n_layers):
                        for earlier in range(1, c):
                            if _attends(arch, layer, c, earlier):
                                kv_read += _kv_bytes_one_layer(arch)
            else:
                kv_read += _kv_bytes_one_token(arch)
    return {"weights": weights, "kv_write": kv_write, "kv_read": kv_read}


def _cases(lengths_cached: list[tuple[int, int]], lengths_uncached: list[tuple[int, int]]):
    for arch in BRUTE_ARCHS:
        for kv_cache, lengths in ((True, lengths_cached), (False, lengths_uncached)):
            for n_in, n_out in lengths:
                yield pytest.param(
                    arch, kv_cache, n_in, n_out, id=f"{arch.name}-{kv_cache}-{n_in}-{n_out}"
                )


CASES = list(_cases(LENGTHS_CACHED, LENGTHS_UNCACHED))


# -- agreement with the brute force -------------------------------------------------------


@pytest.mark.parametrize("logits", ["last", "all"])
@pytest.mark.parametrize(("arch", "kv_cache", "n_in", "n_out"), CASES)
def test_flops_match_brute_force(
    arch: Architecture, kv_cache: bool, n_in: int, n_out: int, logits: str
) -> None:
    ref = brute_flops(arch, n_in, n_out, kv_cache, logits)
    c = count_terms(arch, n_in, n_out, kv_cache=kv_cache, logits=logits)  # type: ignore[arg-type]
    assert float(c.prefill_linear_flops) == pytest.approx(ref["prefill_lin"], rel=1e-13)
    assert float(c.prefill_attention_flops) == pytest.approx(ref["prefill_att"], rel=1e-13)
    assert float(c.prefill_logits_flops) == pytest.approx(ref["prefill_log"], rel=1e-13)
    assert float(c.decode_linear_flops) == pytest.approx(ref["decode_lin"], rel=1e-13, abs=0)
    assert float(c.decode_attention_flops) == pytest.approx(ref["decode_att"], rel=1e-13, abs=0)
    assert float(c.decode_logits_flops) == pytest.approx(ref["decode_log"], rel=1e-13, abs=0)
    total = sum(ref.values())
    got = flops(arch, n_in, n_out, kv_cache=kv_cache, logits=logits)  # type: ignore[arg-type]
    assert float(got) == pytest.approx(total, rel=1e-13)
    assert float(c.n_passes) == n_out


def brute_scores(arch: Architecture, n_in: int, n_out: int, kv_cache: bool) -> dict[str, float]:
    """Score elements eager attention materialises: per layer and head, every (query, key)
    pair of a pass; a prefill (and every uncached pass) computes the full square, a cached
    decode step the keys its query attends to (its window or chunk only)."""
    out = {"prefill": 0.0, "decode": 0.0}
    for phase, contexts in _passes(n_in, n_out, kv_cache):
        n_queries = len(contexts)
        keys = contexts[-1]  # every query of the pass sees the whole pass before masking
        for layer in range(arch.n_layers):
            if kv_cache and phase == "decode":  # a cached decode step: one query
                c = contexts[0]
                pairs = sum(1 for key in range(1, c + 1) if _attends(arch, layer, c, key))
            else:
                pairs = n_queries * keys
            for _head in range(arch.n_heads):
                out[phase] += pairs
    return out


@pytest.mark.parametrize(("arch", "kv_cache", "n_in", "n_out"), CASES)
def test_attention_scores_match_brute_force(
    arch: Architecture, kv_cache: bool, n_in: int, n_out: int
) -> None:
    ref = brute_scores(arch, n_in, n_out, kv_cache)
    c = count_terms(arch, n_in, n_out, kv_cache=kv_cache)
    assert float(c.prefill_attention_scores) == pytest.approx(ref["prefill"], rel=1e-13)
    assert float(c.decode_attention_scores) == pytest.approx(ref["decode"], rel=1e-13, abs=0)
    assert float(c.attention_scores) == pytest.approx(sum(ref.values()), rel=1e-13)


@pytest.mark.parametrize("batch_size", [1, 3, 4])
@pytest.mark.parametrize(("arch", "kv_cache", "n_in", "n_out"), CASES)
def test_bytes_match_brute_force(
    arch: Architecture, kv_cache: bool, n_in: int, n_out: int, batch_size: int
) -> None:
    ref = brute_bytes(arch, n_in, n_out, kv_cache, batch_size)
    c = count_terms(arch, n_in, n_out, kv_cache=kv_cache, batch_size=batch_size)
    assert float(c.weight_bytes) == pytest.approx(ref["weights"], rel=1e-13)
    assert float(c.kv_write_bytes) == pytest.approx(ref["kv_write"], rel=1e-13)
    assert float(c.kv_read_bytes) == pytest.approx(ref["kv_read"], rel=1e-13, abs=0)
    got = memory_bytes(arch, n_in, n_out, kv_cache=kv_cache, batch_size=batch_size)
    assert float(got) == pytest.approx(sum(ref.values()), rel=1e-13)


@pytest.mark.parametrize("kv_cache", [True, False])
@pytest.mark.parametrize("arch", BRUTE_ARCHS, ids=lambda a: a.name)
def test_vectorised_call_matches_brute_force(arch: Architecture, kv_cache: bool) -> None:
    lengths = LENGTHS_CACHED if kv_cache else LENGTHS_UNCACHED
    n_in = np.array([i for i, _ in lengths])
    n_out = np.array([o for _, o in lengths])
    for logits in ("last", "all"):
        got = flops(arch, n_in, n_out, kv_cache=kv_cache, logits=logits)  # type: ignore[arg-type]
        want = [sum(brute_flops(arch, i, o, kv_cache, logits).values()) for i, o in lengths]
        np.testing.assert_allclose(got, want, rtol=1e-13)
    batch = np.array([[1], [2], [5]])
    got_b = memory_bytes(arch, n_in, n_out, kv_cache=kv_cache, batch_size=batch)
    assert got_b.shape == (3, len(lengths))
    want_b = [
        [sum(brute_bytes(arch, i, o, kv_cache, int(b)).values()) for i, o in lengths]
        for b in batch[:, 0]
    ]
    np.testing.assert_allclose(got_b, want_b, rtol=1e-13)


def test_moe_prefill_touches_fewer_experts_for_short_prompts() -> None:
    # Mixtral, batch 1: one prompt token uses 2 experts per layer, three use 6, four all 8.
    mlp_bytes = MIXTRAL.weight_bytes * MIXTRAL.n_layers * MIXTRAL.mlp_params_per_expert
    w = [float(count_terms(MIXTRAL, n, 1).weight_bytes) for n in (1, 3, 4, 100)]
    assert w[1] - w[0] == pytest.approx(4 * mlp_bytes)
    assert w[2] - w[1] == pytest.approx(2 * mlp_bytes)
    assert w[3] == w[2]


def test_counts_fields_and_totals() -> None:
    c = count_terms(GEMMA_7B, [[64], [512]], [1, 10, 100], logits="all", batch_size=4)
    for f in dataclasses.fields(Counts):
        arr = getattr(c, f.name)
        assert arr.dtype == np.float64
        assert arr.shape == (2, 3)
        assert not arr.flags.writeable
    np.testing.assert_array_equal(
        c.total_flops, flops(GEMMA_7B, [[64], [512]], [1, 10, 100], logits="all")
    )
    np.testing.assert_array_equal(
        c.total_bytes, memory_bytes(GEMMA_7B, [[64], [512]], [1, 10, 100], batch_size=4)
    )
    np.testing.assert_array_equal(c.prefill_flops + c.decode_flops, c.total_flops)
    np.testing.assert_array_equal(c.n_passes, np.broadcast_to([1.0, 10.0, 100.0], (2, 3)))
    # n_out = 1: the prefill is the only pass.
    assert np.all(c.decode_flops[:, 0] == 0)
    assert np.all(c.kv_read_bytes[:, 0] == 0)
    assert c == c and c != count_terms(GEMMA_7B, 64, 1) and isinstance(hash(c), int)
    with pytest.raises(dataclasses.FrozenInstanceError):
        c.weight_bytes = c.kv_read_bytes  # type: ignore[misc]


def test_broadcasting_shapes() -> None:
    n_in = np.array([[16], [128], [1024]])
    n_out = np.array([[1, 8, 64, 512]])
    f = flops(LLAMA2_70B, n_in, n_out)
    assert f.shape == (3, 4)
    for r in range(3):
        for s in range(4):
            assert f[r, s] == float(flops(LLAMA2_70B, int(n_in[r, 0]), int(n_out[0, s])))
    assert flops(LLAMA2_70B, 10, 10).shape == ()
    assert memory_bytes(LLAMA2_70B, n_in, n_out, batch_size=np.ones((2, 1, 1))).shape == (2, 3, 4)
    assert flops(LLAMA2_70B, [10, 20], [[1], [2], [3]], kv_cache=False).shape == (3, 2)
    assert flops(LLAMA2_70B, np.float64(64.0), 3) == flops(LLAMA2_70B, 64, 3)


def test_known_quadratic_coefficients_of_flops() -> None:
    arch = LLAMA2_7B
    p = 2.0 * arch.active_params_per_token
    a = 4.0 * arch.q_dim * arch.n_layers
    g = 2.0 * arch.hidden_size * arch.vocab_size
    want = np.array([a / 2, a, p - a / 2, a / 2, -p, p + g - a / 2])
    theta = quadratic_coefficients(lambda i, o: flops(arch, i, o))
    assert theta is not None
    np.testing.assert_allclose(theta[[0, 1, 2, 3, 5]], want[[0, 1, 2, 3, 5]], rtol=1e-9)
    assert theta[4] == pytest.approx(want[4], rel=1e-6)
    # Cross-check the linear-layer count with the advertised size (~6.5e9 active weights).
    assert 6.4e9 < arch.active_params_per_token < 6.6e9


def test_quadratic_coefficients_moe_needs_saturated_prefill() -> None:
    # 64 experts, 1 active: prefill touches min(64, n_in) experts, quadratic only for
    # n_in >= 64 at batch size 1, and from n_in >= 16 at batch size 4.
    def mb(b: int):
        return lambda i, o: memory_bytes(WIDE_MOE, i, o, batch_size=b)

    assert quadratic_coefficients(mb(1), n_range=(8, 4096)) is None
    assert quadratic_coefficients(mb(1), n_range=(64, 4096)) is not None
    assert quadratic_coefficients(mb(4), n_range=(16, 4096)) is not None
    assert quadratic_coefficients(mb(4), n_range=(15, 4096)) is None


def test_quadratic_coefficients_rejects_non_finite_and_cubic() -> None:
    assert quadratic_coefficients(lambda i, o: np.full_like(i, np.nan)) is None
    assert quadratic_coefficients(lambda i, o: i * o * o) is None
    assert quadratic_coefficients(lambda i, o: np.sqrt(i) * 1e6) is None
    theta = quadratic_coefficients(lambda i, o: 7.0)  # scalar output broadcasts
    assert theta is not None
    np.testing.assert_allclose(theta, [0, 0, 0, 0, 7, 0], atol=1e-9)


# -- properties -----------------------------------------------------------------------------

lengths = st.integers(min_value=1, max_value=300)
archs = st.sampled_from(ALL_ARCHS)
logit_modes = st.sampled_from(["last", "all"])


@settings(max_examples=200, deadline=None)
@given(arch=archs, n_in=lengths, n_out=lengths, kv_cache=st.booleans(), logits=logit_modes)
def test_flops_increase_with_lengths(
    arch: Architecture, n_in: int, n_out: int, kv_cache: bool, logits: str
) -> None:
    kw = {"kv_cache": kv_cache, "logits": logits}
    base = flops(arch, n_in, n_out, **kw)  # type: ignore[arg-type]
    assert flops(arch, n_in + 1, n_out, **kw) > base  # type: ignore[arg-type]
    assert flops(arch, n_in, n_out + 1, **kw) > base  # type: ignore[arg-type]
    mem = memory_bytes(arch, n_in, n_out, kv_cache=kv_cache)
    assert memory_bytes(arch, n_in + 1, n_out, kv_cache=kv_cache) >= mem
    assert memory_bytes(arch, n_in, n_out + 1, kv_cache=kv_cache) > mem


@settings(max_examples=200, deadline=None)
@given(
    arch=archs,
    n_in=lengths,
    n_out=lengths,
    logits=logit_modes,
    batch=st.integers(min_value=1, max_value=64),
)
def test_no_cache_costs_at_least_as_much(
    arch: Architecture, n_in: int, n_out: int, logits: str, batch: int
) -> None:
    cached = flops(arch, n_in, n_out, kv_cache=True, logits=logits)  # type: ignore[arg-type]
    uncached = flops(arch, n_in, n_out, kv_cache=False, logits=logits)  # type: ignore[arg-type]
    assert uncached >= cached
    if n_out > 1:
        assert uncached > cached
    else:  # a single prefill pass either way
        assert uncached == cached
    kw = {"batch_size": batch}
    assert memory_bytes(arch, n_in, n_out, kv_cache=False, **kw) > memory_bytes(
        arch, n_in, n_out, kv_cache=True, **kw
    )


@settings(max_examples=200, deadline=None)
@given(
    arch=archs,
    n_in=lengths,
    n_out=lengths,
    kv_cache=st.booleans(),
    batch=st.integers(min_value=1, max_value=256),
)
def test_memory_bytes_decrease_with_batch_size(
    arch: Architecture, n_in: int, n_out: int, kv_cache: bool, batch: int
) -> None:
    small = memory_bytes(arch, n_in, n_out, kv_cache=kv_cache, batch_size=batch)
    large = memory_bytes(arch, n_in, n_out, kv_cache=kv_cache, batch_size=batch + 1)
    assert large < small
    # KV traffic is per request and does not depend on the batch.
    c1 = count_terms(arch, n_in, n_out, kv_cache=kv_cache, batch_size=batch)
    c2 = count_terms(arch, n_in, n_out, kv_cache=kv_cache, batch_size=batch + 1)
    assert c1.kv_read_bytes == c2.kv_read_bytes
    assert c1.kv_write_bytes == c2.kv_write_bytes


@cache
def _theta(arch: Architecture, kind: str, kv_cache: bool, logits: str, batch: int):
    if kind == "flops":
        return quadratic_coefficients(
            lambda i, o: flops(arch, i, o, kv_cache=kv_cache, logits=logits)  # type: ignore[arg-type]
        )
    return quadratic_coefficients(
        lambda i, o: memory_bytes(arch, i, o, kv_cache=kv_cache, batch_size=batch)
    )


def _poly(theta: np.ndarray, n_in: int, n_out: int) -> float:
    mono = np.array([n_in * n_in, n_in * n_out, n_in, n_out * n_out, 1, n_out], dtype=float)
    return float(mono @ theta)


@settings(max_examples=300, deadline=None)
@given(
    arch=st.sampled_from(ARCHS),
    n_in=st.integers(min_value=1, max_value=20_000),
    n_out=st.integers(min_value=1, max_value=20_000),
    logits=logit_modes,
    batch=st.sampled_from([1, 4, 32]),
)
def test_quadratic_coefficients_reproduce_cached_counts(
    arch: Architecture, n_in: int, n_out: int, logits: str, batch: int
) -> None:
    theta = _theta(arch, "flops", True, logits, 1)
    assert theta is not None and theta.shape == (6,)
    want = float(flops(arch, n_in, n_out, logits=logits))  # type: ignore[arg-type]
    assert _poly(theta, n_in, n_out) == pytest.approx(want, rel=1e-9)
    # Bytes are quadratic too once the prefill touches every expert.
    theta_b = _theta(arch, "bytes", True, "last", batch)
    assert theta_b is not None
    if arch.n_experts_active * n_in * batch >= arch.n_experts:
        want_b = float(memory_bytes(arch, n_in, n_out, batch_size=batch))
        assert _poly(theta_b, n_in, n_out) == pytest.approx(want_b, rel=1e-9)


@pytest.mark.parametrize("logits", ["last", "all"])
@pytest.mark.parametrize("arch", ALL_ARCHS, ids=lambda a: a.name)
def test_quadratic_coefficients_none_for_uncached_flops(arch: Architecture, logits: str) -> None:
    assert _theta(arch, "flops", False, logits, 1) is None


@pytest.mark.parametrize("batch", [1, 8])
@pytest.mark.parametrize("arch", ALL_ARCHS, ids=lambda a: a.name)
def test_uncached_bytes_are_still_quadratic(arch: Architecture, batch: int) -> None:
    # Without the cache only attention FLOPs turn cubic: pass t moves n_t = n_in + t - 1
    # tokens of K/V and the weights once, which sums to a quadratic.
    theta = _theta(arch, "bytes", False, "last", batch)
    assert theta is not None
    for n_in, n_out in [(64, 64), (100, 3000), (5000, 7), (8000, 8000)]:
        want = float(memory_bytes(arch, n_in, n_out, kv_cache=False, batch_size=batch))
        assert _poly(theta, n_in, n_out) == pytest.approx(want, rel=1e-9)


def test_flops_do_not_depend_on_batch_size() -> None:
    a = count_terms(MIXTRAL, 100, 50, batch_size=1)
    b = count_terms(MIXTRAL, 100, 50, batch_size=16)
    assert a.total_flops == b.total_flops
    assert a.weight_bytes > b.weight_bytes


def test_large_lengths_stay_finite_and_ordered() -> None:
    n = np.array([1, 2**10, 2**17, 2**20])
    f = flops(LLAMA2_70B, n, n, kv_cache=False)
    assert np.all(np.isfinite(f)) and np.all(np.diff(f) > 0)
    # Uncached attention grows with the cube of the length.
    att = count_terms(LLAMA2_70B, 2**20, 2**20, kv_cache=False).decode_attention_flops
    p_att = 4.0 * LLAMA2_70B.q_dim * LLAMA2_70B.n_layers
    # passes 2 .. n_out cost sum of S(m) for m = n_in + 1 .. N, = C(N + 2, 3) - C(n_in + 2, 3)
    exact = p_att * (math.comb(2**21 - 1 + 2, 3) - math.comb(2**20 + 2, 3))
    assert float(att) == pytest.approx(exact, rel=1e-12)


# -- errors -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("n_in", "match"),
    [
        (0, r"n_in must be positive whole token counts; got (np\.int64\()?0\b"),
        (-5, r"n_in must be positive whole token counts; got (np\.int64\()?-5\b"),
        (1.5, r"n_in must be positive whole token counts; got (np\.float64\()?1\.5\b"),
        (float("nan"), r"n_in must be positive whole token counts; got (np\.float64\()?nan"),
        (float("inf"), r"n_in must be positive whole token counts; got (np\.float64\()?inf"),
        ([64, 0, 8], r"n_in must be positive whole token counts; got \S*0\)? at index \(1,\)"),
        ("64", r"n_in must be a positive integer or an array of them"),
        (True, r"n_in must be a positive integer or an array of them"),
        (None, r"n_in must be a positive integer or an array of them"),
    ],
)
def test_bad_n_in(n_in: object, match: str) -> None:
    with pytest.raises(SpecError, match=match):
        flops(LLAMA2_7B, n_in, 10)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=match):  # SpecError is a ValueError
        memory_bytes(LLAMA2_7B, n_in, 10)  # type: ignore[arg-type]


@pytest.mark.parametrize("n_out", [0, -1, 2.5, float("nan"), "ten"])
def test_bad_n_out(n_out: object) -> None:
    with pytest.raises(SpecError, match=r"n_out must be"):
        count_terms(LLAMA2_7B, 10, n_out)  # type: ignore[arg-type]


@pytest.mark.parametrize("logits", ["first", "ALL", None, 1])
def test_bad_logits(logits: object) -> None:
    with pytest.raises(SpecError, match=r"logits must be one of 'last', 'all'"):
        flops(LLAMA2_7B, 10, 10, logits=logits)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("batch_size", "match"),
    [
        (0, r"batch_size must be a positive integer; got 0"),
        (-2, r"batch_size must be a positive integer; got -2"),
        (2.5, r"batch_size must be a positive integer; got 2\.5"),
        ([4, 0], r"batch_size must be a positive integer; got 0 at index \(1,\)"),
        (float("nan"), r"batch_size must be a positive integer; got nan"),
        ("8", r"batch_size must be a positive integer or an array of them"),
        (True, r"batch_size must be a positive integer or an array of them"),
    ],
)
def test_bad_batch_size(batch_size: object, match: str) -> None:
    with pytest.raises(SpecError, match=match):
        memory_bytes(LLAMA2_7B, 10, 10, batch_size=batch_size)  # type: ignore[arg-type]


def test_bad_kv_cache_and_arch() -> None:
    with pytest.raises(SpecError, match=r"kv_cache must be True or False; got 'no'"):
        flops(LLAMA2_7B, 10, 10, kv_cache="no")  # type: ignore[arg-type]
    with pytest.raises(SpecError, match=r"arch must be a sweetspot.Architecture; got dict"):
        flops({"n_layers": 32}, 10, 10)  # type: ignore[arg-type]
    assert flops(LLAMA2_7B, 10, 10, kv_cache=np.bool_(False)) == flops(
        LLAMA2_7B, 10, 10, kv_cache=False
    )


def test_incompatible_shapes_raise() -> None:
    with pytest.raises(SpecError, match=r"must broadcast together; got shapes \(3,\), \(2,\)"):
        flops(LLAMA2_7B, [1, 2, 3], [1, 2])


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"n_range": (0, 100)}, r"n_range must be two integers"),
        ({"n_range": (64, 65)}, r"n_range must be two integers"),
        ({"n_range": (64.0, 4096)}, r"n_range must be two integers"),
        ({"rtol": 0.0}, r"rtol must be a positive finite number"),
        ({"rtol": float("nan")}, r"rtol must be a positive finite number"),
    ],
)
def test_bad_quadratic_coefficients_options(kwargs: dict, match: str) -> None:
    with pytest.raises(SpecError, match=match):
        quadratic_coefficients(lambda i, o: i * o, **kwargs)


# -- per-layer structure: windows, chunks, MLA, mixed layers on the real configs -----------------
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "configs"
FIXTURE_ARCHS = {
    p.stem: Architecture.from_hf_config(json.loads(p.read_text(encoding="utf-8")), name=p.stem)
    for p in sorted(FIXTURES.glob("*.json"))
}


def _keys_per_query(arch: Architecture, layer_kind: str, c: int) -> int:
    if layer_kind == "sliding":
        return min(c, arch.sliding_window)
    if layer_kind == "chunked":
        return (c - 1) % arch.attention_chunk + 1
    return c


@pytest.mark.parametrize("n_in, n_out", [(1024, 256), (100, 700)])
@pytest.mark.parametrize("name", sorted(FIXTURE_ARCHS))
def test_real_configs_match_a_loop_over_contexts(name: str, n_in: int, n_out: int) -> None:
    """Attention FLOPs and KV reads of the published configs, summed context by context
    and layer by layer (windows up to 4096 tokens make key-by-key loops too slow here)."""
    arch = FIXTURE_ARCHS[name]
    per_key = 2 * arch.n_heads * (arch.head_dim + (arch.v_head_dim or arch.head_dim))
    if arch.kv_lora_rank:
        kv_layer = (arch.kv_lora_rank + arch.qk_rope_head_dim) * arch.kv_bytes
    else:
        kv_layer = 2 * arch.n_kv_heads * arch.head_dim * arch.kv_bytes
    kinds = arch.layer_types or ("full",) * arch.n_layers
    pre_att = dec_att = kv_read = 0.0
    for kind in kinds:
        for c in range(1, n_in + 1):
            pre_att += per_key * _keys_per_query(arch, kind, c)
        for c in range(n_in + 1, n_in + n_out):
            keys = _keys_per_query(arch, kind, c)
            dec_att += per_key * keys
            kv_read += kv_layer * (keys - 1)
    got = count_terms(arch, n_in, n_out)
    assert float(got.prefill_attention_flops) == pytest.approx(pre_att, rel=1e-12)
    assert float(got.decode_attention_flops) == pytest.approx(dec_att, rel=1e-12, abs=0)
    assert float(got.kv_read_bytes) == pytest.approx(kv_read, rel=1e-12, abs=0)
    assert float(got.kv_write_bytes) == arch.n_layers * kv_layer * (n_in + n_out - 1)


def test_windows_shrink_attention_and_kv_reads() -> None:
    gpt_oss = FIXTURE_ARCHS["gpt-oss-20b"]
    full = dataclasses.replace(gpt_oss, layer_types=(), sliding_window=0)
    windowed, unwindowed = count_terms(gpt_oss, 4096, 512), count_terms(full, 4096, 512)
    # half of the layers read at most 127 cached tokens instead of ~4300
    ratio = float(windowed.kv_read_bytes / unwindowed.kv_read_bytes)
    assert 0.5 < ratio < 0.52
    assert windowed.decode_attention_flops < unwindowed.decode_attention_flops
    np.testing.assert_array_equal(windowed.kv_write_bytes, unwindowed.kv_write_bytes)
    np.testing.assert_array_equal(windowed.decode_linear_flops, unwindowed.decode_linear_flops)


def test_mla_caches_the_latent_only() -> None:
    v3 = FIXTURE_ARCHS["deepseek-v3"]
    c = count_terms(v3, 1000, 2)
    assert float(c.kv_write_bytes) == 1001 * 61 * (512 + 64) * 2.0
    assert float(c.kv_read_bytes) == 1000 * 61 * (512 + 64) * 2.0
    # QK^T over 192 dims and AV over 128 per head and key
    assert float(c.decode_attention_flops) == 1001 * 61 * 2 * 128 * (192 + 128)


def test_mxfp4_experts_and_bf16_attention() -> None:
    a = FIXTURE_ARCHS["gpt-oss-20b"]
    h, f, moe_layers = 2880, 2880, 24
    expert = 3 * h * f
    dense_part = 2.0 * (moe_layers * (a.attn_params_per_layer + h * 32) + h * 201088)
    # one decode step at batch 1 touches 4 experts per layer
    step = count_terms(a, 1000, 2).weight_bytes - count_terms(a, 1000, 1).weight_bytes
    assert float(step) == pytest.approx(dense_part + 0.53125 * moe_layers * 4 * expert, rel=1e-12)


def test_dense_and_shared_weights_are_streamed_every_pass() -> None:
    maverick = FIXTURE_ARCHS["llama-4-maverick-17b-128e-instruct"]
    h = 5120
    one_step = count_terms(maverick, 64, 2).weight_bytes - count_terms(maverick, 64, 1).weight_bytes
    attn = maverick.attn_params_per_layer
    want = 2.0 * (
        48 * attn
        + 24 * 3 * h * 16384  # dense layers
        + 24 * (h * 128 + 3 * h * 8192)  # router and shared expert of the MoE layers
        + 24 * 3 * h * 8192  # the one routed expert a token picks
        + h * 202048  # LM head
    )
    assert float(one_step) == pytest.approx(want, rel=1e-12)


@pytest.mark.parametrize("w", [1.0, 3.0, 5.0, 128.0])
def test_window_sums_match_loops(w: float) -> None:
    from sweetspot.counts import _chunked, _chunked_cum, _win, _win_cum

    n = np.arange(0, 300, dtype=np.float64)
    win = [sum(min(c, w) for c in range(1, int(m) + 1)) for m in n]
    np.testing.assert_array_equal(_win(n, w), win)
    np.testing.assert_array_equal(_win_cum(n, w), np.cumsum(win))
    chunk = [sum((c - 1) % int(w) + 1 for c in range(1, int(m) + 1)) for m in n]
    np.testing.assert_array_equal(_chunked(n, w), chunk)
    np.testing.assert_array_equal(_chunked_cum(n, w), np.cumsum(chunk))


@pytest.mark.parametrize("arch", [ALL_SWA, ALTERNATING_SWA, CHUNKED_MOE, MXFP4_MOE, MLA_MOE])
def test_continuous_lengths_agree_with_integers_and_stay_monotone(arch: Architecture) -> None:
    n_in = np.array([1.0, 3.0, 7.0, 40.0, 333.0])
    n_out = np.array([1.0, 2.0, 9.0, 17.0, 128.0])
    for kv_cache in (True, False):
        exact = count_terms(arch, n_in.astype(int), n_out.astype(int), kv_cache=kv_cache)
        real = count_terms(arch, n_in, n_out, kv_cache=kv_cache, continuous=True)
        np.testing.assert_array_equal(exact.total_flops, real.total_flops)
        np.testing.assert_array_equal(exact.total_bytes, real.total_bytes)
    grid = np.linspace(1.0, 60.0, 2000)
    f = count_terms(arch, grid, 30.5, continuous=True).total_flops
    b = count_terms(arch, 30.5, grid, continuous=True).total_bytes
    assert np.all(np.isfinite(f)) and np.all(np.diff(f) > 0)
    assert np.all(np.isfinite(b)) and np.all(np.diff(b) > 0)


def test_window_cap_holds_for_real_lengths() -> None:
    # every layer slides (W = 6): past the window each decode step costs the same
    p = 2.0 * ALL_SWA.n_heads * 2 * ALL_SWA.head_dim * ALL_SWA.n_layers
    n_out = np.array([2.25, 3.5, 10.75, 100.0])
    att = count_terms(ALL_SWA, 50.5, n_out, continuous=True).decode_attention_flops
    np.testing.assert_allclose(att, p * 6.0 * (n_out - 1.0), rtol=1e-13)


def test_windowed_counts_are_quadratic_only_inside_the_window() -> None:
    gemma = FIXTURE_ARCHS["gemma-3-1b-it"]  # W = 512
    assert quadratic_coefficients(lambda i, o: flops(gemma, i, o)) is None
    assert quadratic_coefficients(lambda i, o: flops(gemma, i, o), n_range=(8, 256)) is not None
    phi = FIXTURE_ARCHS["phi-3.5-mini-instruct"]  # W = 262144, longer than the grid
    assert quadratic_coefficients(lambda i, o: memory_bytes(phi, i, o)) is not None


# -- an engine that packs at most max_num_tokens tokens into a pass -----------------------


def _pass_weight_bytes(arch: Architecture, tokens: int) -> float:
    """Weight bytes one forward pass streams when it processes ``tokens`` tokens."""
    h = arch.hidden_size
    expert_bytes = arch.expert_weight_bytes or arch.weight_bytes
    touched = min(arch.n_experts, tokens * arch.n_experts_active)
    params, expert_params = 0, 0
    for layer in range(arch.n_layers):
        params += _params(_attention_matrices(arch))
        if _is_moe(arch, layer):
            params += h * arch.n_experts + _params(_mlp_matrices(arch, arch.shared_ffn_size))
            expert_params += touched * _params(_mlp_matrices(arch, arch.ffn_size))
        else:
            params += _params(_mlp_matrices(arch, arch.dense_ffn_size or arch.ffn_size))
    params += h * arch.vocab_size
    return params * arch.weight_bytes + expert_params * expert_bytes


def brute_engine(
    arch: Architecture, n_in: int, n_out: int, batch: int, max_num_tokens: int
) -> tuple[float, float]:
    """Weight bytes and passes per request of ``batch`` identical requests in an engine that
    fills each prefill pass with at most ``max_num_tokens`` prompt tokens (splitting a longer
    prompt), then decodes them together; every pass's cost shared by its requests."""
    weights, passes = 0.0, 0
    left = batch * n_in  # prompt tokens still to prefill
    while left > 0:
        tokens = min(max_num_tokens, left)
        weights += _pass_weight_bytes(arch, tokens)
        passes += 1
        left -= tokens
    for _step in range(n_out - 1):
        weights += _pass_weight_bytes(arch, batch)
        passes += 1
    return weights / batch, passes / batch


# (n_in, n_out, batch, max_num_tokens) where whole prompts or whole chunks fill each pass
ENGINE_CASES = [
    (4, 5, 8, 16),  # 4 prompts per pass, 2 prefill passes
    (32, 3, 3, 16),  # each prompt split in 2 passes
    (4, 6, 8, 64),  # all 8 prompts in one pass: the old share 1 / B
    (6, 2, 2, 6),  # one prompt per pass
]


@pytest.mark.parametrize("arch", [LLAMA2_7B, MIXTRAL, WIDE_MOE, MLA_MOE, MXFP4_MOE])
@pytest.mark.parametrize(("n_in", "n_out", "batch", "mnt"), ENGINE_CASES)
def test_max_num_tokens_matches_an_engine_loop(
    arch: Architecture, n_in: int, n_out: int, batch: int, mnt: int
) -> None:
    weights, passes = brute_engine(arch, n_in, n_out, batch, mnt)
    c = count_terms(arch, n_in, n_out, batch_size=batch, max_num_tokens=mnt)
    assert float(c.weight_bytes) == pytest.approx(weights, rel=1e-12)
    assert float(c.shared_passes) == pytest.approx(passes, rel=1e-12)
    # everything else is what the engine computes whatever it packs
    plain = count_terms(arch, n_in, n_out, batch_size=batch)
    assert float(c.total_flops) == float(plain.total_flops)
    assert float(c.kv_read_bytes) == float(plain.kv_read_bytes)


def test_without_max_num_tokens_the_prefill_shares_the_batch() -> None:
    c = count_terms(LLAMA2_7B, [64, 4096], 100, batch_size=50)
    np.testing.assert_allclose(c.shared_passes, 100 / 50)
    big = count_terms(LLAMA2_7B, [64, 4096], 100, batch_size=50, max_num_tokens=10**9)
    np.testing.assert_allclose(big.weight_bytes, c.weight_bytes, rtol=1e-12)
    long = count_terms(LLAMA2_7B, 4096, 100, batch_size=50, max_num_tokens=1024)
    assert float(long.shared_passes) == pytest.approx(4096 / 1024 + 99 / 50)


@pytest.mark.parametrize(
    ("value", "kv_cache", "match"),
    [
        (0, True, "max_num_tokens must be a positive number"),
        (True, True, "max_num_tokens must be a positive number"),
        ("8192", True, "max_num_tokens must be a positive number"),
        (float("inf"), True, "max_num_tokens must be a positive number"),
        (8192, False, "does not apply with kv_cache=False"),
    ],
)
def test_bad_max_num_tokens(value: object, kv_cache: bool, match: str) -> None:
    with pytest.raises(SpecError, match=match):
        count_terms(LLAMA2_7B, 64, 64, kv_cache=kv_cache, max_num_tokens=value)  # type: ignore[arg-type]


# -- the roofline time of the passes ------------------------------------------------------


def brute_roofline(
    arch: Architecture, n_in: int, n_out: int, peak: float, bw: float, batch: int, mnt
) -> float:
    """Sum over the passes of max(FLOPs / peak, bytes / bandwidth), this request's share,
    with each pass's FLOPs and bytes taken as the increments of the (brute-force checked)
    counts from one output token to the next."""
    prev = count_terms(arch, n_in, 1, batch_size=batch, max_num_tokens=mnt)
    total = max(float(prev.total_flops) / peak, float(prev.total_bytes) / bw)
    for k in range(2, n_out + 1):
        cur = count_terms(arch, n_in, k, batch_size=batch, max_num_tokens=mnt)
        f = float(cur.total_flops - prev.total_flops)
        m = float(cur.total_bytes - prev.total_bytes)
        total += max(f / peak, m / bw)
        prev = cur
    return total


# (n_in, n_out, batch): memory-bound throughout, compute-bound throughout, and crossing over
ROOF_CASES = [(7, 40, 1), (30, 25, 4096), (3, 60, 64), (50, 30, 300)]


@pytest.mark.parametrize(
    "arch", [LLAMA2_7B, FALCON_7B, MIXTRAL, ALTERNATING_SWA, ALL_SWA, MLA_DENSE]
)
@pytest.mark.parametrize(("n_in", "n_out", "batch"), ROOF_CASES)
@pytest.mark.parametrize("mnt", [None, 8])
def test_roofline_time_matches_a_loop_over_passes(
    arch: Architecture, n_in: int, n_out: int, batch: int, mnt
) -> None:
    # a toy peak and bandwidth whose ridge sits inside these cases
    peak, bw = 4.0e12 * arch.hidden_size / 4096, 1.0e10
    got = roofline_time(
        arch, n_in, n_out, peak_flops=peak, bandwidth=bw, batch_size=batch, max_num_tokens=mnt
    )
    assert float(got) == pytest.approx(brute_roofline(arch, n_in, n_out, peak, bw, batch, mnt),
                                       rel=1e-9)  # fmt: skip


def test_roofline_of_chunked_layers_is_an_upper_bound() -> None:
    peak, bw = 1e12, 1e10
    got = roofline_time(CHUNKED_MOE, 3, 30, peak_flops=peak, bandwidth=bw, batch_size=16)
    assert float(got) >= brute_roofline(CHUNKED_MOE, 3, 30, peak, bw, 16, None) * (1 - 1e-12)


def test_roofline_time_is_vectorised_and_checked() -> None:
    t = roofline_time(
        LLAMA2_7B, [64, 4096], [[16], [1024]], peak_flops=989.5e12, bandwidth=3.35e12,
        batch_size=32,
    )  # fmt: skip
    assert t.shape == (2, 2) and np.all(np.diff(t, axis=0) > 0) and np.all(np.diff(t, axis=1) > 0)
    with pytest.raises(SpecError, match="peak_flops must be a positive finite number"):
        roofline_time(LLAMA2_7B, 64, 64, peak_flops=0, bandwidth=1e12)
    with pytest.raises(SpecError, match="bandwidth must be a positive finite number"):
        roofline_time(LLAMA2_7B, 64, 64, peak_flops=1e12, bandwidth=float("nan"))
