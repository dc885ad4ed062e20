"""The energy-model family: what each model's design matrix is and how it maps onto theta.

Every model predicts the energy of one request ``E(n_in, n_out)`` [J] and is linear in
its coefficients, so a model is fully described by its *features* (the columns of the
design matrix) and the names and units of its coefficients. A :class:`ModelSpec` is
plain data (frozen); fitting lives in :mod:`sweetspot.fit` and never mutates a spec.

========================  =====================================================  ===========
name                      energy of one request                                   coefficients
========================  =====================================================  ===========
``linear``                c0 + c1 n_in + c2 n_out                                 free
``wilkins``               a0 n_in + a1 n_out + a2 n_in n_out                      free
``sweetspot``             t1 n_in^2 + t2 n_in n_out + t3 n_in + t4 n_out^2        free
                          + t5 + t6 n_out
``flops``                 e_pf F_prefill + e_df F_decode + e_req                  >= 0
``memory_flops``          ``flops`` + e_b B (bytes moved)                          >= 0
========================  =====================================================  ===========

``F_prefill``, ``F_decode`` and ``B`` come from :func:`sweetspot.counts.count_terms` for the
model's :class:`~sweetspot.architecture.Architecture`; with a KV cache they are exact
quadratics in (n_in, n_out), so every model except a cache-off physical model reduces to
the six-term form ``theta`` and the closed-form sweet spot applies.

References
----------
.. [1] Pizzini Cavagna et al., "Determining Energy Efficiency Sweet Spots in Production LLM
   Inference", arXiv:2602.05695 (ICPE 2026).
.. [2] G. Wilkins, S. Keshav, R. Mortier, "Offline Energy-Optimal LLM Serving: Workload-Based
   Energy Models for LLM Inference on Heterogeneous Systems" (2024).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from ._validation import check_choice
from .architecture import Architecture
from .exceptions import SpecError

__all__ = [
    "FREE_MODELS",
    "MODEL_NAMES",
    "PHYSICAL_MODELS",
    "THETA_NAMES",
    "THETA_UNITS",
    "ModelName",
    "ModelSpec",
    "as_spec",
]

ModelName = Literal["linear", "wilkins", "sweetspot", "flops", "memory_flops"]
MODEL_NAMES: tuple[str, ...] = ("linear", "wilkins", "sweetspot", "flops", "memory_flops")
FREE_MODELS: tuple[str, ...] = ("linear", "wilkins", "sweetspot")
PHYSICAL_MODELS: tuple[str, ...] = ("flops", "memory_flops")

THETA_NAMES: tuple[str, ...] = ("t1", "t2", "t3", "t4", "t5", "t6")
THETA_UNITS: tuple[str, ...] = ("J/token^2", "J/token^2", "J/token", "J/token^2", "J", "J/token")

_FREE_PARAMS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "linear": (("c0", "c1", "c2"), ("J", "J/token", "J/token")),
    "wilkins": (("a0", "a1", "a2"), ("J/token", "J/token", "J/token^2")),
    "sweetspot": (THETA_NAMES, THETA_UNITS),
}

_FORMULAS: dict[str, str] = {
    "linear": "E = c0 + c1 n_in + c2 n_out",
    "wilkins": "E = a0 n_in + a1 n_out + a2 n_in n_out",
    "sweetspot": "E = t1 n_in^2 + t2 n_in n_out + t3 n_in + t4 n_out^2 + t5 + t6 n_out",
}

# theta = M @ coefficients for the free models (rows t1..t6).
_FREE_THETA_MAP: dict[str, NDArray[np.float64]] = {
    "linear": np.array(
        [[0, 0, 0], [0, 0, 0], [0, 1, 0], [0, 0, 0], [1, 0, 0], [0, 0, 1]], dtype=float
    ),
    "wilkins": np.array(
        [[0, 0, 0], [0, 0, 1], [1, 0, 0], [0, 0, 0], [0, 0, 0], [0, 1, 0]], dtype=float
    ),
    "sweetspot": np.eye(6),
}


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
    """

    name: ModelName = "sweetspot"
    kv_cache: bool = True
    logits: Literal["last", "all"] = "last"
    split_phases: bool = True
    per_pass: bool = False
    eager_attention: bool = False

    def __post_init__(self) -> None:
        check_choice(self.name, "model", MODEL_NAMES)
        check_choice(self.logits, "logits", ("last", "all"))
        for opt in ("kv_cache", "split_phases", "per_pass", "eager_attention"):
            if not isinstance(getattr(self, opt), bool):
                raise SpecError(f"{opt} must be True or False; got {getattr(self, opt)!r}.")
        if self.name in FREE_MODELS and (
            not self.kv_cache
            or self.logits != "last"
            or not self.split_phases
            or self.per_pass
            or self.eager_attention
        ):
            raise SpecError(
                f"model {self.name!r} is a free polynomial and takes no physical options "
                "(kv_cache, logits, split_phases, per_pass, eager_attention); use "
                "model='flops' or 'memory_flops' for those."
            )

    # -- description -------------------------------------------------------------------
    @property
    def is_physical(self) -> bool:
        """True for ``flops`` and ``memory_flops`` (need an architecture, coefficients >= 0)."""
        return self.name in PHYSICAL_MODELS

    @property
    def param_names(self) -> tuple[str, ...]:
        """Coefficient names in design-matrix column order."""
        if not self.is_physical:
            return _FREE_PARAMS[self.name][0]
        names = ["j_per_flop_prefill", "j_per_flop_decode"] if self.split_phases else ["j_per_flop"]
        if self.eager_attention:
            names.append("j_per_score")
        if self.name == "memory_flops":
            names.append("j_per_byte")
        if self.per_pass:
            names.append("j_per_layer_pass")
        names.append("j_per_request")
        return tuple(names)

    @property
    def param_units(self) -> tuple[str, ...]:
        """Units of the coefficients, aligned with :attr:`param_names`."""
        if not self.is_physical:
            return _FREE_PARAMS[self.name][1]
        units = {
            "j_per_flop_prefill": "J/FLOP",
            "j_per_flop_decode": "J/FLOP",
            "j_per_flop": "J/FLOP",
            "j_per_byte": "J/B",
            "j_per_score": "J/score",
            "j_per_layer_pass": "J/(layer pass)",
            "j_per_request": "J",
        }
        return tuple(units[n] for n in self.param_names)

    @property
    def formula(self) -> str:
        """Human-readable formula of the model."""
        if not self.is_physical:
            return _FORMULAS[self.name]
        terms = (
            ["j_per_flop_prefill F_prefill", "j_per_flop_decode F_decode"]
            if self.split_phases
            else ["j_per_flop F"]
        )
        if self.eager_attention:
            terms.append("j_per_score S_scores")
        if self.name == "memory_flops":
            terms.append("j_per_byte B")
        if self.per_pass:
            terms.append("j_per_layer_pass L n_passes")
        terms.append("j_per_request")
        return "E = " + " + ".join(terms)

    @property
    def label(self) -> str:
        """Short label with the options, e.g. ``flops[cache=off,logits=all]``."""
        if not self.is_physical:
            return self.name
        opts = [f"cache={'on' if self.kv_cache else 'off'}"]
        if self.logits != "last":
            opts.append(f"logits={self.logits}")
        if not self.split_phases:
            opts.append("no-split")
        if self.per_pass:
            opts.append("per-pass")
        if self.eager_attention:
            opts.append("eager-attn")
        return f"{self.name}[{','.join(opts)}]"

    def to_dict(self) -> dict[str, object]:
        """JSON-safe dict of the spec (inverse of ``ModelSpec(**d)``)."""
        return {
            "name": self.name,
            "kv_cache": self.kv_cache,
            "logits": self.logits,
            "split_phases": self.split_phases,
            "per_pass": self.per_pass,
            "eager_attention": self.eager_attention,
        }

    # -- design matrices -----------------------------------------------------------------
    def design(
        self,
        n_in: NDArray[np.float64],
        n_out: NDArray[np.float64],
        *,
        architecture: Architecture | None = None,
        batch_size: NDArray[np.float64] | float = 1.0,
    ) -> NDArray[np.float64]:
        """Design matrix, shape ``(len(n_in), n_params)``, for validated 1-D float lengths."""
        n_in = np.asarray(n_in, dtype=float).ravel()
        n_out = np.asarray(n_out, dtype=float).ravel()
        if not self.is_physical:
            # column-major: each column contiguous, as the QR in sweetspot.fit wants
            X = np.empty((n_in.size, 6 if self.name == "sweetspot" else 3), order="F")
            if self.name == "sweetspot":
                np.multiply(n_in, n_in, out=X[:, 0])
                np.multiply(n_in, n_out, out=X[:, 1])
                X[:, 2] = n_in
                np.multiply(n_out, n_out, out=X[:, 3])
                X[:, 4] = 1.0
                X[:, 5] = n_out
            elif self.name == "linear":
                X[:, 0] = 1.0
                X[:, 1] = n_in
                X[:, 2] = n_out
            else:  # wilkins
                X[:, 0] = n_in
                X[:, 1] = n_out
                np.multiply(n_in, n_out, out=X[:, 2])
            return X
        if architecture is None:
            raise SpecError(
                f"model {self.name!r} needs the architecture of the measured LLM; pass "
                "architecture='llama-2-7b' (a preset name), an Architecture, or a mapping "
                "{model name: architecture} for a pooled fit."
            )
        from .counts import count_terms  # local: counts is a sibling pure module

        bs = np.broadcast_to(np.asarray(batch_size, dtype=float), n_in.shape)
        c = count_terms(
            architecture,
            n_in,
            n_out,
            kv_cache=self.kv_cache,
            logits=self.logits,
            batch_size=bs,
            continuous=True,
        )
        cols: list[NDArray[np.float64]] = (
            [c.prefill_flops, c.decode_flops] if self.split_phases else [c.total_flops]
        )
        if self.eager_attention:
            cols.append(c.attention_scores)
        if self.name == "memory_flops":
            cols.append(c.total_bytes)
        if self.per_pass:
            cols.append(c.n_passes * float(architecture.n_layers))
        cols.append(np.ones_like(n_in))
        return np.column_stack([np.broadcast_to(col, n_in.shape) for col in cols]).astype(float)

    def theta_map(
        self, architecture: Architecture | None = None, *, batch_size: float = 1.0
    ) -> NDArray[np.float64] | None:
        """Matrix ``M`` (6 x n_params) with ``theta = M @ coefficients``, or None.

        None when the model is not a quadratic in (n_in, n_out): a physical model of an
        engine without a KV cache (cubic attention terms).
        """
        if not self.is_physical:
            return _FREE_THETA_MAP[self.name].copy()
        if not self.kv_cache or architecture is None:
            return None
        from .counts import quadratic_coefficients

        cols = []
        for j in range(len(self.param_names)):

            def column(ni: NDArray[np.float64], no: NDArray[np.float64], j: int = j) -> NDArray:
                return self.design(ni, no, architecture=architecture, batch_size=batch_size)[:, j]

            coef = quadratic_coefficients(column)
            if coef is None:
                return None
            cols.append(coef)
        return np.column_stack(cols)


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
