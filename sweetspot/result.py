"""FitResult: the output of :func:`sweetspot.fit`, and the input of everything downstream.

A :class:`FitResult` is frozen plain data: the model spec, the fitted coefficients with
standard errors and units, the statistics of the fit and the data range. It predicts
energy, maps onto the six-term ``theta`` where the model allows it, prints an
lmfit-style report, and round-trips exactly through JSON-safe dicts.
"""

from __future__ import annotations

import functools
import html
import json
import math
import os
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._validation import as_lengths
from .architecture import Architecture
from .exceptions import ExtrapolationWarning, SpecError, TableError
from .models import THETA_NAMES, THETA_UNITS, ModelSpec
from .optimum import N_IN_GRID
from .serving import GPUSpec, ServingConfig, concurrency, get_gpu

__all__ = ["FORMAT_VERSION", "LOSSES", "BoundFit", "FitResult"]

#: Version of the dict / JSON layout written by :meth:`FitResult.to_dict`.
FORMAT_VERSION = 1

_LOSS_TEXT = {
    "relative": "relative least squares (residuals weighted by 1/E)",
    "absolute": "absolute least squares",
    "mape": "exact minimum of the mean absolute percentage error (linear programme)",
    "published": "coefficients as reported by their source (not refitted by sweetspot)",
}

#: The fitting losses (``loss=`` of :func:`sweetspot.fit`); a saved fit may also say
#: ``"published"`` (coefficients reported by their source).
LOSSES: tuple[str, ...] = ("relative", "absolute", "mape")


_FIT_KEYS = frozenset(
    {
        "format",
        "version",
        "spec",
        "loss",
        "params",
        "stderr",
        "units",
        "theta",
        "architectures",
        "batch_size",
        "batch_range",
        "n_rows",
        "mape",
        "max_ape",
        "rmse",
        "r2",
        "condition_number",
        "n_in_range",
        "n_out_range",
        "models",
        "fit_warnings",
        "meta",
    }
)


def _brief(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:50] + f"... ({len(text)} characters)"


class _Validator:
    """JSON-type checks for saved fits and tables: each raises TableError naming the field."""

    @staticmethod
    def number(
        x: Any, name: str, *, none_ok: bool = False, nonneg: bool = False, positive: bool = False
    ) -> float:
        if x is None and none_ok:
            return float("nan")
        if isinstance(x, bool) or not isinstance(x, (int, float)):
            raise TableError(f"saved field {name!r} must be a number; got {_brief(x)}.")
        try:
            val = float(x)
        except OverflowError:
            raise TableError(f"saved field {name!r} is too large: {_brief(x)}.") from None
        if not math.isfinite(val):
            raise TableError(f"saved field {name!r} must be finite; got {_brief(x)}.")
        if (nonneg and val < 0) or (positive and val <= 0):
            kind = "positive" if positive else "non-negative"
            raise TableError(f"saved field {name!r} must be {kind}; got {_brief(x)}.")
        return val

    @staticmethod
    def count(x: Any, name: str) -> int:
        if type(x) is not int or x < 0:
            raise TableError(
                f"saved field {name!r} must be a non-negative integer; got {_brief(x)}."
            )
        return x

    @staticmethod
    def text(x: Any, name: str) -> str:
        if not isinstance(x, str):
            raise TableError(f"saved field {name!r} must be a string; got {_brief(x)}.")
        return x

    @staticmethod
    def list(x: Any, name: str) -> list[Any]:
        if not isinstance(x, list):
            raise TableError(f"saved field {name!r} must be a list; got {_brief(x)}.")
        return x

    @staticmethod
    def mapping(x: Any, name: str) -> dict[str, Any]:
        if not isinstance(x, dict):
            raise TableError(f"saved field {name!r} must be an object; got {_brief(x)}.")
        return x

    def pair(self, x: Any, name: str) -> tuple[float, float]:
        items = self.list(x, name)
        if len(items) != 2:
            raise TableError(f"saved field {name!r} must hold 2 numbers; got {_brief(x)}.")
        lo = self.number(items[0], name, none_ok=True)
        hi = self.number(items[1], name, none_ok=True)
        return (lo, hi)


def load_json_text(text: str, what: str) -> Any:
    """Parse JSON strictly: no NaN/Infinity literals, no overflowing numbers, no runaway
    nesting; every failure is a :class:`TableError` naming ``what``."""

    def bad_constant(name: str) -> Any:
        raise TableError(
            f"{what} holds the non-standard JSON number {name}; it was not written "
            "by sweetspot (which never writes NaN or Infinity)."
        )

    def parse_float(token: str) -> float:
        val = float(token)
        if not math.isfinite(val):
            raise TableError(f"{what} holds the number {token[:40]}, which overflows a float.")
        return val

    try:
        return json.loads(text, parse_constant=bad_constant, parse_float=parse_float)
    except json.JSONDecodeError as exc:
        raise TableError(
            f"{what} is not valid JSON ({exc.msg} at line {exc.lineno}); the file may be "
            "truncated: re-save or rebuild it."
        ) from exc
    except RecursionError:
        raise TableError(f"{what} is nested too deeply to be a sweetspot file.") from None


def read_json_file(path: str, what: str) -> Any:
    """Read a UTF-8 JSON file strictly (see :func:`load_json_text`)."""
    try:
        with open(path, encoding="utf-8") as fh:
            text = fh.read()
    except UnicodeDecodeError:
        raise TableError(
            f"{what} {path!r} is not UTF-8 JSON text (a binary file?); sweetspot reads fits and "
            "tables only as JSON, never as pickles."
        ) from None
    except OSError as exc:
        raise TableError(f"cannot read {what} {path!r}: {exc}") from exc
    return load_json_text(text, f"{what} {path!r}")


