"""What every fit shares after the solver: statistics, warnings, the FitResult, CVResult."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..architecture import Architecture
from ..exceptions import (
    FitError,
    IllConditionedWarning,
    NegativeCoefficientWarning,
    NonPhysicalWarning,
)
from ..models import ModelSpec
from ..result import FitResult
from ._solver import Solution

_F64 = NDArray[np.float64]

#: Condition number of the column-scaled design above which a fit warns.
ILL_CONDITIONED = 1e10


@dataclass
class Stats:
    """Sums over the fitted rows for the statistics of a fit (one pass, any number of blocks).

    Energies are in the units the solver used (``y / unit``).
    """

    n: int = 0
    ape_sum: float = 0.0
    ape_max: float = 0.0
    sq_sum: float = 0.0  # sum of squared residuals
    sq_w: float = 0.0  # sum of squared weighted residuals (the loss)
    ss_tot: float = 0.0
    y_range: tuple[float, float] = (math.inf, -math.inf)
    n_in_range: tuple[float, float] = (math.inf, -math.inf)
    n_out_range: tuple[float, float] = (math.inf, -math.inf)

    def add(
        self,
        pred: _F64,
        y: _F64,
        mean: float,
        loss: str,
        n_in: _F64,
        n_out: _F64,
    ) -> None:
        """Add a block of rows: predictions, targets, the targets' overall mean, lengths."""
        resid = pred - y
        rel = resid / y
        self.n += int(y.size)
        self.sq_sum += float(resid @ resid)
        self.sq_w += float(rel @ rel) if loss in ("relative", "mape") else float(resid @ resid)
        np.abs(rel, out=rel)
        self.ape_sum += 100.0 * float(rel.sum())
        self.ape_max = max(self.ape_max, 100.0 * float(rel.max()))
        np.subtract(y, mean, out=resid)
        self.ss_tot += float(resid @ resid)
        lo, hi = self.y_range
        self.y_range = (min(lo, float(y.min())), max(hi, float(y.max())))
        lo, hi = self.n_in_range
        self.n_in_range = (min(lo, float(n_in.min())), max(hi, float(n_in.max())))
        lo, hi = self.n_out_range
        self.n_out_range = (min(lo, float(n_out.min())), max(hi, float(n_out.max())))


def fit_messages(
    spec: ModelSpec,
    sol: Solution,
    unit: float,
    n: int,
    facts: Mapping[str, Any],
    batch_range: tuple[float, float],
) -> list[tuple[str, type[Warning]]]:
    """Warnings a fit deserves, before looking at its predictions.

    - ill-conditioning (condition number of the scaled design above :data:`ILL_CONDITIONED`);
    - free coefficients that are *significantly* negative: below minus twice their standard
      error (or, without one, beyond rounding of the scaled problem); a coefficient that is
      zero to rounding (-4.5e-20) is not one;
    - a free polynomial on data whose engine it cannot describe: a quadratic form on a
      cache-off engine (cubic terms), or rows at several batch sizes.
    """
    msgs: list[tuple[str, type[Warning]]] = []
    if sol.cond > ILL_CONDITIONED:
        msgs.append(
            (
                f"ill-conditioned design (condition number {sol.cond:.2g} after column "
                "scaling): coefficients are poorly determined; measure a wider (n_in, n_out) "
                "grid.",
                IllConditionedWarning,
            )
        )
    if spec.is_physical:
        return msgs
    coef = sol.coef * unit
    se = sol.stderr * unit if sol.stderr is not None else np.full(coef.shape, np.nan)
    rounding = 1e-9 * np.sqrt(max(n, 1))
    neg = [
        f"{name} = {v:.3g}"
        for name, v, e, b in zip(spec.param_names, coef, se, sol.scaled, strict=True)
        if v < 0 and (-v > 2 * e if np.isfinite(e) else abs(b) > rounding)
    ]
    if neg:
        msgs.append(
            (
                f"negative free coefficient(s) {', '.join(neg)} (beyond twice the standard "
                "error): the model may predict implausible (even negative) energy outside "
                "the fitted range.",
                NegativeCoefficientWarning,
            )
        )
    if facts.get("kv_cache") is False:
        msgs.append(
            (
                f"the data's kv_cache column says the engine recomputes the prefix (KV cache "
                f"off): its energy has cubic terms that the free model {spec.name!r} cannot "
                "describe. Use a physical model, which takes the cache from the data: "
                "model='flops' (sweetspot fit --model flops).",
                NonPhysicalWarning,
            )
        )
    if batch_range[0] != batch_range[1]:
        msgs.append(
            (
                f"the rows span batch sizes {batch_range[0]:g}..{batch_range[1]:g}, which the "
                f"free model {spec.name!r} cannot tell apart: it fits an average of "
                "different engines. Fit each batch size apart (filter on batch_size), or a "
                "physical model, which prices each row at its batch size.",
                NonPhysicalWarning,
            )
        )
    return msgs


