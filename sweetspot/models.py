"""The energy-model family: ONE table of terms, and the specs built from it.

Every model predicts the energy of one request ``E(n_in, n_out)`` [J] and is linear in its
coefficients: ``E = sum_j c_j x_j`` where each *term* ``j`` pairs a coefficient (name,
unit) with a column ``x_j`` of the design matrix (a monomial of the lengths, or a count of
the architecture's FLOPs or bytes). :data:`TERMS` is the one table of those terms; a model's
parameter names, units, formula, label, design columns and theta map, and the CLI's
physical-option flags, are all derived from it. Adding a physical term is one row here plus
its count in :mod:`sweetspot.counts` (docs/new-term.md walks through it).

A :class:`ModelSpec` is plain data (frozen); fitting lives in :mod:`sweetspot.fitting` and
never mutates a spec.

========================  =====================================================  ===========
name                      energy of one request                                   coefficients
========================  =====================================================  ===========
``linear``                c0 + c1 n_in + c2 n_out                                 free
``wilkins``               a0 n_in + a1 n_out + a2 n_in n_out                      free
``sweetspot``             t1 n_in^2 + t2 n_in n_out + t3 n_in + t4 n_out^2        free
                          + t5 + t6 n_out  (the paper's Memory+FLOPs model [1]_)
``sweetspot_flops``       ``sweetspot`` without t5 (the paper's FLOPs-based model)  free
``per_token``             a n_out  (B1: constant energy per output token [1]_)    free
``per_token_fixed``       a n_out + b  (B2: per token a + b / n_out [1]_)          free
``per_token_context``     a n_out + b n_out / (n_in + n_out)  (B3 [1]_)             free
``flops``                 e_pf F_prefill + e_df F_decode + e_req                  >= 0
``memory_flops``          ``flops`` + e_b B (bytes moved)                          >= 0
========================  =====================================================  ===========

``F_prefill``, ``F_decode`` and ``B`` come from :func:`sweetspot.counts.count_terms` for the
model's :class:`~sweetspot.architecture.Architecture`; with a KV cache they are exact
quadratics in (n_in, n_out), so every model except a cache-off physical model and
``per_token_context`` reduces to the six-term form ``theta`` and the closed-form sweet spot
applies (the others are searched numerically). The paper's fourth baseline B4 is Wilkins et
al.'s ``wilkins`` [2]_.

References
----------
.. [1] Pizzini Cavagna et al., "Determining Energy Efficiency Sweet Spots in Production LLM
   Inference", arXiv:2602.05695 (ICPE 2026).
.. [2] G. Wilkins, S. Keshav, R. Mortier, "Offline Energy-Optimal LLM Serving: Workload-Based
   Energy Models for LLM Inference on Heterogeneous Systems" (2024).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from types import MappingProxyType
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from ._validation import check_choice
from .architecture import Architecture
from .counts import LOGITS, Counts, count_terms, quadratic_coefficients, roofline_time
from .exceptions import SpecError
from .serving import GPUSpec, get_gpu

__all__ = [
    "FLAGGED_TERMS",
    "FREE_MODELS",
    "MODEL_NAMES",
    "PHYSICAL_MODELS",
    "TERMS",
    "THETA_NAMES",
    "THETA_UNITS",
    "Inputs",
    "ModelName",
    "ModelSpec",
    "Term",
    "as_spec",
]

_F64 = NDArray[np.float64]

ModelName = Literal[
    "linear",
    "wilkins",
    "sweetspot",
    "per_token",
    "per_token_fixed",
    "per_token_context",
    "sweetspot_flops",
    "flops",
    "memory_flops",
]
#: Free polynomials (every coefficient fitted per LLM): the plain linear baseline, the
#: paper's baselines B1-B4 (B4 is ``wilkins``), its FLOPs-based and Memory+FLOPs forms.
FREE_MODELS: tuple[str, ...] = (
    "linear",
    "wilkins",
    "sweetspot",
    "per_token",
    "per_token_fixed",
    "per_token_context",
    "sweetspot_flops",
)
PHYSICAL_MODELS: tuple[str, ...] = ("flops", "memory_flops")
MODEL_NAMES: tuple[str, ...] = (*FREE_MODELS, *PHYSICAL_MODELS)


class Inputs:
    """What a term's column is computed from: the lengths, and (physical terms) the counts.

    The counts of the architecture are computed once, on first use, for all terms.
    """

    __slots__ = (
        "_counts",
        "architecture",
        "batch_size",
        "gpu",
        "kv_cache",
        "logits",
        "max_num_tokens",
        "n_in",
        "n_out",
    )

    def __init__(
        self,
        n_in: _F64,
        n_out: _F64,
        *,
        architecture: Architecture | None = None,
        kv_cache: bool = True,
        logits: Literal["last", "all"] = "last",
        batch_size: _F64 | float = 1.0,
        max_num_tokens: int | None = None,
        gpu: GPUSpec | None = None,
    ) -> None:
        self.n_in, self.n_out = n_in, n_out
        self.architecture, self.kv_cache, self.logits = architecture, kv_cache, logits
        self.batch_size = batch_size
        self.max_num_tokens, self.gpu = max_num_tokens, gpu
        self._counts: Counts | None = None

    def _batch(self) -> _F64:
        return np.broadcast_to(np.asarray(self.batch_size, dtype=float), self.n_in.shape)

    @property
    def counts(self) -> Counts:
        """FLOPs and bytes per request (:func:`sweetspot.counts.count_terms`)."""
        if self._counts is None:
            assert self.architecture is not None
            self._counts = count_terms(
                self.architecture,
                self.n_in,
                self.n_out,
                kv_cache=self.kv_cache,
                logits=self.logits,
                batch_size=self._batch(),
                continuous=True,
                max_num_tokens=self.max_num_tokens,
            )
        return self._counts

    @property
    def roofline_time(self) -> _F64:
        """This request's share of the roofline time of its passes on ``gpu`` [s]
        (:func:`sweetspot.counts.roofline_time`)."""
        assert self.architecture is not None and self.gpu is not None
        return roofline_time(
            self.architecture,
            self.n_in,
            self.n_out,
            peak_flops=self.gpu.peak_flops,
            bandwidth=self.gpu.bandwidth,
            batch_size=self._batch(),
            max_num_tokens=self.max_num_tokens,
            logits=self.logits,
            continuous=True,
        )

    @property
    def n_layers(self) -> float:
        """Layers of the architecture."""
        assert self.architecture is not None
        return float(self.architecture.n_layers)


@dataclass(frozen=True, slots=True, kw_only=True)
class Term:
    """One term of an energy model: a coefficient and the design column it multiplies.

    Attributes
    ----------
    name : str
        Coefficient name of a physical term (``j_per_byte``), or the key of a monomial of a
        free model (``n_in^2``), which names its coefficient per model (``t1``).
    unit : str
        Unit of the coefficient (``J/B``).
    symbol : str
        The column in formulas (``B``; empty for the constant).
    description : str
        What the column counts, with its unit.
    column : callable
        ``column(inputs) -> ndarray``: the design column from an :class:`Inputs`.
    theta : int or None
        Free terms: index in ``theta = (t1..t6)`` of the monomial (None if not a monomial).
    models : tuple of str
        The model families that have this term.
    option : str or None
        The :class:`ModelSpec` field that switches the term on (None: always present).
    when : bool
        The value of ``option`` that includes the term; for an option that is not a bool
        (``roofline``, a GPU name), True means "set" (not None).
    flag : str or None
        Command-line flag that sets ``option`` to ``when`` (``sweetspot fit``).
    help : str
        What the flag does, for the command's help.
    tag : str or None
        Tag shown in :attr:`ModelSpec.label` when the flag is set (``per-pass``).
    """

    name: str
    unit: str
    symbol: str
    description: str
    column: Callable[[Inputs], _F64]
    theta: int | None = None
    models: tuple[str, ...] = PHYSICAL_MODELS
    option: str | None = None
    when: bool = True
    flag: str | None = None
    help: str = ""
    tag: str | None = None


def _ones(x: Inputs) -> _F64:
    return np.ones_like(x.n_in)


#: The terms of every model, in design-column order. Monomials first (the free models),
#: then the physical terms (coefficients >= 0, columns from :func:`~sweetspot.counts.count_terms`).
TERMS: Mapping[str, Term] = MappingProxyType(
    {
        t.name: t
        for t in (
            # -- monomials of the free polynomials (theta order t1..t6) ----------------
            Term(
                name="n_in^2",
                unit="J/token^2",
                symbol="n_in^2",
                theta=0,
                description="input length squared [token^2]",
                models=FREE_MODELS,
                column=lambda x: x.n_in * x.n_in,
            ),
            Term(
                name="n_in n_out",
                unit="J/token^2",
                symbol="n_in n_out",
                theta=1,
                description="input x output length [token^2]",
                models=FREE_MODELS,
                column=lambda x: x.n_in * x.n_out,
            ),
            Term(
                name="n_in",
                unit="J/token",
                symbol="n_in",
                theta=2,
                description="input length [token]",
                models=FREE_MODELS,
                column=lambda x: x.n_in,
            ),
            Term(
                name="n_out^2",
                unit="J/token^2",
                symbol="n_out^2",
                theta=3,
                description="output length squared [token^2]",
                models=FREE_MODELS,
                column=lambda x: x.n_out * x.n_out,
            ),
            Term(
                name="1",
                unit="J",
                symbol="",
                theta=4,
                description="one per request",
                models=FREE_MODELS,
                column=_ones,
            ),
            Term(
                name="n_out",
                unit="J/token",
                symbol="n_out",
                theta=5,
                description="output length [token]",
                models=FREE_MODELS,
                column=lambda x: x.n_out,
            ),
            Term(
                name="n_out/(n_in+n_out)",
                unit="J",
                symbol="n_out/(n_in + n_out)",
                description="share of the output in all tokens of the request (dimensionless)",
                models=FREE_MODELS,
                column=lambda x: x.n_out / (x.n_in + x.n_out),
            ),
            # -- physical terms ---------------------------------------------------------
            Term(
                name="j_per_flop_prefill",
                unit="J/FLOP",
                symbol="F_prefill",
                description="FLOPs of the prefill pass [FLOP]",
                column=lambda x: x.counts.prefill_flops,
                option="split_phases",
            ),
            Term(
                name="j_per_flop_decode",
                unit="J/FLOP",
                symbol="F_decode",
                description="FLOPs of the decode passes [FLOP]",
                column=lambda x: x.counts.decode_flops,
                option="split_phases",
            ),
            Term(
                name="j_per_flop",
                unit="J/FLOP",
                symbol="F",
                description="all FLOPs of the request [FLOP]",
                column=lambda x: x.counts.total_flops,
                option="split_phases",
                when=False,
                flag="--no-split",
                help="one J/FLOP for prefill and decode",
                tag="no-split",
            ),
            Term(
                name="j_per_score",
                unit="J/score",
                symbol="S_scores",
                description="attention-score elements materialised by eager attention",
                column=lambda x: x.counts.attention_scores,
                option="eager_attention",
                flag="--eager-attention",
                help="unfused attention, add J per materialised score element",
                tag="eager-attn",
            ),
            Term(
                name="j_per_byte",
                unit="J/B",
                symbol="B",
                description="bytes moved: weights streamed plus KV cache [B]",
                column=lambda x: x.counts.total_bytes,
                models=("memory_flops",),
                option="kv_bytes",
                when=False,
            ),
            Term(
                name="j_per_weight_byte",
                unit="J/B",
                symbol="B_weights",
                description="weight bytes streamed, this request's share of every pass [B]",
                column=lambda x: x.counts.weight_bytes,
                models=("memory_flops",),
                option="kv_bytes",
            ),
            Term(
                name="j_per_kv_byte",
                unit="J/B",
                symbol="B_kv",
                description="KV-cache bytes written and read by this request [B]",
                column=lambda x: x.counts.kv_write_bytes + x.counts.kv_read_bytes,
                option="kv_bytes",
                flag="--kv-bytes",
                help="price KV-cache traffic with its own J/byte (memory_flops: apart from "
                "the weights)",
                tag="kv-bytes",
            ),
            Term(
                name="j_per_layer_pass",
                unit="J/(layer pass)",
                symbol="L n_passes",
                description="layers x forward passes (fixed overhead per layer per pass)",
                column=lambda x: x.counts.n_passes * x.n_layers,
                option="per_pass",
                flag="--per-pass",
                help="add a fixed J per layer per pass",
                tag="per-pass",
            ),
            Term(
                name="j_per_layer_step",
                unit="J/(layer step)",
                symbol="L n_steps/B",
                description="layers x engine steps, this request's share (a step's fixed "
                "overhead is shared by the requests in it) [layer steps]",
                column=lambda x: x.counts.shared_passes * x.n_layers,
                option="layer_steps",
                flag="--layer-steps",
                help="add a fixed J per layer per engine step, shared by the batch",
                tag="layer-steps",
            ),
            Term(
                name="static_power_w",
                unit="W",
                symbol="T_roofline",
                description="this request's share of the roofline time of its passes on the "
                "spec's GPU [s]",
                column=lambda x: x.roofline_time,
                option="roofline",
            ),
            Term(
                name="j_per_request",
                unit="J",
                symbol="",
                description="one per request (fixed energy per request)",
                column=_ones,
            ),
        )
    }
)

#: Coefficient names of the free models, each mapped to its monomial in :data:`TERMS`.
_FREE_FAMILIES: Mapping[str, tuple[tuple[str, str], ...]] = MappingProxyType(
    {
        "linear": (("c0", "1"), ("c1", "n_in"), ("c2", "n_out")),
        "wilkins": (("a0", "n_in"), ("a1", "n_out"), ("a2", "n_in n_out")),
        "sweetspot": (
            ("t1", "n_in^2"),
            ("t2", "n_in n_out"),
            ("t3", "n_in"),
            ("t4", "n_out^2"),
            ("t5", "1"),
            ("t6", "n_out"),
        ),
        # the SweetSpot paper's baselines, per output token [1]_: B1 a, B2 a + b / n_out,
        # B3 a + b / (n_in + n_out), times n_out for the energy of a request
        "per_token": (("a", "n_out"),),
        "per_token_fixed": (("a", "n_out"), ("b", "1")),
        "per_token_context": (("a", "n_out"), ("b", "n_out/(n_in+n_out)")),
        # the paper's FLOPs-based model: the six-term form without the constant t5
        "sweetspot_flops": (
            ("t1", "n_in^2"),
            ("t2", "n_in n_out"),
            ("t3", "n_in"),
            ("t4", "n_out^2"),
            ("t6", "n_out"),
        ),
    }
)

THETA_NAMES: tuple[str, ...] = tuple(name for name, _ in _FREE_FAMILIES["sweetspot"])
THETA_UNITS: tuple[str, ...] = tuple(TERMS[key].unit for _, key in _FREE_FAMILIES["sweetspot"])


@dataclass(frozen=True, slots=True, kw_only=True)
class ModelSpec:
    """Which energy model to fit, with its options (plain data, never mutated by a fit).

    Parameters
    ----------
    name : {"linear", "wilkins", "sweetspot", "flops", "memory_flops"}
        Model family (see the module docstring).
    kv_cache : bool
        Physical models only: the engine keeps a KV cache (TensorRT-LLM, vLLM) or
        recomputes the prefix at every step (Hugging Face ``use_cache=False``, as in the
        Wilkins et al. data). Without a cache the energy has cubic terms and no ``theta``.
    logits : {"last", "all"}
        Physical models only: the LM head runs for the generated token only, or for every
        position of a pass (Hugging Face computes all positions).
    split_phases : bool
        Physical models only: separate J/FLOP for the prefill pass and the decode passes
        (they are compute- and memory-bound respectively, so their J/FLOP differ).
    per_pass : bool
        Physical models only: add a fixed energy per layer per forward pass
        [J/(layer pass)]: kernel-launch and framework overhead, paid by every layer at
        every generation step whatever the context length, so it scales with
        ``n_out x L`` and transfers between models of different depth.
    eager_attention : bool
        Physical models only: the engine runs unfused ("eager") attention, which writes the
        ``a x queries x keys`` score matrix of every layer to memory, softmaxes it there and
        reads it back; add those score elements with their own coefficient [J/score].
        Their count scales with the number of heads ``a`` (not with ``a d`` like the
        attention FLOPs), so a model with many narrow heads (Falcon-7B: 71 heads of 64)
        pays more per FLOP. Fused/flash attention (TensorRT-LLM, vLLM) keeps scores on
        chip: leave it False there.
    kv_bytes : bool
        Physical models only: price the KV-cache bytes written and read with their own
        coefficient ``j_per_kv_byte`` [J/B]; ``memory_flops`` then prices the weight bytes
        alone with ``j_per_weight_byte``. In a batched engine the weights are streamed once
        per pass for the whole batch while every request reads its own cache, so the two
        traffics scale differently with the batch and with the sequence; with one J/byte
        for both a pooled fit fails on batched data (docs/serving.md).
    layer_steps : bool
        Physical models only: add a fixed energy per layer per engine step, shared by the
        requests of the step [J/(layer step)]: kernel launches and scheduling paid at every
        step by every layer, whatever the batch, so a request pays ``L`` times its share of
        the steps (``Counts.shared_passes``: ``L n_out / B`` for a decode-dominated
        request). At ``B = 1`` it equals ``per_pass``.
    max_num_tokens : int or None
        Physical models of a cached batching engine: the most tokens the engine puts in one
        pass (TensorRT-LLM ``max_num_tokens``), so a prefill shares its pass with at most
        ``max_num_tokens / n_in`` prompts and a longer prompt takes several passes (see
        :func:`sweetspot.counts.count_terms`). None: a prefill shares its pass with the
        whole batch. An engine fact of the data, like ``kv_cache``.
    roofline : str or None
        Physical models only: a GPU key of :data:`sweetspot.serving.GPUS` (``"h100-sxm"``);
        adds a static power ``static_power_w`` [W] times this request's share of the
        roofline time of its passes on that GPU (:func:`sweetspot.counts.roofline_time`):
        the energy paid whatever the work, which dominates when few requests share the GPU.
        The term is not quadratic in the lengths, so the model has no ``theta``.
    """

    name: ModelName = "sweetspot"
    kv_cache: bool = True
    logits: Literal["last", "all"] = "last"
    split_phases: bool = True
    per_pass: bool = False
    eager_attention: bool = False
    kv_bytes: bool = False
    layer_steps: bool = False
    max_num_tokens: int | None = None
    roofline: str | None = None

    def __post_init__(self) -> None:
        check_choice(self.name, "model", MODEL_NAMES)
        check_choice(self.logits, "logits", LOGITS)
        for opt in _BOOL_OPTIONS:
            if not isinstance(getattr(self, opt), bool):
                raise SpecError(f"{opt} must be True or False; got {getattr(self, opt)!r}.")
        mnt = self.max_num_tokens
        if mnt is not None:
            if isinstance(mnt, bool) or not isinstance(mnt, (int, np.integer)) or mnt < 1:
                raise SpecError(
                    f"max_num_tokens must be a positive integer (tokens per forward pass, e.g. "
                    f"8192) or None; got {mnt!r}."
                )
            object.__setattr__(self, "max_num_tokens", int(mnt))
            if not self.kv_cache:
                raise SpecError(
                    "max_num_tokens describes a batching engine with a KV cache; it does not "
                    "apply with kv_cache=False. Leave it None."
                )
        if self.roofline is not None:
            if not isinstance(self.roofline, str):
                raise SpecError(
                    f"roofline must be a GPU key such as 'h100-sxm' or None; got {self.roofline!r}."
                )
            object.__setattr__(self, "roofline", get_gpu(self.roofline).key)
        if self.name in FREE_MODELS and self._non_default():
            raise SpecError(
                f"model {self.name!r} is a free polynomial and takes no physical options "
                f"({', '.join(_OPTIONS)}); use model='flops' or 'memory_flops' for those."
            )

    def _non_default(self) -> list[str]:
        return [f.name for f in fields(self)[1:] if getattr(self, f.name) != f.default]

    # -- description -------------------------------------------------------------------
    @property
    def is_physical(self) -> bool:
        """True for ``flops`` and ``memory_flops`` (need an architecture, coefficients >= 0)."""
        return self.name in PHYSICAL_MODELS

    @property
    def terms(self) -> tuple[Term, ...]:
        """The rows of :data:`TERMS` this model has, in design-column order."""
        if not self.is_physical:
            return tuple(TERMS[key] for _, key in _FREE_FAMILIES[self.name])
        return tuple(
            t
            for t in TERMS.values()
            if self.name in t.models
            and (t.option is None or _switched_on(getattr(self, t.option), t.when))
        )

    @property
    def param_names(self) -> tuple[str, ...]:
        """Coefficient names in design-matrix column order."""
        if not self.is_physical:
            return tuple(name for name, _ in _FREE_FAMILIES[self.name])
        return tuple(t.name for t in self.terms)

    @property
    def param_units(self) -> tuple[str, ...]:
        """Units of the coefficients, aligned with :attr:`param_names`."""
        return tuple(t.unit for t in self.terms)

    @property
    def formula(self) -> str:
        """Human-readable formula of the model, e.g. ``E = c0 + c1 n_in + c2 n_out``."""
        return "E = " + " + ".join(
            f"{name} {t.symbol}" if t.symbol else name
            for name, t in zip(self.param_names, self.terms, strict=True)
        )

    @property
    def label(self) -> str:
        """Short label with the options, e.g. ``flops[cache=off,logits=all]``."""
        if not self.is_physical:
            return self.name
        opts = [f"cache={'on' if self.kv_cache else 'off'}"]
        if self.logits != "last":
            opts.append(f"logits={self.logits}")
        for opt in _BOOL_OPTIONS[1:]:  # option order of the spec's fields
            value = getattr(self, opt)
            opts += [t.tag for t in _TAGGED if t.option == opt and t.when == value and t.tag]
        if self.max_num_tokens is not None:
            opts.append(f"max_num_tokens={self.max_num_tokens}")
        if self.roofline is not None:
            opts.append(f"roofline={self.roofline}")
        return f"{self.name}[{','.join(opts)}]"

    def to_dict(self) -> dict[str, object]:
        """JSON-safe dict of the spec (inverse of ``ModelSpec(**d)``)."""
        return {f.name: getattr(self, f.name) for f in fields(self)}

    # -- design matrices -----------------------------------------------------------------
    def design(
        self,
        n_in: NDArray[np.float64],
        n_out: NDArray[np.float64],
        *,
        architecture: Architecture | None = None,
        batch_size: NDArray[np.float64] | float = 1.0,
    ) -> NDArray[np.float64]:
        """Design matrix, shape ``(len(n_in), n_params)``, for validated 1-D float lengths.

        Column-major (each column contiguous, as the QR of the fitting solver wants).
        """
        n_in = np.asarray(n_in, dtype=float).ravel()
        n_out = np.asarray(n_out, dtype=float).ravel()
        if self.is_physical and architecture is None:
            raise SpecError(
                f"model {self.name!r} needs the architecture of the measured LLM; pass "
                "architecture='llama-2-7b' (a preset name), an Architecture, or a mapping "
                "{model name: architecture} for a pooled fit."
            )
        inputs = Inputs(
            n_in,
            n_out,
            architecture=architecture,
            kv_cache=self.kv_cache,
            logits=self.logits,
            batch_size=batch_size,
            max_num_tokens=self.max_num_tokens,
            gpu=None if self.roofline is None else get_gpu(self.roofline),
        )
        terms = self.terms
        X = np.empty((n_in.size, len(terms)), order="F")
        for j, term in enumerate(terms):
            X[:, j] = term.column(inputs)
        return X

    def design_rows(
        self,
        n_in: NDArray[np.float64],
        n_out: NDArray[np.float64],
        *,
        architectures: Mapping[str, Architecture] | None = None,
        labels: NDArray[np.object_] | None = None,
        batch_size: NDArray[np.float64] | float = 1.0,
    ) -> NDArray[np.float64]:
        """Design matrix of rows of several LLMs: each row with its model's architecture.

        Parameters
        ----------
        n_in, n_out : ndarray
            Lengths of each row [tokens].
        architectures : mapping of str to Architecture, optional
            Architecture of each model label (physical models); with one entry it applies
            to every row.
        labels : ndarray of str, optional
            The model of each row (needed when ``architectures`` has several entries).
        batch_size : ndarray or float
            Requests decoded together, per row or for all rows.
        """
        n_in = np.asarray(n_in, dtype=float).ravel()
        n_out = np.asarray(n_out, dtype=float).ravel()
        if not self.is_physical:
            return self.design(n_in, n_out)
        archs = dict(architectures or {})
        bs = np.broadcast_to(np.asarray(batch_size, dtype=float), n_in.shape)
        if len(archs) == 1 and labels is None:
            return self.design(n_in, n_out, architecture=next(iter(archs.values())), batch_size=bs)
        if labels is None:
            raise SpecError(
                f"rows of {len(archs)} models need a label per row to pick each row's "
                "architecture; pass labels= (the data's 'model' column)."
            )
        X = np.empty((n_in.size, len(self.terms)), order="F")
        done = np.zeros(n_in.size, dtype=bool)
        for name, arch in archs.items():
            rows = np.flatnonzero(labels == name)
            X[rows] = self.design(n_in[rows], n_out[rows], architecture=arch, batch_size=bs[rows])
            done[rows] = True
        if not done.all():
            missing = sorted({str(v) for v in labels[~done]})
            raise SpecError(
                f"no architecture for the model(s) {missing[:5]} of the data; known: "
                f"{sorted(archs)}."
            )
        return X

    def theta_map(
        self, architecture: Architecture | None = None, *, batch_size: float = 1.0
    ) -> NDArray[np.float64] | None:
        """Matrix ``M`` (6 x n_params) with ``theta = M @ coefficients``, or None.

        None when the model is not a quadratic in (n_in, n_out): a physical model of an
        engine without a KV cache (cubic attention terms), with ``max_num_tokens`` (the
        prefill's share of a pass has a kink) or with a ``roofline`` (a maximum).
        """
        if not self.is_physical:
            if any(t.theta is None for t in self.terms):
                return None  # a term that is not a monomial (per_token_context)
            M = np.zeros((6, len(self.terms)))
            for j, term in enumerate(self.terms):
                M[int(term.theta), j] = 1.0  # type: ignore[arg-type]
            return M
        if (
            not self.kv_cache
            or architecture is None
            or self.max_num_tokens is not None
            or self.roofline is not None
        ):
            return None
        cols = []
        for j in range(len(self.terms)):

            def column(ni: NDArray[np.float64], no: NDArray[np.float64], j: int = j) -> NDArray:
                return self.design(ni, no, architecture=architecture, batch_size=batch_size)[:, j]

            coef = quadratic_coefficients(column)
            if coef is None:
                return None
            cols.append(coef)
        return np.column_stack(cols)


def _switched_on(value: object, when: bool) -> bool:
    """Whether an option's value includes a term: a bool equals ``when``; any other
    option (a GPU name) is on when set."""
    if isinstance(value, bool):
        return value == when
    return (value is not None) == when


_OPTIONS: tuple[str, ...] = tuple(f.name for f in fields(ModelSpec)[1:])
_BOOL_OPTIONS: tuple[str, ...] = tuple(
    f.name for f in fields(ModelSpec) if isinstance(f.default, bool)
)
_TAGGED: tuple[Term, ...] = tuple(t for t in TERMS.values() if t.tag)

#: The terms a command-line flag switches, in the order of the ModelSpec fields they set
#: (``sweetspot fit`` adds one flag per entry).
FLAGGED_TERMS: tuple[Term, ...] = tuple(
    t for opt in _BOOL_OPTIONS for t in TERMS.values() if t.flag and t.option == opt
)


def as_spec(
    model: str | ModelSpec,
    *,
    kv_cache: bool = True,
) -> ModelSpec:
    """Turn a model name (or a spec) plus the ``kv_cache`` shortcut into a :class:`ModelSpec`."""
    if isinstance(model, ModelSpec):
        if not kv_cache and model.kv_cache:
            raise SpecError(
                "kv_cache=False contradicts the ModelSpec passed as model (kv_cache=True); "
                "set the option in one place: ModelSpec(name=..., kv_cache=False)."
            )
        return model
    if not isinstance(model, str) or model not in MODEL_NAMES:
        raise SpecError(
            f"model must be one of {', '.join(repr(m) for m in MODEL_NAMES)} or a ModelSpec; "
            f"got {model!r}."
        )
    if model in FREE_MODELS:
        if not kv_cache:
            raise SpecError(
                f"kv_cache=False applies to the physical models ('flops', 'memory_flops'); the "
                f"free model {model!r} has no notion of a cache. A free polynomial cannot "
                "capture the cubic cache-off terms: use model='flops' with kv_cache=False."
            )
        return ModelSpec(name=model)  # type: ignore[arg-type]
    return ModelSpec(name=model, kv_cache=kv_cache)  # type: ignore[arg-type]