def _batch_range(v: _Validator, d: Mapping[str, Any]) -> tuple[float, float]:
    """A saved fit's batch range (files written before it was recorded: the batch size)."""
    if "batch_range" not in d:
        bs = v.number(d.get("batch_size", 1.0), "batch_size", none_ok=True, positive=True)
        return (bs, bs)
    lo, hi = v.pair(d["batch_range"], "batch_range")
    if not (math.isfinite(lo) and math.isfinite(hi) and 0 < lo <= hi):
        raise TableError(
            f"saved field 'batch_range' must be 0 < lo <= hi; got {_brief(d['batch_range'])}."
        )
    return (lo, hi)


def _nonpositive(
    predict: Callable[[NDArray[np.float64], NDArray[np.float64]], NDArray[np.float64]],
    n_in_range: tuple[float, float],
    n_out_range: tuple[float, float],
    points: int,
    where: str,
) -> str | None:
    """Why ``predict`` is not a physical energy over the box (some prediction ``<= 0`` J on a
    ``points x points`` grid log-spaced over it, corners included), or None; None too for a
    box without finite positive bounds."""
    lo_i, hi_i = n_in_range
    lo_o, hi_o = n_out_range
    if not all(math.isfinite(v) and v > 0 for v in (lo_i, hi_i, lo_o, hi_o)):
        return None
    ni, no = np.meshgrid(
        np.geomspace(lo_i, hi_i, points), np.geomspace(lo_o, hi_o, points), indexing="ij"
    )
    e = predict(ni, no)
    bad = ~(e > 0)
    if not np.any(bad):
        return None
    k = int(np.argmin(np.where(bad, e, np.inf)))
    return (
        f"predicted energy <= 0 J at {int(bad.sum())} of {bad.size} points of the fitted "
        f"range{where} (n_in {lo_i:g}..{hi_i:g}, n_out {lo_o:g}..{hi_o:g}), e.g. "
        f"E({ni.flat[k]:.0f}, {no.flat[k]:.0f}) = {e.flat[k]:.3g} J: not a physical model of "
        "this data"
    )


def _float_or_none(x: float) -> float | None:
    return None if (x is None or not math.isfinite(x)) else float(x)