def assemble(
    *,
    spec: ModelSpec,
    loss: str,
    sol: Solution,
    stats: Stats,
    unit: float,
    archs: Mapping[str, Architecture],
    batch_range: tuple[float, float],
    models: list[str],
    meta: Mapping[str, Any],
    facts: Mapping[str, Any],
    data_warnings: tuple[tuple[str, type[Warning]], ...] = (),
) -> tuple[FitResult, list[tuple[str, type[Warning]]]]:
    """The FitResult of a solved fit and its statistics, with every warning it deserves
    (those the data raised when read come first, then the fit's, then the check of its
    predictions over the fitted range); ``fit_warnings`` records them all."""
    k = len(spec.param_names)
    n = stats.n
    coef = sol.coef * unit
    if not np.all(np.isfinite(coef)):
        lo, hi = (v * unit for v in stats.y_range)
        raise FitError(
            f"the fit overflowed (non-finite coefficients): energies span {lo:.3g} .. {hi:.3g} "
            f"J, too wide for loss={loss!r}. Check the units of energy_j, or use "
            "loss='relative'."
        )
    dof = n - k
    if loss == "mape" or dof <= 0:
        se_s = np.full(k, np.nan)
    else:
        se_s = np.sqrt(np.maximum(np.diag(sol.inv_gram) * (stats.sq_w / dof), 0.0))
        if spec.is_physical:
            se_s[sol.scaled <= 0] = np.nan  # held at the bound: no symmetric standard error
    se = se_s / sol.scale * unit
    sol = replace(sol, stderr=se / unit)
    msgs = list(data_warnings) + fit_messages(spec, sol, unit, n, facts, batch_range)
    several = batch_range[0] != batch_range[1]
    res = FitResult(
        spec=spec,
        loss=loss,
        param_names=spec.param_names,
        values=tuple(float(v) for v in coef),
        stderrs=tuple(float(v) for v in se),
        units=spec.param_units,
        architectures=tuple(sorted(archs.items())),
        batch_size=float("nan") if several else float(batch_range[0]),
        batch_range=(float(batch_range[0]), float(batch_range[1])),
        n_rows=int(n),
        mape=stats.ape_sum / n,
        max_ape=stats.ape_max,
        rmse=math.sqrt(stats.sq_sum / n) * unit,
        r2=1.0 - stats.sq_sum / stats.ss_tot if stats.ss_tot > 0 else float("nan"),
        condition_number=sol.cond,
        n_in_range=stats.n_in_range,
        n_out_range=stats.n_out_range,
        models=tuple(m for m in models if m),
        meta=dict(meta),
    )
    why = res.non_physical()
    if why is not None:
        msgs.append((why + ".", NonPhysicalWarning))
    return replace(res, fit_warnings=tuple(t for t, _ in msgs)), msgs


@dataclass(frozen=True, slots=True, kw_only=True)
class CVResult:
    """Cross-validated prediction error (in memory or streamed).

    Attributes
    ----------
    mape : float
        MAPE over all held-out predictions [%] (each row predicted once, by the fold that
        left it out).
    max_ape : float
        Largest held-out absolute percentage error [%].
    fold_mape : ndarray
        MAPE of each fold [%].
    fold_rows : ndarray of int
        Rows held out by each fold.
    fold_labels : tuple of str
        What each fold held out (``"fold 0"`` ... or the group value).
    scheme : str
        ``"k-fold (k=5, seed=0)"``, ``"streamed k-fold (k=5, seed=0)"``,
        ``"grouped by <column>"``, ``"grouped"`` or ``"leave-one-model-out"``.
    model : str
        Label of the model spec.
    n_rows : int
        Rows of the data.
    predicted_j : ndarray or None
        Held-out prediction for every row, aligned with the data [J]; None for a streamed
        cross-validation, whose per-row arrays would grow with the data.
    ape : ndarray or None
        Absolute percentage error of every row [%]; None when streamed.
    """

    mape: float
    max_ape: float
    fold_mape: _F64
    fold_rows: NDArray[np.int64]
    fold_labels: tuple[str, ...]
    scheme: str
    model: str
    n_rows: int
    predicted_j: _F64 | None = None
    ape: _F64 | None = None

    def __repr__(self) -> str:
        return (
            f"CVResult({self.model}, {self.scheme}: MAPE {self.mape:.3f} % over "
            f"{len(self.fold_labels)} folds, {self.n_rows} rows)"
        )
