"""FLOPs and memory traffic of one inference request, from the architecture alone.

Pure, vectorised functions of the input length ``n_in`` and output length ``n_out``
(scalars or arrays, broadcast against each other). Every count is *per request*
and summed over the whole request (prefill and all decode steps), in float64.

- :func:`flops` -- floating-point operations [FLOP].
- :func:`memory_bytes` -- bytes moved between HBM and the chip [B]: weights streamed
  plus KV-cache writes and reads.
- :func:`count_terms` -- the same numbers split into their parts (:class:`Counts`).
- :func:`quadratic_coefficients` -- map any such count onto the six coefficients
  ``theta`` of DESIGN.md section 2, or tell that it is not quadratic.

Notes
-----
Symbols: ``L`` layers, ``h`` hidden size, ``a`` query heads, ``k`` KV heads, ``d`` head
dim, ``V`` vocabulary, ``X`` experts per MoE layer, ``x`` experts per token, ``B``
requests decoded together (``batch_size``), ``b_w`` and ``b_kv`` bytes per weight and
per KV element. Three per-token constants come from :class:`~sweetspot.Architecture`:

- linear FLOPs ``P = 2 N_act`` with ``N_act = arch.active_params_per_token``
  ``= L (h(ad) + 2h(kd) + (ad)h + x m h f + hX)``, ``m = 3`` gated MLP or 2, router
  term only for MoE. One multiply-accumulate is 2 FLOPs; K and V are GQA-aware. (Per
  layer when layers differ: see *Per-layer structure* below.)
- attention FLOPs per unit of context ``A = 4 a d L`` (``4 * arch.q_dim * L``): a
  query at context ``c`` (it attends to ``c`` keys, itself included) costs ``2 a d c``
  for ``QK^T`` and ``2 a d c`` for ``AV`` per layer (``2 a d_v c`` for ``AV`` when the
  value head dim differs, as in MLA). Softmax, norms, rotary embeddings, activations
  and biases are not counted.
- logits FLOPs per position ``G = 2 h V`` (the LM head).

With ``S(n) = n (n + 1) / 2`` (causal prefill of ``n`` tokens costs ``A S(n)``) and
``T(n) = n (n + 1) (n + 2) / 6 = S(1) + ... + S(n)``:

**KV cache on** (``kv_cache=True``, the usual engine): a prefill pass over the ``n_in``
prompt tokens emits output token 1, then ``n_out - 1`` decode passes; decode step
``j = 1 .. n_out - 1`` processes one token at context ``n_in + j``::

    prefill_linear  = P n_in               decode_linear  = P (n_out - 1)
    prefill_attn    = A S(n_in)            decode_attn    = A ((n_out - 1) n_in + S(n_out - 1))
    prefill_logits  = G (1 or n_in)        decode_logits  = G (n_out - 1)

(``logits="last"`` computes the LM head for the generated position only,
``logits="all"`` for every position of the pass, as Hugging Face ``transformers``
does.) The total is an exact quadratic polynomial in ``(n_in, n_out)``; with
``logits="last"``::

    flops = A/2 n_in^2 + A n_in n_out + (P - A/2) n_in + A/2 n_out^2 - P + (P + G - A/2) n_out

**KV cache off** (``kv_cache=False``, every step recomputes the prefix, as with
``transformers`` and ``use_cache=False``): ``n_out`` passes, pass ``t = 1 .. n_out`` is a
full prefill over ``n_t = n_in + t - 1`` tokens. Pass 1 is counted as prefill, passes
``2 .. n_out`` as decode. With ``N = n_in + n_out - 1``::

    decode_linear  = P (S(N) - S(n_in))
    decode_attn    = A (T(N) - T(n_in))          (cubic: n_in^2 n_out, n_in n_out^2, n_out^3)
    decode_logits  = G (n_out - 1)  or  G (S(N) - S(n_in)) with logits="all"

**Weights** are read once per forward pass and shared by the ``B`` requests of the
batch, so a request is charged ``W_pass / B`` per pass, where::

    W_pass = b_w (L (attn + router + E_pass mlp) + h V)

with ``attn = arch.attn_params_per_layer``, ``router = arch.router_params_per_layer``,
``mlp = arch.mlp_params_per_expert`` and ``E_pass`` the experts a layer touches in the
pass: 1 for a dense model, ``min(X, x B n_pass)`` for MoE, where ``n_pass`` is the tokens
each request feeds to the pass (``n_in`` in a cached prefill, 1 in a decode step,
``n_t`` in an uncached pass) -- an upper bound that assumes the tokens of a pass
spread over distinct experts until all are used. The LM head is streamed in full even
with tied embeddings; the input embedding table is not streamed (only the rows of the
tokens looked up are read, which is negligible). Norm weights and biases are ignored.

An engine that packs at most ``max_num_tokens`` tokens into a pass (``max_num_tokens=``)
shares a prefill pass among ``min(B, max_num_tokens / n_in)`` prompts only, and splits a
longer prompt over ``n_in / max_num_tokens`` passes; the prefill is then charged
``W_pass max(1 / B, n_in / max_num_tokens)`` (experts touched by the ``min(B n_in,
max_num_tokens)`` tokens of the pass), and ``shared_passes``, the request's share of all
passes, is ``max(1 / B, n_in / max_num_tokens) + (n_out - 1) / B`` instead of ``n_out / B``.

**KV cache** bytes per token ``K = arch.kv_bytes_per_token = 2 L k d b_kv``. With the
cache every processed token writes its K and V once (``n_in + n_out - 1`` tokens; the
last output token is never fed back), and decode step ``j`` reads those of the
``n_in + j - 1`` earlier tokens; prefill reads nothing from the cache::

    kv_write = K (n_in + n_out - 1)      kv_read = K ((n_out - 1) n_in + S(n_out - 2))

Without the cache nothing persists between passes; by convention each pass writes the
K/V of its ``n_t`` tokens once and reads them once (eager attention materialises
them), so ``kv_write = kv_read = K (S(N) - S(n_in - 1))``. Activations are not counted.

**Attention scores** (for unfused, "eager" attention, which writes the ``a x q x c``
score matrix of each layer to memory, softmaxes it there and reads it back for ``AV``):
``a L`` elements per query-key pair, the full ``n x n`` square in a prefill of ``n``
tokens (eager attention masks after computing it) and ``c`` keys for one decode query::

    cache on:   prefill = a L n_in^2    decode = a L ((n_out - 1) n_in + S(n_out - 1))
    cache off:  prefill = a L n_in^2    decode = a L (Q(N) - Q(n_in)),  Q(n) = 1^2 + ... + n^2

Their cost scales with the number of heads, not with the head dimension, which is why it
is kept apart from the attention FLOPs (``a d`` per score).

With the cache and ``x B n_in >= X`` (always for dense models), FLOPs and bytes are
exact quadratic polynomials in ``(n_in, n_out)``, so the closed-form sweet spot of
DESIGN.md section 2 applies; :func:`quadratic_coefficients` recovers their ``theta``.

**Per-layer structure** (:class:`~sweetspot.Architecture` ``layer_types``,
``mlp_layer_types``, MLA and expert fields; docs/architectures.md). The sums above are
taken layer by layer, grouped by kind:

- *sliding-window layers* (window ``W``): a query at context ``c`` attends to
  ``min(c, W)`` keys, so ``S(n)`` becomes ``S_W(n) = S(min(n, W)) + W max(n - W, 0)``
  for a prefill and a decode step costs ``min(c, W)``; the cache of such a layer holds at
  most ``W`` tokens, and decode step ``j`` reads ``min(c, W) - 1`` of them. Every token
  is still written once. Without the cache, pass ``t`` costs ``S_W(n_t)``.
- *chunked layers* (chunk ``C``, Llama 4): a query at context ``c`` attends to the
  ``(c - 1) mod C + 1`` keys of its chunk and reads ``(c - 1) mod C`` of them.
- *MLA* (``kv_lora_rank = r``): each token caches ``r + d_rope`` elements per layer
  (the latent and the shared RoPE key), not ``2 k d``; attention uses the query/key head
  dim ``d = d_nope + d_rope`` for ``QK^T`` and ``d_v`` for ``AV`` (no weight absorption);
  the projections (``q_proj`` or ``q_a_proj`` + ``q_b_proj``, ``kv_a_proj_with_mqa``,
  ``kv_b_proj``, ``o_proj``) give ``P`` and the weight bytes.
- *dense and MoE layers mixed* (DeepSeek ``first_k_dense_replace``, Llama 4
  ``interleave_moe_layer_step``, Qwen ``decoder_sparse_step``): ``P`` and ``W_pass``
  add each layer's own MLP: a dense layer its ``m h f_dense``, an MoE layer its router,
  its shared experts (always touched, ``m h f_shared``) and the routed experts,
  ``x`` per token for FLOPs and ``min(X, x B n_pass)`` per pass for weight bytes.
- *narrow experts* (``expert_weight_bytes``, MXFP4 in gpt-oss: 4.25 bits): the routed
  experts stream at that width, everything else at ``b_w``.

Windows make the counts piecewise polynomials: quadratic only while every context stays
within ``W`` (and ``C``), so :func:`quadratic_coefficients` returns None past them. The
closed forms use ``minimum``/``maximum`` (and ``floor`` for chunks), so they hold for
the real-valued lengths of ``continuous=True`` too.

Examples
--------
>>> from sweetspot import Architecture
>>> from sweetspot.counts import flops, memory_bytes
>>> tiny = Architecture(name="tiny", n_layers=2, hidden_size=64, n_heads=4, n_kv_heads=4,
...                     head_dim=16, ffn_size=256, gated_mlp=False, vocab_size=1000)
>>> float(flops(tiny, 10, 1))  # one prefill pass: 2*98304*10 + 512*55 + 128000
2122240.0
>>> flops(tiny, [10, 20], 4).shape
(2,)
>>> float(memory_bytes(tiny, 10, 1))  # 2 B * 162304 weights + 512 B * 10 KV writes
329728.0
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._validation import as_lengths, check_choice
from .architecture import Architecture
from .exceptions import SpecError

__all__ = [
    "LOGITS",
    "Counts",
    "Logits",
    "count_terms",
    "flops",
    "memory_bytes",
    "quadratic_coefficients",
    "roofline_time",
]

Logits = Literal["last", "all"]
#: The ``logits`` choices: the LM head for the generated position only, or for every position.
LOGITS: tuple[str, ...] = ("last", "all")

_F64 = NDArray[np.float64]


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class Counts:
    """FLOPs and bytes of one request, split by phase and kind (see the module Notes).

    Every field is a read-only float64 array of the broadcast shape of
    ``(n_in, n_out, batch_size)``, counted per request over the whole request.
    (Compared by identity: ``==`` on arrays has no single truth value.)

    Attributes
    ----------
    prefill_linear_flops, prefill_attention_flops, prefill_logits_flops : ndarray
        FLOPs of the first forward pass (the prefill) [FLOP].
    decode_linear_flops, decode_attention_flops, decode_logits_flops : ndarray
        FLOPs of the remaining ``n_out - 1`` passes [FLOP].
    weight_bytes : ndarray
        Weight bytes streamed, this request's share over all passes [B].
    kv_write_bytes, kv_read_bytes : ndarray
        KV-cache bytes written and read [B].
    n_passes : ndarray
        Forward passes per request (``n_out`` with or without the KV cache).
    shared_passes : ndarray
        This request's share of the engine's forward passes [passes]: each pass counts
        ``1 / (requests in it)``. With the cache, ``(n_out - 1) / B`` decode passes plus the
        prefill's share ``1 / B``, or ``max(1 / B, n_in / max_num_tokens)`` when the engine
        packs at most ``max_num_tokens`` tokens into a pass; ``n_out / B`` without the cache.
        It is what the weights streamed per pass and a fixed cost per layer and pass are
        multiplied by.
    prefill_attention_scores, decode_attention_scores : ndarray
        Attention-score elements an *unfused* (eager) attention materialises in memory,
        ``a L`` x queries x keys per pass (the full square in a prefill, as eager
        attention computes it before masking) [elements]. Fused/flash attention keeps
        them on chip; models use this only with ``eager_attention=True``.
    """

    prefill_linear_flops: _F64
    prefill_attention_flops: _F64
    prefill_logits_flops: _F64
    decode_linear_flops: _F64
    decode_attention_flops: _F64
    decode_logits_flops: _F64
    weight_bytes: _F64
    kv_write_bytes: _F64
    kv_read_bytes: _F64
    n_passes: _F64
    shared_passes: _F64
    prefill_attention_scores: _F64
    decode_attention_scores: _F64

    @property
    def attention_scores(self) -> _F64:
        """All attention-score elements of the request [elements]."""
        return self.prefill_attention_scores + self.decode_attention_scores

    @property
    def prefill_flops(self) -> _F64:
        """FLOPs of the prefill pass [FLOP]."""
        return self.prefill_linear_flops + self.prefill_attention_flops + self.prefill_logits_flops

    @property
    def decode_flops(self) -> _F64:
        """FLOPs of the decode passes [FLOP]."""
        return self.decode_linear_flops + self.decode_attention_flops + self.decode_logits_flops

    @property
    def total_flops(self) -> _F64:
        """All FLOPs of the request, ``flops(...)`` [FLOP]."""
        return self.prefill_flops + self.decode_flops

    @property
    def total_bytes(self) -> _F64:
        """All bytes moved for the request, ``memory_bytes(...)`` [B]."""
        return self.weight_bytes + self.kv_write_bytes + self.kv_read_bytes


def flops(
    arch: Architecture,
    n_in: ArrayLike,
    n_out: ArrayLike,
    *,
    kv_cache: bool = True,
    logits: Logits = "last",
) -> _F64:
    """Floating-point operations of one request.

    Parameters
    ----------
    arch : Architecture
        The model.
    n_in, n_out : int or array_like of int
        Prompt and generated tokens per request (positive integers), broadcast together.
    kv_cache : bool, default True
        True for an engine with a KV cache (prefill, then one token per decode step);
        False when every step recomputes the whole prefix (cubic in the lengths).
    logits : {"last", "all"}, default "last"
        Compute the LM head for the generated position only, or for every position
        processed in a pass.

    Returns
    -------
    ndarray of float64
        FLOPs per request [FLOP], of the broadcast shape of ``n_in`` and ``n_out``.

    Raises
    ------
    SpecError
        If a length is not a positive integer or an option is unknown.

    See Also
    --------
    count_terms : the same total split into prefill/decode and linear/attention/logits.

    Notes
    -----
    Formulas in the module Notes of :mod:`sweetspot.counts`.
    """
    return count_terms(arch, n_in, n_out, kv_cache=kv_cache, logits=logits).total_flops


def memory_bytes(
    arch: Architecture,
    n_in: ArrayLike,
    n_out: ArrayLike,
    *,
    kv_cache: bool = True,
    batch_size: int | ArrayLike = 1,
) -> _F64:
    """Bytes of memory traffic of one request: weights streamed plus KV-cache traffic.

    Parameters
    ----------
    arch : Architecture
        The model.
    n_in, n_out : int or array_like of int
        Prompt and generated tokens per request (positive integers), broadcast together.
    kv_cache : bool, default True
        Whether the engine keeps a KV cache (see :func:`flops`).
    batch_size : int or array_like of int, default 1
        Requests that share every forward pass, and so share the weight reads.

    Returns
    -------
    ndarray of float64
        Bytes per request [B], of the broadcast shape of ``n_in``, ``n_out`` and
        ``batch_size``.

    Raises
    ------
    SpecError
        If a length or the batch size is not a positive integer.

    Notes
    -----
    Formulas in the module Notes of :mod:`sweetspot.counts`.
    """
    return count_terms(arch, n_in, n_out, kv_cache=kv_cache, batch_size=batch_size).total_bytes


def count_terms(
    arch: Architecture,
    n_in: ArrayLike,
    n_out: ArrayLike,
    *,
    kv_cache: bool = True,
    logits: Logits = "last",
    batch_size: int | ArrayLike = 1,
    continuous: bool = False,
    max_num_tokens: float | None = None,
) -> Counts:
    """FLOPs and bytes of one request, split by phase and kind.

    Parameters
    ----------
    arch : Architecture
        The model.
    n_in, n_out : int or array_like of int
        Prompt and generated tokens per request (positive integers).
    kv_cache : bool, default True
        Whether the engine keeps a KV cache (see :func:`flops`).
    logits : {"last", "all"}, default "last"
        LM head for the generated position only, or for every position of a pass.
    batch_size : int or array_like of int, default 1
        Requests that share every forward pass (affects bytes only).
    continuous : bool, default False
        Accept real-valued lengths ``>= 1`` and evaluate the closed forms there (the
        polynomial extension of the counts), as numerical optimisers over n_out need.
    max_num_tokens : float, optional
        Cached engine only: the most tokens the engine puts into one forward pass
        (TensorRT-LLM ``max_num_tokens``). A prefill then shares its pass with at most
        ``max_num_tokens / n_in`` prompts (not the whole batch), and a prompt longer than
        that takes ``n_in / max_num_tokens`` passes, each streaming the weights. Default:
        the prefill shares its pass with the ``batch_size`` requests.

    Returns
    -------
    Counts
        Every field broadcast to the common shape of ``n_in``, ``n_out`` and
        ``batch_size``.

    Raises
    ------
    SpecError
        If a length or the batch size is not a positive integer, ``logits`` is not
        ``"last"``/``"all"``, ``kv_cache`` is not a bool, ``arch`` is not an
        :class:`~sweetspot.Architecture`, or ``max_num_tokens`` is not a positive number
        or is given for an engine without a KV cache.

    Notes
    -----
    Formulas in the module Notes of :mod:`sweetspot.counts`.
    """
    if not isinstance(arch, Architecture):
        raise SpecError(
            f"arch must be a sweetspot.Architecture; got {type(arch).__name__}. "
            "Build one with Architecture(...) or Architecture.from_hf_config(cfg)."
        )
    if not isinstance(kv_cache, bool | np.bool_):
        raise SpecError(f"kv_cache must be True or False; got {kv_cache!r}.")
    check_choice(logits, "logits", LOGITS)
    i = as_lengths(n_in, "n_in", integer=not continuous)
    o = as_lengths(n_out, "n_out", integer=not continuous)
    b = _as_batch_size(batch_size, integer=not continuous)
    mnt = _as_max_num_tokens(max_num_tokens, kv_cache)
    try:
        shape = np.broadcast_shapes(i.shape, o.shape, b.shape)
    except ValueError:
        raise SpecError(
            f"n_in, n_out and batch_size must broadcast together; got shapes {i.shape}, "
            f"{o.shape} and {b.shape}. Use equal shapes, scalars, or a column and a row "
            "(e.g. n_in[:, None] with n_out[None, :]) for a grid."
        ) from None
    all_logits = logits == "all"

    p_lin = 2.0 * arch.active_params_per_token
    p_log = 2.0 * arch.lm_head_params
    kinds = arch.attention_kinds
    n_full, n_slide, n_chunk = (kinds.count(k) for k in ("full", "sliding", "chunked"))
    win, chunk = float(arch.sliding_window), float(arch.attention_chunk)
    # Attention FLOPs per key a query attends to, per layer: QK^T (2 a d) and AV (2 a d_v).
    per_key = 2.0 * arch.n_heads * (arch.head_dim + arch.value_head_dim)
    p_att, p_att_w, p_att_c = per_key * n_full, per_key * n_slide, per_key * n_chunk
    kv_tok = float(arch.kv_bytes_per_token)
    kv_full = float(n_full * arch.kv_elements_per_layer) * arch.kv_bytes
    kv_w = float(n_slide * arch.kv_elements_per_layer) * arch.kv_bytes
    kv_c = float(n_chunk * arch.kv_elements_per_layer) * arch.kv_bytes
    p_sc = float(arch.n_heads * arch.n_layers)  # score elements per query-key pair
    sc_full, sc_w, sc_c = (float(arch.n_heads * n) for n in (n_full, n_slide, n_chunk))
    # Weight bytes of a pass, W0 + W1 * (experts touched per MoE layer).
    if arch.n_moe_layers:
        w0 = arch.weight_bytes * (
            arch.n_layers * arch.attn_params_per_layer
            + arch.n_moe_layers * (arch.router_params_per_layer + arch.shared_mlp_params)
            + arch.n_dense_layers * arch.dense_mlp_params
            + arch.lm_head_params
        )
        b_exp = arch.weight_bytes if arch.expert_weight_bytes is None else arch.expert_weight_bytes
        w1 = b_exp * arch.n_moe_layers * arch.mlp_params_per_expert
        n_exp = float(arch.n_experts)
        slots = float(arch.n_experts_active) * b  # expert slots per token of a pass, batch
    else:  # dense: the MLP is "one expert" every pass touches
        w0 = arch.weight_bytes * (arch.n_layers * arch.attn_params_per_layer + arch.lm_head_params)
        w1 = arch.weight_bytes * arch.n_layers * arch.dense_mlp_params
        n_exp, slots = 1.0, b

    if kv_cache:
        n_dec = o - 1.0
        last = i + n_dec  # context of the last decode step
        pre_lin = p_lin * i
        pre_att = p_att * _tri(i)
        pre_log = p_log * (i if all_logits else np.ones_like(i))
        dec_lin = p_lin * n_dec
        dec_att = p_att * (n_dec * i + _tri(n_dec))
        dec_log = p_log * n_dec
        if mnt is None:  # the prefill shares its pass with the whole batch
            experts = np.minimum(n_exp, slots * i) + n_dec * np.minimum(n_exp, slots)
        else:  # at most mnt tokens per pass: fewer prompts share it, long ones take several
            share_p = np.maximum(1.0 / b, i / mnt)
            tokens_p = np.minimum(b * i, mnt)
            slots_p = (slots / b) * tokens_p  # expert slots of the tokens of a prefill pass
            experts_p = share_p * b * np.minimum(n_exp, slots_p)
            experts = experts_p + n_dec * np.minimum(n_exp, slots)
        kv_write = kv_tok * (i + n_dec)
        kv_read = kv_full * (n_dec * i + _tri(o - 2.0))
        pre_sc = p_sc * i * i
        dec_sc = sc_full * (n_dec * i + _tri(n_dec))
        if n_slide:  # keys per query: min(c, W)
            keys = _win(last, win) - _win(i, win)
            pre_att = pre_att + p_att_w * _win(i, win)
            dec_att = dec_att + p_att_w * keys
            kv_read = kv_read + kv_w * (keys - n_dec)
            dec_sc = dec_sc + sc_w * keys
        if n_chunk:  # keys per query: (c - 1) mod C + 1
            keys = _chunked(last, chunk) - _chunked(i, chunk)
            pre_att = pre_att + p_att_c * _chunked(i, chunk)
            dec_att = dec_att + p_att_c * keys
            kv_read = kv_read + kv_c * (keys - n_dec)
            dec_sc = dec_sc + sc_c * keys
    else:
        last = i + o - 1.0  # tokens in the final pass
        pre_lin = p_lin * i
        pre_att = p_att * _tri(i)
        pre_log = p_log * (i if all_logits else np.ones_like(i))
        dec_tokens = _tri(last) - _tri(i)  # sum of n_t over passes 2 .. n_out
        dec_lin = p_lin * dec_tokens
        dec_att = p_att * (_tet(last) - _tet(i))
        dec_log = p_log * (dec_tokens if all_logits else o - 1.0)
        experts = _sum_capped(slots, n_exp, i, last)
        kv_write = kv_tok * (_tri(last) - _tri(i - 1.0))
        kv_read = kv_write
        pre_sc = p_sc * i * i
        dec_sc = p_sc * (_sq(last) - _sq(i))
        if n_slide:
            pre_att = pre_att + p_att_w * _win(i, win)
            dec_att = dec_att + p_att_w * (_win_cum(last, win) - _win_cum(i, win))
        if n_chunk:
            pre_att = pre_att + p_att_c * _chunked(i, chunk)
            dec_att = dec_att + p_att_c * (_chunked_cum(last, chunk) - _chunked_cum(i, chunk))
    if mnt is None:
        shared = o / b
        weight = (o * w0 + w1 * experts) / b
    else:
        shared = share_p + n_dec / b
        weight = shared * w0 + w1 * experts / b

    def out(x: ArrayLike) -> _F64:
        if (
            isinstance(x, np.ndarray)
            and x.shape == shape
            and x.dtype == np.float64
            and x.flags.owndata
        ):
            arr = x  # a fresh array of this call: made read-only, not copied
        else:
            arr = np.array(np.broadcast_to(x, shape), dtype=np.float64)
        arr.flags.writeable = False
        return arr

    return Counts(
        prefill_linear_flops=out(pre_lin),
        prefill_attention_flops=out(pre_att),
        prefill_logits_flops=out(pre_log),
        decode_linear_flops=out(dec_lin),
        decode_attention_flops=out(dec_att),
        decode_logits_flops=out(dec_log),
        weight_bytes=out(weight),
        kv_write_bytes=out(kv_write),
        kv_read_bytes=out(kv_read),
        n_passes=out(o),
        shared_passes=out(shared),
        prefill_attention_scores=out(pre_sc),
        decode_attention_scores=out(dec_sc),
    )


def quadratic_coefficients(
    fn: Callable[[_F64, _F64], ArrayLike],
    *,
    n_range: tuple[int, int] = (64, 4096),
    rtol: float = 1e-9,
) -> _F64 | None:
    """Coefficients ``theta`` of a count that is quadratic in ``(n_in, n_out)``, or None.

    Parameters
    ----------
    fn : callable
        ``fn(n_in, n_out) -> array`` of per-request values, vectorised over float64
        arrays of whole token counts (e.g. ``lambda i, o: flops(arch, i, o)``).
    n_range : (int, int), default (64, 4096)
        Lengths the fit and the check are done on, for both ``n_in`` and ``n_out``.
    rtol : float, default 1e-9
        Largest residual allowed on the check points, relative to the largest
        ``|fn|`` there.

    Returns
    -------
    ndarray of float64, shape (6,), or None
        ``(t1, ..., t6)`` such that ``fn = t1 n_in^2 + t2 n_in n_out + t3 n_in +
        t4 n_out^2 + t5 + t6 n_out`` (the order of DESIGN.md section 2), or None when
        ``fn`` is not such a polynomial on ``n_range`` (a KV-cache-free engine, or an
        MoE model whose prefill does not yet touch every expert).

    Notes
    -----
    The six coefficients are solved exactly from six unisolvent points (the quadratic
    lattice of the triangle with corners ``(lo, lo)``, ``(hi, lo)``, ``(lo, hi)``, on
    lengths scaled by ``hi``), then the polynomial is checked on eleven more points,
    including the far corner ``(hi, hi)`` and points off the lattice. The coefficients
    are as accurate as ``fn`` is relative to its largest value, so a small constant term
    ``t5`` carries an absolute error of order ``1e-16 max|fn|``.

    Examples
    --------
    >>> f = lambda i, o: 3 * i**2 + 2 * i * o + i + 4 * o**2 + 5 + 6 * o
    >>> quadratic_coefficients(f).round(6).tolist()
    [3.0, 2.0, 1.0, 4.0, 5.0, 6.0]
    >>> quadratic_coefficients(lambda i, o: i * o * o) is None
    True
    """
    lo, hi = n_range
    if not (
        isinstance(lo, int | np.integer)
        and isinstance(hi, int | np.integer)
        and not isinstance(lo, bool)
        and not isinstance(hi, bool)
        and lo >= 1
        and lo + 2 <= hi
    ):
        raise SpecError(
            f"n_range must be two integers 1 <= lo < hi - 1; got {n_range!r}. "
            "The default (64, 4096) spans the lengths measured in the paper."
        )
    if not (np.isfinite(rtol) and rtol > 0):
        raise SpecError(f"rtol must be a positive finite number; got {rtol!r}.")
    mid = (lo + hi) // 2
    q1, q3 = (3 * lo + hi) // 4, (lo + 3 * hi) // 4
    fit_pts = [(lo, lo), (mid, lo), (hi, lo), (lo, mid), (mid, mid), (lo, hi)]
    check_pts = [
        (hi, hi),
        (hi, mid),
        (mid, hi),
        (q1, q3),
        (q3, q1),
        (q1, q1),
        (q3, q3),
        (lo + 1, hi - 1),
        (hi - 1, lo + 1),
        (lo + 1, lo + 2),
        (q1 + 1, mid + 3),
    ]
    pts = np.array(fit_pts + check_pts, dtype=np.float64)
    n_in, n_out = pts[:, 0].copy(), pts[:, 1].copy()
    y = np.array(np.broadcast_to(np.asarray(fn(n_in, n_out), dtype=np.float64), n_in.shape))
    if not np.all(np.isfinite(y)):
        return None

    def monomials(i: _F64, o: _F64) -> _F64:
        return np.stack([i * i, i * o, i, o * o, np.ones_like(i), o], axis=-1)

    scale = monomials(np.array([float(hi)]), np.array([float(hi)]))[0]
    design = monomials(n_in, n_out) / scale
    nfit = len(fit_pts)
    coef = np.linalg.solve(design[:nfit], y[:nfit])
    resid = design @ coef - y
    ref = float(np.max(np.abs(y)))
    if np.max(np.abs(resid)) > rtol * ref:
        return None
    theta: _F64 = coef / scale
    return theta


def roofline_time(
    arch: Architecture,
    n_in: ArrayLike,
    n_out: ArrayLike,
    *,
    peak_flops: float,
    bandwidth: float,
    batch_size: int | ArrayLike = 1,
    max_num_tokens: float | None = None,
    logits: Logits = "last",
    continuous: bool = False,
) -> _F64:
    """This request's share of the roofline time of every forward pass it takes part in [s].

    Each pass lasts at least ``max(FLOPs / peak_flops, bytes / bandwidth)`` (the roofline);
    the ``B`` requests of a pass share it, so a request is charged
    ``max(f / peak_flops, m / bandwidth)`` with ``f`` and ``m`` its own FLOPs and bytes in
    the pass, the weights counted at its share. Summed over the prefill and every decode
    step, it is the time a GPU at its peaks would need; times a static power it is the
    energy that is paid whatever the work (``sweetspot.models``, ``roofline=``).

    Parameters
    ----------
    arch : Architecture
        The model.
    n_in, n_out : int or array_like
        Prompt and generated tokens per request (positive), broadcast together.
    peak_flops : float
        Dense tensor peak of the GPU [FLOP/s].
    bandwidth : float
        Peak memory bandwidth of the GPU [B/s].
    batch_size : int or array_like, default 1
        Requests decoded together.
    max_num_tokens : float, optional
        Tokens per pass the engine allows (see :func:`count_terms`).
    logits : {"last", "all"}
        LM head positions (see :func:`count_terms`).
    continuous : bool
        Accept real-valued lengths and batch sizes (see :func:`count_terms`).

    Returns
    -------
    ndarray of float64
        Seconds per request, of the broadcast shape of the inputs.

    Raises
    ------
    SpecError
        As :func:`count_terms`, or a peak that is not a positive finite number.

    Notes
    -----
    Decode step ``j`` (context ``c = n_in + j``) costs ``f_j = P + G + A c`` FLOPs and moves
    ``m_j = W_step / B + K + K_read (c - 1)`` bytes per request: both affine in ``j``, so the
    sum of their maximum has a closed form with at most one crossing (memory-bound steps
    turn compute-bound, or the reverse). Sliding-window layers cap ``c`` at the window
    ``W``, which splits the steps into pieces that are each affine. Chunked layers
    (Llama 4) are priced as a window of the chunk size, an upper bound on their keys.

    Examples
    --------
    >>> from sweetspot import get_architecture
    >>> arch = get_architecture("llama-3.1-8b")
    >>> t = roofline_time(arch, 512, 256, peak_flops=989.5e12, bandwidth=3.35e12,
    ...                   batch_size=64)
    >>> round(float(t) * 1e3, 2)  # ms per request on an H100 SXM at its peaks
    31.53
    """
    for value, name in ((peak_flops, "peak_flops"), (bandwidth, "bandwidth")):
        if (
            isinstance(value, (bool, np.bool_))
            or not isinstance(value, (int, float, np.integer, np.floating))
            or not (np.isfinite(value) and value > 0)
        ):
            raise SpecError(f"{name} must be a positive finite number; got {value!r}.")
    first = count_terms(
        arch, n_in, 1.0 if continuous else 1, logits=logits, batch_size=batch_size,
        continuous=continuous, max_num_tokens=max_num_tokens,
    )  # fmt: skip
    two = count_terms(
        arch, n_in, 2.0 if continuous else 2, logits=logits, batch_size=batch_size,
        continuous=continuous, max_num_tokens=max_num_tokens,
    )  # fmt: skip
    i = as_lengths(n_in, "n_in", integer=not continuous)
    o = as_lengths(n_out, "n_out", integer=not continuous)
    shape = np.broadcast_shapes(first.weight_bytes.shape, o.shape)
    i = np.broadcast_to(i, shape)
    n_dec = np.broadcast_to(o, shape) - 1.0
    t_prefill = np.maximum(
        first.prefill_flops / peak_flops,
        (first.weight_bytes + first.kv_write_bytes) / bandwidth,
    )
    w_step = np.broadcast_to(two.weight_bytes - first.weight_bytes, shape)
    kinds = arch.attention_kinds
    per_key = 2.0 * arch.n_heads * (arch.head_dim + arch.value_head_dim)
    kv_layer = float(arch.kv_elements_per_layer) * arch.kv_bytes
    p_tok = 2.0 * arch.active_params_per_token + 2.0 * arch.lm_head_params
    windows = sorted(
        {float(arch.sliding_window): "sliding", float(arch.attention_chunk): "chunked"}.items()
    )
    windows = [(w, k) for w, k in windows if w > 0 and kinds.count(k)]
    n_full = kinds.count("full")
    # pieces of the decode steps: before each window fills, the keys grow with the context
    edges = [np.clip(w - i, 0.0, n_dec) for w, _ in windows]
    lo = np.zeros(shape)
    total = np.zeros(shape)
    for piece in range(len(windows) + 1):
        hi = edges[piece] if piece < len(windows) else n_dec
        grow = float(n_full) + sum(kinds.count(k) for w, k in windows[piece:])
        caps = [(w, kinds.count(k)) for w, k in windows[:piece]]
        const_keys = sum(w * n for w, n in caps)
        n_capped = sum(n for _, n in caps)
        # f = a + b j, m = g + d j (per request, step j at context i + j)
        a = (p_tok + per_key * (grow * i + const_keys)) / peak_flops
        b = per_key * grow / peak_flops
        g = (
            w_step
            + kv_layer * len(kinds)  # the step's own K/V written
            + kv_layer * (grow * (i - 1.0) + const_keys - n_capped)
        ) / bandwidth
        d = kv_layer * grow / bandwidth
        total = total + _sum_max_affine(a, b, g, d, lo, np.maximum(hi, lo))
        lo = np.maximum(hi, lo)
    out: _F64 = np.asarray(t_prefill + total, dtype=np.float64)
    return out


def _sum_affine(a: _F64, b: _F64 | float, j0: _F64, j1: _F64) -> _F64:
    """``sum(a + b j for j in j0 + 1 .. j1)`` (0 when ``j1 <= j0``)."""
    n = np.maximum(j1 - j0, 0.0)
    return n * a + b * (_tri(j0 + n) - _tri(j0))


def _sum_max_affine(a: _F64, b: float, g: _F64, d: float, j0: _F64, j1: _F64) -> _F64:
    """``sum(max(a + b j, g + d j) for j in j0 + 1 .. j1)`` in closed form, vectorised.

    The two lines cross at most once, at ``j* = (g - a) / (b - d)``; the steps on each side
    are summed as affine series.
    """
    if b == d:
        return np.where(a >= g, _sum_affine(a, b, j0, j1), _sum_affine(g, d, j0, j1))
    cross = (g - a) / (b - d)
    if b > d:  # f wins from j > cross on
        k = np.clip(np.floor(cross), j0, j1)
        return _sum_affine(g, d, j0, k) + _sum_affine(a, b, k, j1)
    k = np.clip(np.floor(cross), j0, j1)  # f wins up to j <= cross
    return _sum_affine(a, b, j0, k) + _sum_affine(g, d, k, j1)


def _tri(n: _F64) -> _F64:
    """``1 + 2 + ... + n = n (n + 1) / 2`` (0 for ``n`` in {-1, 0})."""
    return n * (n + 1.0) / 2.0


def _tet(n: _F64) -> _F64:
    """``_tri(1) + ... + _tri(n) = n (n + 1) (n + 2) / 6``."""
    return n * (n + 1.0) * (n + 2.0) / 6.0


def _sq(n: _F64) -> _F64:
    """``1^2 + 2^2 + ... + n^2 = n (n + 1) (2n + 1) / 6``."""
    return n * (n + 1.0) * (2.0 * n + 1.0) / 6.0


def _win(n: _F64, w: float) -> _F64:
    """``min(1, W) + min(2, W) + ... + min(n, W)``: keys of ``n`` queries of a sliding layer."""
    return _tri(np.minimum(n, w)) + w * np.maximum(n - w, 0.0)


def _win_cum(n: _F64, w: float) -> _F64:
    """``_win(1, W) + ... + _win(n, W)`` (uncached passes over 1 .. n tokens)."""
    u, v = np.minimum(n, w), np.maximum(n - w, 0.0)
    return _tet(u) + v * (w * (w + 1.0) / 2.0) + w * _tri(v)


def _chunked(n: _F64, c: float) -> _F64:
    """Keys of queries 1 .. n of a chunked layer: query ``m`` sees ``(m - 1) mod C + 1``."""
    q = np.floor(n / c)
    return q * (c * (c + 1.0) / 2.0) + _tri(n - q * c)


def _chunked_cum(n: _F64, c: float) -> _F64:
    """``_chunked(1, C) + ... + _chunked(n, C)`` in closed form (``n = Q C + R``)."""
    q = np.floor(n / c)
    r = n - q * c
    tri_c = c * (c + 1.0) / 2.0  # keys of one whole chunk
    tet_c = (c - 1.0) * c * (c + 1.0) / 6.0  # _chunked(0 .. C - 1) within one chunk
    out: _F64 = tri_c * c * q * (q - 1.0) / 2.0 + q * tet_c + (r + 1.0) * q * tri_c + _tet(r)
    return out


def _sum_capped(slope: _F64, cap: float, first: _F64, last: _F64) -> _F64:
    """``sum(min(cap, slope * m) for m in first .. last)`` in closed form.

    ``slope * m <= cap`` for ``m <= floor(cap / slope)``; the terms above are ``cap``.
    """
    knee = np.clip(np.floor(cap / slope), first - 1.0, last)
    return slope * (_tri(knee) - _tri(first - 1.0)) + cap * (last - knee)


def _as_max_num_tokens(value: Any, kv_cache: bool) -> float | None:
    """``max_num_tokens`` as a float after checking it (None passes through)."""
    if value is None:
        return None
    if (
        isinstance(value, (bool, np.bool_))
        or not isinstance(value, (int, float, np.integer, np.floating))
        or not np.isfinite(value)
        or value < 1
    ):
        raise SpecError(
            f"max_num_tokens must be a positive number of tokens per forward pass (e.g. "
            f"8192) or None; got {value!r}."
        )
    if not kv_cache:
        raise SpecError(
            "max_num_tokens describes a batching engine with a KV cache (prompts packed into "
            "passes); it does not apply with kv_cache=False. Leave it None."
        )
    return float(value)


def _as_batch_size(value: int | ArrayLike, *, integer: bool = True) -> _F64:
    """Batch size(s) as float64 after checking they are positive integers."""
    arr = np.asarray(value)
    if arr.dtype == bool or arr.dtype.kind not in "iuf":
        raise SpecError(
            f"batch_size must be a positive integer or an array of them; got {value!r}. "
            "Pass the number of requests decoded together, e.g. batch_size=8."
        )
    out = arr.astype(np.float64)
    bad = ~np.isfinite(out) | ((out != np.round(out)) if integer else False) | (out <= 0)
    if np.any(bad):
        idx = np.unravel_index(int(np.argmax(bad)), out.shape) if out.ndim else ()
        where = f" at index {tuple(int(i) for i in idx)}" if out.ndim else ""
        raise SpecError(
            f"batch_size must be a positive {'integer' if integer else 'number'}; "
            f"got {arr[idx].item()!r}{where}. "
            "It is the number of requests sharing each forward pass, e.g. batch_size=8."
        )
    return out