@dataclass(frozen=True, slots=True, kw_only=True)
class FitResult:
    """A fitted energy model.

    Attributes
    ----------
    spec : ModelSpec
        The model family and its options.
    loss : str
        ``"relative"``, ``"absolute"`` or ``"mape"``.
    param_names, values, stderrs, units : tuple
        Coefficients in design order, their standard errors (NaN where undefined, e.g. for
        the L1 ``mape`` loss or a coefficient held at its bound 0) and their units.
    architectures : tuple of (str, Architecture)
        The architectures the physical model was fitted on, by model name (one entry for a
        single-model fit, several for a pooled fit; empty for the free models).
    batch_size : float
        Requests decoded together in the fitted rows, when they share one batch size (1 when
        the data had none); NaN when the rows span several (``batch_range``): a physical fit
        then predicts only at a batch size you name, never silently at one.
    batch_range : tuple of float
        Smallest and largest batch size of the fitted rows.
    n_rows : int
        Number of measurement rows fitted.
    mape, max_ape : float
        In-sample mean and maximum absolute percentage error [%].
    rmse : float
        Root-mean-square error of energy per request [J].
    r2 : float
        Coefficient of determination of energy per request.
    condition_number : float
        2-norm condition number of the column-scaled (weighted) design matrix.
    n_in_range, n_out_range : tuple of float
        Smallest and largest lengths in the fitted data [tokens].
    models : tuple of str
        Values of the ``model`` column of the fitted data (empty if absent).
    fit_warnings : tuple of str
        Messages of the warnings raised while fitting (also shown by :meth:`report`).
    meta : mapping
        Free-form provenance (source, gpu, engine, ...), JSON-safe.
    """

    spec: ModelSpec
    loss: str
    param_names: tuple[str, ...]
    values: tuple[float, ...]
    stderrs: tuple[float, ...]
    units: tuple[str, ...]
    architectures: tuple[tuple[str, Architecture], ...] = ()
    batch_size: float = 1.0
    batch_range: tuple[float, float] = (1.0, 1.0)
    n_rows: int = 0
    mape: float = float("nan")
    max_ape: float = float("nan")
    rmse: float = float("nan")
    r2: float = float("nan")
    condition_number: float = float("nan")
    n_in_range: tuple[float, float] = (float("nan"), float("nan"))
    n_out_range: tuple[float, float] = (float("nan"), float("nan"))
    models: tuple[str, ...] = ()
    fit_warnings: tuple[str, ...] = ()
    meta: Mapping[str, Any] = field(default_factory=dict)

    # -- parameters ------------------------------------------------------------------------
    @property
    def model(self) -> str:
        """Name of the model family."""
        return self.spec.name

    @property
    def params(self) -> Mapping[str, float]:
        """Read-only mapping of coefficient name -> value, in design order."""
        return MappingProxyType(dict(zip(self.param_names, self.values, strict=True)))

    @property
    def stderr(self) -> Mapping[str, float]:
        """Read-only mapping of coefficient name -> standard error (NaN where undefined)."""
        return MappingProxyType(dict(zip(self.param_names, self.stderrs, strict=True)))

    @property
    def coef(self) -> NDArray[np.float64]:
        """Coefficients as a new float64 array, in design order."""
        return np.array(self.values, dtype=float)

    @property
    def is_pooled(self) -> bool:
        """True when fitted across several LLMs (physical model, hardware constants)."""
        return len(self.architectures) > 1

    @property
    def architecture(self) -> Architecture | None:
        """The single architecture of a one-model physical fit (None otherwise)."""
        return self.architectures[0][1] if len(self.architectures) == 1 else None

    # -- theta -----------------------------------------------------------------------------
    @property
    def theta(self) -> NDArray[np.float64] | None:
        """The six coefficients ``t1..t6`` of the canonical form, or None.

        Defined for the polynomial free models, and for the physical models of a KV-cached
        engine fitted on a single architecture. None for a pooled fit (use
        :meth:`theta_for`), for cache-off physical models, whose energy is cubic, and for
        ``per_token_context``, whose ``n_out / (n_in + n_out)`` is not a polynomial.
        """
        if self.spec.is_physical and (self.architecture is None or self.several_batch_sizes):
            return None
        return self.theta_for(self.architecture) if self.spec.is_physical else self._theta_free()

    @property
    def several_batch_sizes(self) -> bool:
        """True when the fitted rows span several batch sizes (see ``batch_range``)."""
        return not math.isfinite(self.batch_size)

    def _batch(self, batch_size: float | None) -> float:
        """The batch size to evaluate a physical model at: the caller's, or the fitted one."""
        if batch_size is not None:
            return float(batch_size)
        if self.several_batch_sizes:
            lo, hi = self.batch_range
            raise SpecError(
                f"this {self.spec.name!r} fit covers rows at batch sizes {lo:g}..{hi:g}; say "
                "which one to predict at: batch_size=... (requests decoded together). It is "
                "never assumed. Or pass serving=ServingConfig(...) (and gpu=...) to take it "
                "from the concurrency rule of sweetspot.serving."
            )
        return self.batch_size

    @property
    def gpu(self) -> str | None:
        """Key of the GPU the fit was made on (:data:`sweetspot.serving.GPUS`), if known:
        the spec's ``roofline`` GPU, else ``meta["gpu_key"]``."""
        if self.spec.roofline is not None:
            return self.spec.roofline
        key = self.meta.get("gpu_key")
        return str(key) if isinstance(key, str) and key else None

    def _serving_inputs(
        self,
        arch: Architecture,
        ni: NDArray[np.float64],
        no: NDArray[np.float64],
        batch_size: ArrayLike | None,
        serving: ServingConfig | None,
        gpu: str | GPUSpec | None,
        warn: bool,
    ) -> tuple[ModelSpec, Architecture, NDArray[np.float64]]:
        """The spec, architecture and per-point batch size a physical prediction uses."""
        spec = self.spec
        target = None if gpu is None else get_gpu(gpu)
        fitted = self.gpu
        if target is not None and fitted is not None and target.key != fitted and warn:
            warnings.warn(
                f"extrapolating to another GPU: these constants were fitted on {fitted}, and "
                f"{target.key} differs in efficiency, memory and power; the prediction is an "
                "extrapolation, not backed by measurements there.",
                ExtrapolationWarning,
                stacklevel=3,
            )
        if spec.roofline is not None and target is not None:
            spec = replace(spec, roofline=target.key)  # the roofline of the target GPU
        if serving is not None:
            if batch_size is not None:
                raise SpecError(
                    "pass batch_size= or serving=, not both: serving= computes the batch "
                    "size of every point from the concurrency rule."
                )
            if not isinstance(serving, ServingConfig):
                raise SpecError(
                    f"serving must be a sweetspot.ServingConfig; got {type(serving).__name__}."
                )
            where = target if target is not None else fitted
            if where is None:
                raise SpecError(
                    "serving= needs the GPU whose memory bounds the batch: pass gpu='h100-sxm' "
                    "(a key of sweetspot.serving.GPUS); this fit does not record its GPU."
                )
            arch = serving.architecture(arch)
            bs = concurrency(arch, ni + no, gpu=where, serving=serving)
            if spec.max_num_tokens is not None:
                spec = replace(spec, max_num_tokens=serving.max_num_tokens)
            if warn and serving.max_seq_len is not None and np.any(ni + no > serving.max_seq_len):
                warnings.warn(
                    f"n_in + n_out up to {float(np.max(ni + no)):g} tokens exceeds the engine's "
                    f"max_seq_len {serving.max_seq_len}: such requests would be refused.",
                    ExtrapolationWarning,
                    stacklevel=3,
                )
            if warn and serving.tp != 1:
                warnings.warn(
                    f"tp = {serving.tp}: the constants are per GPU at tp = 1; the cost of the "
                    "all-reduce between GPUs is not modelled, so this is an extrapolation.",
                    ExtrapolationWarning,
                    stacklevel=3,
                )
        else:
            bs = np.broadcast_to(np.asarray(self._batch_array(batch_size), dtype=float), ni.shape)
        if not np.all(np.isfinite(bs) & (bs >= 1)):
            raise SpecError(
                f"batch_size must be >= 1 (requests decoded together); got "
                f"{float(np.min(bs)) if bs.size else 'none'}."
            )
        lo, hi = self.batch_range
        if warn and bs.size and (float(bs.min()) < lo or float(bs.max()) > hi):
            b_lo, b_hi = float(bs.min()), float(bs.max())
            shown = f"{b_lo:g}" if b_lo == b_hi else f"{b_lo:g}..{b_hi:g}"
            warnings.warn(
                f"extrapolating to batch size {shown}: the fit covers batch sizes "
                f"{lo:g}..{hi:g}. Predictions there are not backed by measurements; pass "
                "warn=False to silence.",
                ExtrapolationWarning,
                stacklevel=3,
            )
        return spec, arch, np.array(bs, dtype=float)

    def _batch_array(self, batch_size: ArrayLike | None) -> NDArray[np.float64] | float:
        """The caller's batch size(s) as floats, or the fitted one (never assumed)."""
        if batch_size is None:
            return self._batch(None)
        arr = np.asarray(batch_size)
        if arr.dtype == bool or arr.dtype.kind not in "iuf":
            raise SpecError(
                f"batch_size must be a number or an array of numbers >= 1; got {batch_size!r}."
            )
        return np.asarray(arr, dtype=float)

    def _theta_free(self) -> NDArray[np.float64] | None:
        m = self.spec.theta_map()
        return None if m is None else np.asarray(m @ self.coef, dtype=float)

    def theta_for(
        self, architecture: Architecture | str | None, *, batch_size: float | None = None
    ) -> NDArray[np.float64] | None:
        """Theta of this (physical) fit for an architecture, possibly one never measured.

        Returns None when the model has no quadratic form (engine without a KV cache).

        Raises
        ------
        SpecError
            The fit covers several batch sizes and ``batch_size`` is not given.
        """
        if not self.spec.is_physical:
            return self._theta_free()
        arch = self._resolve_architecture(architecture)
        m = self.spec.theta_map(arch, batch_size=self._batch(batch_size))
        return None if m is None else np.asarray(m @ self.coef, dtype=float)

    def _resolve_architecture(self, architecture: Architecture | str | None) -> Architecture:
        if isinstance(architecture, Architecture):
            return architecture
        if architecture is None:
            if self.architecture is not None:
                return self.architecture
            names = ", ".join(n for n, _ in self.architectures)
            raise SpecError(
                f"this {self.spec.name!r} fit is pooled over several models ({names}); say "
                "which architecture to predict for: architecture='llama-2-7b' or an "
                "Architecture."
            )
        if isinstance(architecture, str):
            for name, arch in self.architectures:
                if name == architecture or arch.name == architecture:
                    return arch
            from .architecture import get_architecture

            return get_architecture(architecture)
        raise SpecError(
            f"architecture must be an Architecture, a preset name or None; got {architecture!r}."
        )

    # -- prediction ------------------------------------------------------------------------
    def predict(
        self,
        n_in: ArrayLike,
        n_out: ArrayLike,
        *,
        architecture: Architecture | str | None = None,
        batch_size: ArrayLike | None = None,
        serving: ServingConfig | None = None,
        gpu: str | GPUSpec | None = None,
        warn: bool = True,
    ) -> NDArray[np.float64]:
        """Predicted energy of one request [J], broadcast over ``n_in`` and ``n_out``.

        Parameters
        ----------
        n_in, n_out : array_like
            Input and output lengths [tokens] (positive; real values evaluate the model
            between integers, e.g. at the continuous sweet spot).
        architecture : Architecture or str, optional
            Physical models: the LLM to predict for (defaults to the fitted one; required
            for a pooled fit; any architecture works, measured or not).
        batch_size : float or array_like, optional
            Physical models: requests decoded together, one value or one per point
            (broadcast with the lengths). Default: the fitted data's single batch size; a
            fit over rows at several batch sizes refuses to guess (``SpecError``).
        serving : ServingConfig, optional
            Physical models: take each point's batch size from the concurrency rule
            (:func:`sweetspot.serving.concurrency`) of this engine configuration on
            ``gpu``; a spec with ``max_num_tokens`` takes the configuration's.
        gpu : str or GPUSpec, optional
            Physical models: the GPU to predict on (its memory bounds the batch with
            ``serving``; its roofline prices ``static_power_w``). Default: the fit's own
            (:attr:`gpu`). Another GPU than the fit's warns: an extrapolation.
        warn : bool
            Emit :class:`~sweetspot.exceptions.ExtrapolationWarning` for lengths, batch
            sizes or a GPU outside what was fitted.

        Raises
        ------
        SpecError
            A fit over several batch sizes without ``batch_size``/``serving``, both given,
            ``serving`` without a known GPU, or batch options for a free model.
        """
        ni = as_lengths(n_in, "n_in", integer=False)
        no = as_lengths(n_out, "n_out", integer=False)
        ni, no = np.broadcast_arrays(ni, no)
        shape = ni.shape
        if warn:
            self._check_range(ni, no)
        if not self.spec.is_physical:
            if serving is not None or gpu is not None:
                raise SpecError(
                    f"the free model {self.spec.name!r} has no batch or GPU in it; serving= and "
                    "gpu= apply to the physical models."
                )
            X = self.spec.design(ni.ravel(), no.ravel())
        else:
            arch = self._resolve_architecture(architecture)
            spec, arch, bs = self._serving_inputs(arch, ni, no, batch_size, serving, gpu, warn)
            bs = np.broadcast_to(bs, shape).ravel()
            X = spec.design(ni.ravel(), no.ravel(), architecture=arch, batch_size=bs)
        return np.asarray(X @ self.coef, dtype=float).reshape(shape)

    def bind(
        self,
        architecture: Architecture | str | None = None,
        *,
        batch_size: float | None = None,
        serving: ServingConfig | None = None,
        gpu: str | GPUSpec | None = None,
    ) -> BoundFit:
        """This fit for one architecture on one GPU and serving configuration.

        The result predicts energy from the lengths alone, so every function that takes a
        fit (:func:`sweetspot.sweet_spot`, :func:`sweetspot.recommend_max_tokens`,
        :func:`sweetspot.plan.max_input_tokens`...) takes it too: a pooled fit becomes a
        model of an LLM that was never measured.

        Parameters
        ----------
        architecture, batch_size, serving, gpu
            As in :meth:`predict`.

        Returns
        -------
        BoundFit

        Raises
        ------
        SpecError
            A free model, or the options :meth:`predict` refuses.
        """
        if not self.spec.is_physical:
            raise SpecError(
                f"bind() applies to physical models (an architecture to bind); {self.spec.name!r}"
                " is a free polynomial of one measured LLM: use it as it is."
            )
        arch = self._resolve_architecture(architecture)
        if serving is None and batch_size is None:
            self._batch(None)  # refuses to guess a batch size
        target = None if gpu is None else get_gpu(gpu).key
        # check the options once, loudly (the bound model predicts without warnings)
        self._serving_inputs(
            arch, np.array([64.0]), np.array([64.0]), batch_size, serving, target, True
        )
        return BoundFit(
            fit=self, architecture=arch, batch_size=batch_size, serving=serving, gpu=target
        )

    def predict_frame(self, data: Any) -> NDArray[np.float64]:
        """Predicted energy of one request [J] for every row of a measurement frame.

        Each row is predicted at its own ``batch_size`` (physical models; the fitted one
        where the frame has no such column) and, for a pooled fit, for the architecture
        named in its ``model`` column. No range warnings: use it to compare a fit with data,
        as parity and residual plots do.

        Parameters
        ----------
        data : pandas.DataFrame
            Rows with ``n_in`` and ``n_out`` (a validated frame from
            :func:`sweetspot.read_measurements`, or any frame with those columns).

        Returns
        -------
        ndarray
            One energy per row [J].

        Raises
        ------
        SpecError
            A pooled fit and no ``model`` column to say which architecture each row is.
        """
        ni = as_lengths(data["n_in"].to_numpy(), "n_in", integer=False)
        no = as_lengths(data["n_out"].to_numpy(), "n_out", integer=False)
        if not self.spec.is_physical:
            return self.predict(ni, no, warn=False)
        columns = set(data.columns)
        batch = (
            data["batch_size"].to_numpy(dtype=float)
            if "batch_size" in columns
            else self._batch(None)
        )
        labels = None
        if self.is_pooled:
            if "model" not in columns:
                raise SpecError(
                    "this fit is pooled over several models but the data has no 'model' column "
                    "to say which architecture each row is; add one."
                )
            labels = data["model"].astype(str).to_numpy(dtype=object)
            archs = {str(m): self._resolve_architecture(str(m)) for m in set(labels)}
        else:
            archs = {"": self._resolve_architecture(None)}
        X = self.spec.design_rows(ni, no, architectures=archs, labels=labels, batch_size=batch)
        return np.asarray(X @ self.coef, dtype=float)

    def _check_range(self, ni: NDArray[np.float64], no: NDArray[np.float64]) -> None:
        lo_i, hi_i = self.n_in_range
        lo_o, hi_o = self.n_out_range
        if not all(math.isfinite(v) for v in (lo_i, hi_i, lo_o, hi_o)) or ni.size == 0:
            return
        out_i = (ni < lo_i) | (ni > hi_i)
        out_o = (no < lo_o) | (no > hi_o)
        if np.any(out_i) or np.any(out_o):
            parts = []
            if np.any(out_i):
                parts.append(f"n_in in [{ni.min():g}, {ni.max():g}] vs fitted [{lo_i:g}, {hi_i:g}]")
            if np.any(out_o):
                parts.append(
                    f"n_out in [{no.min():g}, {no.max():g}] vs fitted [{lo_o:g}, {hi_o:g}]"
                )
            warnings.warn(
                "extrapolating outside the fitted range: " + "; ".join(parts) + ". "
                "Predictions there are not backed by measurements; pass warn=False to silence.",
                ExtrapolationWarning,
                stacklevel=3,
            )

    def non_physical(self, *, points: int = 33) -> str | None:
        """Why the model's energy is not physical over its fitted box, or None if it is.

        The energy of one request is predicted on a ``points x points`` grid, log-spaced
        over the fitted n_in and n_out ranges (corners included), for every fitted
        architecture of a pooled fit and at both ends of the fitted batch sizes; any
        prediction ``<= 0`` J is not physical. None for a fit without ranges.
        """
        archs: list[Architecture | None] = [None]
        batches: list[float | None] = [None]
        if self.spec.is_physical:
            archs = [a for _, a in self.architectures] or [None]
            lo_b, hi_b = self.batch_range
            batches = [lo_b] if lo_b == hi_b else [lo_b, hi_b]
        for arch in archs:
            for bs in batches:
                where = f" for {arch.name}" if arch is not None and len(archs) > 1 else ""
                why = _nonpositive(
                    functools.partial(self.predict, architecture=arch, batch_size=bs, warn=False),
                    self.n_in_range,
                    self.n_out_range,
                    points,
                    where,
                )
                if why is not None:
                    return why
        return None

    # -- reporting -------------------------------------------------------------------------
    def report(self) -> str:
        """Fit report in fixed sections: Model, Data, Fit statistics, Parameters, Sweet spot,
        Warnings."""
        lines = ["[[Model]]", f"    {self.spec.label}: {self.spec.formula}"]
        lines.append(f"    loss: {_LOSS_TEXT.get(self.loss, self.loss)}")
        if self.architectures:
            archs = ", ".join(
                f"{n} ({a.name})" if n and a.name and a.name != n else (n or a.name)
                for n, a in self.architectures
            )
            lines.append(f"    architecture{'s (pooled)' if self.is_pooled else ''}: {archs}")
        lines += [
            "[[Data]]",
            f"    rows: {self.n_rows}",
            f"    n_in range: {self.n_in_range[0]:g} .. {self.n_in_range[1]:g} [tokens]",
            f"    n_out range: {self.n_out_range[0]:g} .. {self.n_out_range[1]:g} [tokens]",
        ]
        if self.models:
            lines.append(f"    models: {', '.join(self.models)}")
        for key in sorted(self.meta):
            lines.append(f"    {key}: {self.meta[key]}")

        def stat(value: float, text: str) -> str:
            return text.format(value) if math.isfinite(value) else "n/a"

        lines += [
            "[[Fit statistics]]",
            f"    MAPE: {stat(self.mape, '{:.3f} %')}",
            f"    max APE: {stat(self.max_ape, '{:.3f} %')}",
            f"    RMSE: {stat(self.rmse, '{:.6g} [J]')}",
            f"    R^2: {stat(self.r2, '{:.6f}')}",
            f"    condition number (scaled design): {stat(self.condition_number, '{:.3g}')}",
            "[[Parameters]]",
        ]
        width = max(len(n) for n in self.param_names)
        for name, val, se, unit in zip(
            self.param_names, self.values, self.stderrs, self.units, strict=True
        ):
            if math.isfinite(se):
                rel = f" ({abs(se / val) * 100:.2f}%)" if val != 0 else ""
                lines.append(f"    {name:<{width}} = {val: .6e} +/- {se:.3e}{rel} [{unit}]")
            else:
                lines.append(f"    {name:<{width}} = {val: .6e} +/- n/a [{unit}]")
        theta = None if self.is_pooled else self.theta
        if self.spec.is_physical and theta is not None:
            lines.append("    theta (implied):")
            for name, val, unit in zip(THETA_NAMES, theta, THETA_UNITS, strict=True):
                lines.append(f"      {name} = {val: .6e} [{unit}]")
        lines.append("[[Sweet spot]]")
        lines += self._sweet_spot_lines()
        lines.append("[[Warnings]]")
        lines += [f"    {w}" for w in self.fit_warnings] or ["    none"]
        return "\n".join(lines)

    def _sweet_spot_lines(self) -> list[str]:
        from .optimum import sweet_spot

        if self.is_pooled:
            return ["    pooled fit: use res.theta_for(architecture) or optimal_n_out(...)"]
        lo, hi = self.n_in_range
        grid: list[float] = [float(n) for n in N_IN_GRID if lo <= n <= hi] or [
            float(round(lo)),
            float(round(hi)),
        ]
        n_out_max = 2.0**20
        try:
            sp = sweet_spot(self, np.asarray(grid, dtype=float), n_out_max=n_out_max, warn=False)
        except Exception as exc:  # report must never fail; say why instead
            return [f"    not available: {exc}"]
        out = ["    n_in    n_out*      J/token    tokens/J"]
        lo_o, hi_o = self.n_out_range
        for ni, no, e, interior, extrap in zip(
            grid, sp.n_out, sp.energy_per_token_j, sp.interior, sp.extrapolated, strict=True
        ):
            tags = []
            if not interior:
                end = "n_out = 1" if no <= 1.0 else f"n_out_max = {n_out_max:.0f}"
                tags.append(f"boundary: {end}, no interior sweet spot")
            if extrap:
                tags.append(f"extrapolated: outside the fitted n_out {lo_o:g}..{hi_o:g}")
            tag = f"  ({'; '.join(tags)})" if tags else ""
            if not e > 0:
                out.append(f"    {ni:<7g} {no:<10.1f} non-physical (energy <= 0){tag}")
                continue
            out.append(f"    {ni:<7g} {no:<10.1f} {e:<10.4g} {1 / e:<10.4g}{tag}")
        return out

    def __str__(self) -> str:
        return self.report()

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><td>{html.escape(n)}</td><td>{v:.6e}</td><td>"
            f"{'n/a' if not math.isfinite(s) else f'{s:.3e}'}</td><td>{html.escape(u)}</td></tr>"
            for n, v, s, u in zip(
                self.param_names, self.values, self.stderrs, self.units, strict=True
            )
        )
        stats = (
            f"MAPE {self.mape:.3f} %, max APE {self.max_ape:.3f} %, RMSE {self.rmse:.4g} J, "
            f"R<sup>2</sup> {self.r2:.5f}, {self.n_rows} rows"
        )
        warn = "".join(f"<li>{html.escape(w)}</li>" for w in self.fit_warnings)
        return (
            f"<div><b>FitResult</b> {html.escape(self.spec.label)}: "
            f"<code>{html.escape(self.spec.formula)}</code><br>{stats}"
            "<table><tr><th>parameter</th><th>value</th><th>stderr</th><th>unit</th></tr>"
            f"{rows}</table>{f'<ul>{warn}</ul>' if warn else ''}</div>"
        )

    def __repr__(self) -> str:
        params = ", ".join(
            f"{n}={v:.4g}" for n, v in zip(self.param_names, self.values, strict=True)
        )
        return (
            f"FitResult({self.spec.label}, {params}, mape={self.mape:.3f}%, n_rows={self.n_rows})"
        )

    # -- serialisation ---------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict (NaN -> None); :meth:`from_dict` inverts it exactly."""
        return {
            "format": "sweetspot.FitResult",
            "version": FORMAT_VERSION,
            "spec": self.spec.to_dict(),
            "loss": self.loss,
            "params": {n: float(v) for n, v in zip(self.param_names, self.values, strict=True)},
            "stderr": {
                n: _float_or_none(s) for n, s in zip(self.param_names, self.stderrs, strict=True)
            },
            "units": {n: u for n, u in zip(self.param_names, self.units, strict=True)},
            "theta": None if self.theta is None else [float(t) for t in self.theta],
            "architectures": [[n, a.to_dict()] for n, a in self.architectures],
            "batch_size": _float_or_none(self.batch_size),
            "batch_range": [float(v) for v in self.batch_range],
            "n_rows": int(self.n_rows),
            "mape": _float_or_none(self.mape),
            "max_ape": _float_or_none(self.max_ape),
            "rmse": _float_or_none(self.rmse),
            "r2": _float_or_none(self.r2),
            "condition_number": _float_or_none(self.condition_number),
            "n_in_range": [_float_or_none(v) for v in self.n_in_range],
            "n_out_range": [_float_or_none(v) for v in self.n_out_range],
            "models": list(self.models),
            "fit_warnings": list(self.fit_warnings),
            "meta": json.loads(json.dumps(dict(self.meta), default=str)),
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> FitResult:
        """Rebuild a result from :meth:`to_dict` output.

        Every field's JSON type and range is checked (numbers are numbers, not strings or
        booleans; counts are non-negative integers; unknown keys and a ``theta`` that does
        not follow from the parameters are refused): a tampered or truncated file raises
        :class:`TableError`. Nothing is ever evaluated or unpickled.
        """
        if not isinstance(d, Mapping):
            raise TableError(f"a saved fit must be a JSON object (dict); got {type(d).__name__}.")
        if d.get("format") != "sweetspot.FitResult":
            raise TableError(
                "not a saved sweetspot fit: expected the key 'format' = 'sweetspot.FitResult'; "
                f"got {_brief(d.get('format'))}. Save fits with FitResult.to_dict() or "
                "`sweetspot fit --save FILE.json`."
            )
        version = d.get("version")
        if type(version) is not int or version != FORMAT_VERSION:
            raise TableError(
                f"saved fit has format version {_brief(version)}; this sweetspot reads "
                f"version {FORMAT_VERSION}. Refit with this version or upgrade sweetspot."
            )
        unknown = sorted(set(d) - _FIT_KEYS)
        if unknown:
            raise TableError(
                f"saved fit has unknown key(s) {unknown}; version {FORMAT_VERSION} has "
                f"{sorted(_FIT_KEYS)}. The file was edited or written by another tool."
            )
        optional = {"meta", "fit_warnings", "theta", "batch_range"}
        missing = sorted(k for k in _FIT_KEYS - optional if k not in d)
        if missing:
            raise TableError(
                f"saved fit is malformed or truncated: it lacks {missing}; re-save it with "
                "FitResult.to_dict()."
            )
        v = _Validator()
        try:
            spec_d = v.mapping(d["spec"], "spec")
            try:
                spec = ModelSpec(**spec_d)
            except (SpecError, TypeError) as exc:
                raise TableError(f"saved fit has an invalid 'spec': {exc}") from exc
            loss = d["loss"]
            if loss not in _LOSS_TEXT:
                raise TableError(
                    f"saved fit has loss {_brief(loss)}; expected one of {sorted(_LOSS_TEXT)}."
                )
            params = v.mapping(d["params"], "params")
            names = tuple(params)
            if names != spec.param_names:
                raise TableError(
                    f"saved fit's parameters {list(names)} do not match model "
                    f"{spec.label!r}, which has {list(spec.param_names)}."
                )
            stderr = v.mapping(d["stderr"], "stderr")
            units = v.mapping(d["units"], "units")
            for key, m in (("stderr", stderr), ("units", units)):
                if tuple(m) != names:
                    raise TableError(
                        f"saved fit's '{key}' keys {list(m)} differ from {list(names)}."
                    )
            archs = []
            for i, entry in enumerate(v.list(d.get("architectures", []), "architectures")):
                if not (isinstance(entry, list) and len(entry) == 2 and isinstance(entry[0], str)):
                    raise TableError(f"saved fit: architectures[{i}] must be [name, {{...}}].")
                try:
                    archs.append((entry[0], Architecture(**v.mapping(entry[1], "architecture"))))
                except (ValueError, TypeError) as exc:
                    raise TableError(f"saved fit: architectures[{i}] is invalid: {exc}") from exc
            res = cls(
                spec=spec,
                loss=str(loss),
                param_names=names,
                values=tuple(v.number(params[n], f"params.{n}") for n in names),
                stderrs=tuple(
                    v.number(stderr[n], f"stderr.{n}", none_ok=True, nonneg=True) for n in names
                ),
                units=tuple(v.text(units[n], f"units.{n}") for n in names),
                architectures=tuple(archs),
                batch_size=v.number(
                    d.get("batch_size", 1.0), "batch_size", none_ok=True, positive=True
                ),
                batch_range=_batch_range(v, d),
                n_rows=v.count(d["n_rows"], "n_rows"),
                mape=v.number(d["mape"], "mape", none_ok=True, nonneg=True),
                max_ape=v.number(d["max_ape"], "max_ape", none_ok=True, nonneg=True),
                rmse=v.number(d["rmse"], "rmse", none_ok=True, nonneg=True),
                r2=v.number(d["r2"], "r2", none_ok=True),
                condition_number=v.number(
                    d["condition_number"], "condition_number", none_ok=True, nonneg=True
                ),
                n_in_range=v.pair(d["n_in_range"], "n_in_range"),
                n_out_range=v.pair(d["n_out_range"], "n_out_range"),
                models=tuple(v.text(m, "models[]") for m in v.list(d.get("models", []), "models")),
                fit_warnings=tuple(
                    v.text(w, "fit_warnings[]")
                    for w in v.list(d.get("fit_warnings", []), "fit_warnings")
                ),
                meta=dict(v.mapping(d.get("meta", {}), "meta")),
            )
        except TableError:
            raise
        except (KeyError, TypeError, ValueError, IndexError, OverflowError) as exc:
            raise TableError(
                f"saved fit is malformed or truncated ({type(exc).__name__}: {exc}); "
                "re-save it with FitResult.to_dict()."
            ) from exc
        stored = d.get("theta")
        if stored is not None:
            theta = v.list(stored, "theta")
            implied = res.theta
            if implied is None or len(theta) != 6:
                raise TableError("saved fit's 'theta' does not belong to this model.")
            got = np.array([v.number(t, "theta[]") for t in theta])
            if not np.allclose(got, implied, rtol=1e-9, atol=1e-300):
                raise TableError(
                    "saved fit's 'theta' differs from the theta its parameters imply; the file "
                    "was edited. Edit 'params' (theta is derived) or refit."
                )
        return res

    def to_json(self, path: str | None = None, *, indent: int = 2) -> str:
        """JSON text of :meth:`to_dict`; also written to ``path`` when given."""
        text = json.dumps(self.to_dict(), indent=indent, allow_nan=False)
        if path is not None:
            with open(path, "w", encoding="utf-8") as fh:
                fh.write(text + "\n")
        return text

    @classmethod
    def from_json(cls, path_or_text: str | os.PathLike[str]) -> FitResult:
        """Read a fit saved by :meth:`to_json` (a path, or the JSON text itself)."""
        if isinstance(path_or_text, os.PathLike):
            return cls.from_dict(read_json_file(os.fspath(path_or_text), "saved fit"))
        if not isinstance(path_or_text, str):
            raise TableError(
                "from_json reads a saved fit from a path (str or os.PathLike) or from JSON "
                f"text; got {type(path_or_text).__name__}."
            )
        if path_or_text.lstrip().startswith("{"):
            d = load_json_text(path_or_text, "saved fit")
        else:
            d = read_json_file(path_or_text, "saved fit")
        return cls.from_dict(d)


@dataclass(frozen=True, slots=True, kw_only=True)
class BoundFit:
    """A physical fit bound to one architecture, GPU and serving configuration
    (:meth:`FitResult.bind`).

    It predicts the energy of one request from the lengths alone, like a fit of that
    architecture, so the sweet-spot and planning functions take it. With ``serving`` the
    batch size of every point comes from the concurrency rule, which makes the energy a
    piecewise function of the lengths: ``theta`` is then None and sweet spots are searched
    numerically.

    Attributes
    ----------
    fit : FitResult
        The (usually pooled) fit.
    architecture : Architecture
        The LLM predicted for.
    batch_size : float or None
        A fixed batch size, or None (``serving``, or the fit's own batch size).
    serving : ServingConfig or None
        The engine configuration whose concurrency rule gives the batch size.
    gpu : str or None
        The GPU predicted on (None: the fit's own).
    """

    fit: FitResult
    architecture: Architecture
    batch_size: float | None = None
    serving: ServingConfig | None = None
    gpu: str | None = None

    @property
    def theta(self) -> NDArray[np.float64] | None:
        """Theta ``t1..t6`` when the bound model is quadratic (a fixed batch size and a
        spec without ``max_num_tokens`` or ``roofline``), else None."""
        if self.serving is not None:
            return None
        return self.fit.theta_for(self.architecture, batch_size=self.batch_size)

    def predict(
        self, n_in: ArrayLike, n_out: ArrayLike, *, warn: bool = True
    ) -> NDArray[np.float64]:
        """Predicted energy of one request [J] (:meth:`FitResult.predict` with the bound
        options)."""
        return self.fit.predict(
            n_in,
            n_out,
            architecture=self.architecture,
            batch_size=self.batch_size,
            serving=self.serving,
            gpu=self.gpu,
            warn=warn,
        )

    def batch_sizes(self, n_in: ArrayLike, n_out: ArrayLike) -> NDArray[np.float64]:
        """Requests decoded together at each point (the concurrency rule with ``serving``)."""
        ni = as_lengths(n_in, "n_in", integer=False)
        no = as_lengths(n_out, "n_out", integer=False)
        ni, no = np.broadcast_arrays(ni, no)
        _, _, bs = self.fit._serving_inputs(
            self.architecture, ni, no, self.batch_size, self.serving, self.gpu, False
        )
        return np.broadcast_to(bs, ni.shape).copy()

    @property
    def spec(self) -> ModelSpec:
        """The model spec of the fit."""
        return self.fit.spec

    @property
    def n_in_range(self) -> tuple[float, float]:
        """The fitted n_in range [tokens]."""
        return self.fit.n_in_range

    @property
    def n_out_range(self) -> tuple[float, float]:
        """The fitted n_out range [tokens]."""
        return self.fit.n_out_range

    @property
    def models(self) -> tuple[str, ...]:
        """The one LLM predicted for."""
        return (self.architecture.name,)

    @property
    def mape(self) -> float:
        """In-sample MAPE of the fit [%] (on the models it was fitted on)."""
        return self.fit.mape

    @property
    def meta(self) -> Mapping[str, Any]:
        """The fit's provenance."""
        return self.fit.meta

    @property
    def is_pooled(self) -> bool:
        """False: a bound fit describes one LLM."""
        return False

    def non_physical(self, *, points: int = 17) -> str | None:
        """Why the bound model's energy is not positive over the fitted box, or None."""
        return _nonpositive(
            lambda ni, no: self.predict(ni, no, warn=False),
            self.n_in_range,
            self.n_out_range,
            points,
            f" for {self.architecture.name}",
        )

    def describe(self) -> str:
        """One line: the family, the LLM, the GPU and the serving configuration."""
        gpu = self.gpu or self.fit.gpu or "the fit's GPU"
        how = (
            self.serving.describe()
            if self.serving is not None
            else f"batch size {self.batch_size if self.batch_size is not None else 'fitted'}"
        )
        return f"{self.spec.label} for {self.architecture.name} on {gpu} ({how})"
