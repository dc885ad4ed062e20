"""What every fit shares after the solver: statistics, warnings, the FitResult, CVResult."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..architecture import Architecture
from ..exceptions import FitError, IllConditionedWarning, NegativeCoefficientWarning
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
    y_sum: float = 0.0
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
        ape = np.abs(resid) / y * 100.0
        self.n += int(y.size)
        self.y_sum += float(y.sum())
        self.ape_sum += float(ape.sum())
        self.ape_max = max(self.ape_max, float(ape.max()))
        self.sq_sum += float(resid @ resid)
        rw = resid / y if loss in ("relative", "mape") else resid
        self.sq_w += float(rw @ rw)
        dy = y - mean
        self.ss_tot += float(dy @ dy)
        lo, hi = self.y_range
        self.y_range = (min(lo, float(y.min())), max(hi, float(y.max())))
        lo, hi = self.n_in_range
        self.n_in_range = (min(lo, float(n_in.min())), max(hi, float(n_in.max())))
        lo, hi = self.n_out_range
        self.n_out_range = (min(lo, float(n_out.min())), max(hi, float(n_out.max())))


def fit_messages(spec: ModelSpec, coef: _F64, cond: float) -> list[tuple[str, type[Warning]]]:
    """Warnings a fit deserves: ill-conditioning, negative free coefficients."""
    msgs: list[tuple[str, type[Warning]]] = []
    if cond > ILL_CONDITIONED:
        msgs.append(
            (
                f"ill-conditioned design (condition number {cond:.2g} after column scaling): "
                "coefficients are poorly determined; measure a wider (n_in, n_out) grid.",
                IllConditionedWarning,
            )
        )
    if not spec.is_physical:
        neg = [f"{nm} = {v:.3g}" for nm, v in zip(spec.param_names, coef, strict=True) if v < 0]
        if neg:
            msgs.append(
                (
                    f"negative free coefficient(s) {', '.join(neg)}: the model may predict "
                    "implausible (even negative) energy outside the fitted range.",
                    NegativeCoefficientWarning,
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
    batch_sizes: set[float],
    models: list[str],
    meta: Mapping[str, Any],
) -> tuple[FitResult, list[tuple[str, type[Warning]]]]:
    """The FitResult of a solved fit and its statistics, with the warnings it deserves."""
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
    msgs = fit_messages(spec, coef, sol.cond)
    res = FitResult(
        spec=spec,
        loss=loss,
        param_names=spec.param_names,
        values=tuple(float(v) for v in coef),
        stderrs=tuple(float(v) for v in se),
        units=spec.param_units,
        architectures=tuple(sorted(archs.items())),
        batch_size=next(iter(batch_sizes)) if len(batch_sizes) == 1 else 1.0,
        n_rows=int(n),
        mape=stats.ape_sum / n,
        max_ape=stats.ape_max,
        rmse=math.sqrt(stats.sq_sum / n) * unit,
        r2=1.0 - stats.sq_sum / stats.ss_tot if stats.ss_tot > 0 else float("nan"),
        condition_number=sol.cond,
        n_in_range=stats.n_in_range,
        n_out_range=stats.n_out_range,
        models=tuple(m for m in models if m),
        fit_warnings=tuple(t for t, _ in msgs),
        meta=dict(meta),
    )
    return res, msgs


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
