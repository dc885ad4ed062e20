"""Figures: efficiency maps with the sweet-spot curve, efficiency curves, parity and residuals.

Every function draws with matplotlib's object-oriented API on the Axes it is given (``ax=``)
or, when none is given, on a new figure made with :mod:`matplotlib.pyplot`, and returns the
(root) :class:`~matplotlib.figure.Figure`. Nothing here calls ``plt.show`` or touches
``rcParams``; :func:`save_report_figures` never goes through pyplot at all, so it works on
a headless machine with any backend and leaks no figures.

``import sweetspot`` does not import this module (matplotlib is slow to import); use
``import sweetspot.plot``.

=============================  ==============================================================
function                       figure
=============================  ==============================================================
:func:`efficiency_heatmap`     output tokens per joule over (n_in, n_out) with n_out*(n_in)
:func:`efficiency_vs_n_out`    tokens per joule versus n_out for a few n_in, optima marked
:func:`parity`                 predicted versus measured energy per request, +-5 % band
:func:`residuals`              relative residuals [%] versus n_in and versus n_out
:func:`energy_vs_linear`       measured energy, the fitted model and the linear baseline
:func:`save_report_figures`    all of the above as PNG files, for ``sweetspot report``
:func:`serving_efficiency`     tokens per joule versus n_out for several engine configurations
:func:`paper_figure1`          the paper's Figure 1 effect (requests per run), predicted
:func:`paper_figure4`          the paper's Figure 4 effect (max_batch_size), predicted
:func:`parity_by_model`        leave-one-model-out predictions versus the surfaces, by LLM
:func:`save_serving_figures`   the three serving figures as PNG files
=============================  ==============================================================

Lengths are drawn on base-2 logarithmic axes with ticks at powers of two (64, 128, ...,
4096), and efficiency on a logarithmic colour scale, since both span orders of magnitude.
Energy per request is ``energy_j / n_requests``.

Examples
--------
>>> import sweetspot as ss, sweetspot.plot
>>> res = ss.fit(ss.read_measurements("grid.csv"))                # doctest: +SKIP
>>> fig = sweetspot.plot.efficiency_heatmap(res)                    # doctest: +SKIP
>>> fig.savefig("heatmap.png")                                      # doctest: +SKIP
>>> sweetspot.plot.save_report_figures({"my-gpu": res}, "figs/")    # doctest: +SKIP
"""

from __future__ import annotations

import math
import re
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from ._validation import as_lengths
from .exceptions import NoOptimumError, SpecError
from .optimum import DEFAULT_N_OUT_MAX, N_IN_GRID, ThetaLike, energy, sweet_spot
from .result import BoundFit, FitResult

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure, SubFigure

    from .architecture import Architecture
    from .fitting import CVResult
    from .serving import ServingConfig

__all__ = [
    "efficiency_by_group",
    "efficiency_heatmap",
    "efficiency_vs_n_out",
    "energy_vs_linear",
    "normalised_efficiency_heatmap",
    "paper_figure1",
    "paper_figure4",
    "parity",
    "parity_by_model",
    "residuals",
    "save_overview_figures",
    "save_report_figures",
    "save_serving_figures",
    "serving_efficiency",
]

#: Default length range of the efficiency figures [tokens] (widened to the fitted range).
DEFAULT_RANGE: tuple[float, float] = (64.0, 4096.0)

_EFF_LABEL = "output tokens per joule [tokens/J]"
_N_IN_LABEL = "input length n_in [tokens]"
_N_OUT_LABEL = "output length n_out [tokens]"
_CURVE_COLOR = "#d62728"  # red: stands out on viridis


# ---------------------------------------------------------------------------------------
# small helpers
# ---------------------------------------------------------------------------------------
def _new_axes(ax: Axes | None, figsize: tuple[float, float] = (6.4, 4.8)) -> Axes:
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    _, new = plt.subplots(figsize=figsize, layout="constrained")
    return new


def _root(fig: Figure | SubFigure) -> Figure:
    """The top-level Figure of a figure or subfigure."""
    root = fig.figure
    assert root is not None
    return root


def _describe(params: Any) -> str:
    """Title text naming the measured model, its GPU and the energy model."""
    if isinstance(params, BoundFit):
        where = params.gpu or params.fit.gpu or "its GPU"
        return (
            f"{params.architecture.name} on {where}, predicted from pooled constants\n"
            f"{params.spec.label}"
        )
    if not isinstance(params, FitResult):
        return "theta model"
    who = ", ".join(params.models)
    gpu = params.meta.get("gpu")
    if gpu:
        n_gpus = str(params.meta.get("n_gpus", "1"))
        gpu_text = f"{n_gpus}x {gpu}" if n_gpus not in ("", "1") else str(gpu)
        who = f"{who} on {gpu_text}" if who else gpu_text
    # two lines: who / what, so long option labels are not clipped by the figure edge
    return f"{who}\n{params.spec.label}" if who else params.spec.label


def _pow2_ticks(axis: Any, lo: float, hi: float) -> None:
    """Major ticks at powers of two labelled as plain integers (64, 128, ...), no minor ticks."""
    from matplotlib.ticker import FixedLocator, FuncFormatter, NullLocator

    k0 = math.ceil(math.log2(lo) - 1e-9)
    k1 = math.floor(math.log2(hi) + 1e-9)
    if k1 < k0:
        return  # no power of two in range: keep matplotlib's own ticks
    ks = list(range(k0, k1 + 1))
    step = max(1, math.ceil(len(ks) / 10))
    axis.set_major_locator(FixedLocator([2.0**k for k in ks[::step]]))
    axis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:.0f}" if v >= 1 else f"{v:g}"))
    axis.set_minor_locator(NullLocator())


def _nice_log_ticks(axis: Any, lo: float, hi: float) -> None:
    """Ticks at 1-2-5 x 10^k (all digits when the range is narrow), labelled plainly."""
    from matplotlib.ticker import FixedLocator, FuncFormatter, NullLocator

    if not (lo > 0 and hi > lo) or lo < 1e-3 or hi > 1e5:
        return  # plain labels would be long; keep matplotlib's 10^k labels
    for subs in ((1.0,), (1.0, 2.0, 5.0), (1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0)):
        k = np.arange(math.floor(math.log10(lo)), math.ceil(math.log10(hi)) + 1)
        ticks = np.sort(np.outer(10.0**k, subs).ravel())
        ticks = ticks[(ticks >= lo * (1 - 1e-9)) & (ticks <= hi * (1 + 1e-9))]
        if ticks.size >= 3:
            break
    if ticks.size > 10:  # thin to at most about 10 labels
        ticks = ticks[:: math.ceil(ticks.size / 10)]
    axis.set_major_locator(FixedLocator(ticks.tolist()))
    axis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    axis.set_minor_locator(NullLocator())


def _legend_below(ax: Axes, handles: list[Any] | None = None, ncols: int = 1) -> Any:
    """A legend under the x axis label, outside the data (constrained layout makes room)."""
    from matplotlib import rcParams
    from matplotlib.font_manager import FontProperties

    def pts(size: Any) -> float:
        return float(FontProperties(size=size).get_size_in_points())

    # distance from the axes bottom to below the x label [pt], read from the current style
    gap = (
        max(float(rcParams["xtick.major.size"]), 0.0)
        + float(rcParams["xtick.major.pad"])
        + pts(rcParams["xtick.labelsize"])
        + float(rcParams["axes.labelpad"])
        + pts(rcParams["axes.labelsize"])
        + 4.0
    )
    size = pts("small")
    kw: dict[str, Any] = {} if handles is None else {"handles": handles}
    return ax.legend(
        **kw, loc="upper center", bbox_to_anchor=(0.5, 0.0), bbox_transform=ax.transAxes,
        borderaxespad=gap / size, fontsize="small", ncols=ncols, frameon=False,
    )  # fmt: skip


def _log2_x(ax: Axes, lo: float, hi: float) -> None:
    ax.set_xscale("log", base=2)
    ax.set_xlim(lo, hi)
    _pow2_ticks(ax.xaxis, lo, hi)


def _fitted_range(params: Any, which: int) -> tuple[float, float] | None:
    if not isinstance(params, (FitResult, BoundFit)):
        return None
    lo, hi = (params.n_in_range, params.n_out_range)[which]
    return (lo, hi) if math.isfinite(lo) and math.isfinite(hi) else None


def _grid(
    values: ArrayLike | None, name: str, params: Any, which: int, *, per_octave: int
) -> NDArray[np.float64]:
    """Sorted lengths to evaluate at; by default log2-spaced over 64..4096 widened to powers
    of two that cover the fitted range of a FitResult."""
    if values is not None:
        arr = np.unique(np.atleast_1d(as_lengths(values, name, integer=False)).ravel())
        if arr.size < 2:
            raise SpecError(
                f"{name} needs at least 2 distinct lengths to draw a figure; got {arr.tolist()}."
            )
        return arr
    lo, hi = DEFAULT_RANGE
    fitted = _fitted_range(params, which)
    if fitted is not None:
        lo = min(lo, 2.0 ** math.floor(math.log2(fitted[0])))
        hi = max(hi, 2.0 ** math.ceil(math.log2(fitted[1])))
    k0, k1 = math.log2(lo), math.log2(hi)
    return np.asarray(2.0 ** np.linspace(k0, k1, round((k1 - k0) * per_octave) + 1))


def _edges(v: NDArray[np.float64]) -> NDArray[np.float64]:
    """Cell edges around sorted positive centres, midway in log space."""
    mid = np.sqrt(v[:-1] * v[1:])
    return np.concatenate([[v[0] ** 2 / mid[0]], mid, [v[-1] ** 2 / mid[-1]]])


def _measured(data: Any) -> pd.DataFrame:
    from .io import read_measurements

    return read_measurements(data)


def _per_request(df: pd.DataFrame) -> NDArray[np.float64]:
    return np.asarray(
        df["energy_j"].to_numpy(dtype=float) / df["n_requests"].to_numpy(dtype=float), dtype=float
    )


def _predictions(
    df: pd.DataFrame, predicted: Any, label: str | None
) -> tuple[NDArray[np.float64], str]:
    """Predictions aligned with the rows of ``df`` and a label for them."""
    from .fitting import CVResult

    if isinstance(predicted, FitResult):
        return predicted.predict_frame(df), label or _describe(predicted)
    if isinstance(predicted, CVResult):
        if predicted.predicted_j is None:
            raise SpecError(
                "this CVResult comes from a streamed cross-validation, which keeps no per-row "
                "predictions; plot a FitResult, or cross-validate the data in memory."
            )
        pred = np.asarray(predicted.predicted_j, dtype=float)
        text = label or f"{predicted.model}, cross-validated ({predicted.scheme})"
    else:
        try:
            pred = np.asarray(predicted, dtype=float).ravel()
        except (TypeError, ValueError) as exc:
            raise SpecError(
                "predictions must be a FitResult, a CVResult or an array of energies per "
                f"request [J] aligned with the data rows; got {type(predicted).__name__}."
            ) from exc
        text = label or "model"
    if pred.shape != (len(df),):
        raise SpecError(
            f"predicted_j must have one energy per data row ({len(df)}); got shape "
            f"{pred.shape}. Pass the FitResult instead to predict from the data."
        )
    if not np.all(np.isfinite(pred)):
        bad = int(np.flatnonzero(~np.isfinite(pred))[0])
        raise SpecError(f"predicted_j must be finite; got {pred[bad]} in row {bad}.")
    return pred, text


def _runs(mask: NDArray[np.bool_]) -> list[tuple[int, int]]:
    """(start, stop) index pairs of the runs of True in a 1-D mask."""
    padded = np.concatenate([[False], mask, [False]]).astype(int)
    d = np.diff(padded)
    return list(zip(np.flatnonzero(d == 1), np.flatnonzero(d == -1), strict=True))


def _span(a: float, b: float) -> str:
    return f"{a:.0f}" if round(a) == round(b) else f"{a:.0f}-{b:.0f}"


def _colors(n: int) -> list[Any]:
    from matplotlib import colormaps

    cmap = colormaps["viridis"]
    return [cmap(x) for x in np.linspace(0.0, 0.85, n)] if n > 1 else [cmap(0.0)]


# ---------------------------------------------------------------------------------------
# the sweet-spot curve
# ---------------------------------------------------------------------------------------
def _optimum(params: Any, n_in: NDArray[np.float64], hi: float) -> tuple[NDArray, NDArray, NDArray]:
    """n_out*, its efficiency [tokens/J] and whether it is interior, for each n_in.

    Searched over ``[1, max(hi, 2**20)]`` so boundary optima come back flagged rather than
    raising :class:`NoOptimumError`.
    """
    sp = sweet_spot(params, n_in, n_out_max=max(hi, DEFAULT_N_OUT_MAX))
    return (
        np.atleast_1d(sp.n_out).astype(float),
        np.atleast_1d(sp.tokens_per_joule).astype(float),
        np.atleast_1d(sp.interior).astype(bool),
    )


def _status(
    params: Any,
    n_in: NDArray[np.float64],
    n_star: NDArray[np.float64],
    interior: NDArray[np.bool_],
    lo: float,
    hi: float,
) -> NDArray[np.str_]:
    """Where each optimum lies: in / below / above the plotted range, or a boundary whose
    direction is read off the energy per token itself: "rises" when it is higher at twice
    the boundary optimum than at it, "falls" otherwise."""
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        e_at = np.asarray(energy(params, n_in, n_star), dtype=float) / n_star
        e_next = np.asarray(energy(params, n_in, 2.0 * n_star), dtype=float) / (2.0 * n_star)
    rises = e_next > e_at
    return np.where(
        interior,
        np.where(n_star < lo, "below", np.where(n_star > hi, "above", "in")),
        np.where(rises, "rises", "falls"),
    )


_STATUS_TEXT = {
    "below": "n_out* < {lo:.0f}, below the plot",
    "above": "n_out* > {hi:.0f}, above the plot",
    "rises": "no interior optimum: energy/token rises with n_out from its minimum at the "
    "shortest output",
    "falls": "no interior optimum: energy/token keeps falling with n_out",
}


# ---------------------------------------------------------------------------------------
# efficiency figures
# ---------------------------------------------------------------------------------------
def efficiency_heatmap(
    params: ThetaLike,
    *,
    n_in: ArrayLike | None = None,
    n_out: ArrayLike | None = None,
    ax: Axes | None = None,
    log: bool = True,
    title: str | None = None,
) -> Figure:
    """Output tokens per joule over an (n_in, n_out) grid, with the sweet-spot curve n_out*(n_in).

    Parameters
    ----------
    params : FitResult, sequence of 6 floats (t1..t6) or mapping
        The energy model. Quadratic models use the closed-form optimum; models without a
        quadratic form (engine without KV cache) a numerical one.
    n_in, n_out : array_like, optional
        Lengths to evaluate at [tokens] (cell centres). Default: log2-spaced, 24 per octave,
        over 64..4096, widened to powers of two covering a FitResult's fitted range.
    ax : matplotlib Axes, optional
        Where to draw (the colour bar takes space from it). Default: a new figure.
    log : bool
        Logarithmic colour scale (default; efficiency spans orders of magnitude over the grid).
    title : str, optional
        Title; default names the model, its GPU and the energy model.

    Returns
    -------
    matplotlib.figure.Figure

    Notes
    -----
    The curve is drawn where the optimum is interior and inside the plotted n_out range.
    Elsewhere it is continued as a dotted line along the edge it left through, and its
    legend entry (under the axes) says why and for which n_in: optimum below / above the
    plotted range, or no interior optimum (a boundary of ``[1, 2**20]``). Cells where the
    model predicts non-positive energy (possible for a free polynomial far outside its
    data) are grey, never coloured. When the map reaches beyond a FitResult's fitted data
    range, that range is outlined (dashed): outside it the map extrapolates.
    """
    from matplotlib import colormaps
    from matplotlib.colors import LogNorm, Normalize
    from matplotlib.patches import Patch, Rectangle

    ni = _grid(n_in, "n_in", params, 0, per_octave=24)
    no = _grid(n_out, "n_out", params, 1, per_octave=24)
    NI, NO = np.meshgrid(ni, no)
    e_req = energy(params, NI, NO)
    ok = np.isfinite(e_req) & (e_req > 0)
    eta = np.ma.masked_where(~ok, NO / np.where(ok, e_req, 1.0))
    ax = _new_axes(ax)
    fig = ax.figure
    cmap = colormaps["viridis"].with_extremes(bad="0.75")
    if ok.any():
        vmin, vmax = float(eta.min()), float(eta.max())
        norm = LogNorm(vmin, vmax) if log and vmax > vmin else Normalize(vmin, vmax)
    else:
        norm = Normalize(0.0, 1.0)
    mesh = ax.pcolormesh(_edges(ni), _edges(no), eta, cmap=cmap, norm=norm, shading="flat")
    mesh.set_rasterized(True)
    mesh.set_gid("efficiency")
    cbar = fig.colorbar(mesh, ax=ax)
    cbar.set_label(_EFF_LABEL)
    if isinstance(norm, LogNorm):
        _nice_log_ticks(cbar.ax.yaxis, vmin, vmax)
    ax.set_xscale("log", base=2)
    ax.set_yscale("log", base=2)
    ax.set_xlim(_edges(ni)[0], _edges(ni)[-1])
    ax.set_ylim(_edges(no)[0], _edges(no)[-1])
    _pow2_ticks(ax.xaxis, ni[0], ni[-1])
    _pow2_ticks(ax.yaxis, no[0], no[-1])
    ax.set_xlabel(_N_IN_LABEL)
    ax.set_ylabel(_N_OUT_LABEL)
    ax.set_title(title if title is not None else _describe(params))

    handles: list[Any] = []
    if not ok.all():
        handles.append(
            Patch(fc="0.75", label=f"model predicts energy <= 0 ({int((~ok).sum())} cells)")
        )
    fitted_i, fitted_o = _fitted_range(params, 0), _fitted_range(params, 1)
    lo, hi = float(no[0]), float(no[-1])
    if (
        fitted_i is not None
        and fitted_o is not None
        and (fitted_i[0] > ni[0] or fitted_i[1] < ni[-1] or fitted_o[0] > lo or fitted_o[1] < hi)
    ):  # outline the measured region only when the map extrapolates beyond it
        rect = Rectangle(
            (fitted_i[0], fitted_o[0]),
            fitted_i[1] - fitted_i[0],
            fitted_o[1] - fitted_o[0],
            fill=False, ec="white", ls="--", lw=1.2, gid="fitted-range",
            label="fitted data range (outside: extrapolated)",
        )  # fmt: skip
        ax.add_patch(rect)
        handles.append(Patch(fc=cmap(0.35), ec="white", ls="--", label=rect.get_label()))

    x = np.asarray(2.0 ** np.linspace(math.log2(ni[0]), math.log2(ni[-1]), 193))
    try:
        n_star, _, interior = _optimum(params, x, hi)
    except NoOptimumError as exc:  # not expected with a bound; draw the map alone
        ax.text(0.5, 0.5, f"no sweet spot: {exc}", transform=ax.transAxes, ha="center",
                wrap=True, fontsize="small", bbox={"fc": "white", "alpha": 0.85})  # fmt: skip
    else:
        status = _status(params, x, n_star, interior, lo, hi)
        y = np.where(status == "in", n_star, np.nan)
        (line,) = ax.plot(x, y, color=_CURVE_COLOR, lw=2.2, label="sweet spot n_out*(n_in)")
        line.set_gid("sweet-spot")
        if np.isfinite(y).any():
            handles.insert(0, line)
        for kind in ("below", "above", "rises", "falls"):
            for a, b in _runs(status == kind):
                edge = lo if kind in ("below", "rises") else hi
                what = _STATUS_TEXT[kind].format(lo=lo, hi=hi)
                (clip,) = ax.plot(
                    x[a:b], np.full(b - a, edge), color=_CURVE_COLOR, lw=2.2, ls=":",
                    label=f"n_in {_span(x[a], x[b - 1])}: {what}", clip_on=False,
                )  # fmt: skip
                clip.set_gid("sweet-spot-clipped")
                handles.append(clip)
    if handles:
        _legend_below(ax, handles)
    return _root(fig)


def efficiency_vs_n_out(
    params: ThetaLike,
    n_in: ArrayLike = (64, 256, 1024, 4096),
    *,
    n_out: ArrayLike | None = None,
    ax: Axes | None = None,
    log_y: bool | None = None,
    title: str | None = None,
) -> Figure:
    """Output tokens per joule versus n_out for several input lengths, each optimum marked.

    Parameters
    ----------
    params : FitResult, sequence of 6 floats (t1..t6) or mapping
        The energy model.
    n_in : array_like of int
        Input lengths, one curve each [tokens].
    n_out : array_like, optional
        Output lengths along each curve [tokens]. Default: log2-spaced over 64..4096,
        widened to powers of two covering a FitResult's fitted range.
    ax : matplotlib Axes, optional
        Where to draw. Default: a new figure.
    log_y : bool, optional
        Logarithmic efficiency axis. Default: when the curves span more than a factor 10.
    title : str, optional
        Title; default names the model, its GPU and the energy model.

    Returns
    -------
    matplotlib.figure.Figure

    Notes
    -----
    Each optimum is a filled circle at (n_out*, tokens/J at n_out*). An optimum outside the
    plotted n_out range is an open triangle on the edge pointing its way, and a boundary
    optimum (no interior sweet spot) is said so in the legend. Curves at an n_in outside a
    FitResult's fitted range are dashed, and n_out outside the fitted range is shaded:
    both are extrapolation.
    """
    levels = np.atleast_1d(as_lengths(n_in, "n_in", integer=False)).ravel().astype(float)
    no = _grid(n_out, "n_out", params, 1, per_octave=48)
    lo, hi = float(no[0]), float(no[-1])
    ax = _new_axes(ax)
    fig = ax.figure
    fitted_i, fitted_o = _fitted_range(params, 0), _fitted_range(params, 1)
    n_star, eta_star, interior = _optimum(params, levels, hi)
    status = _status(params, levels, n_star, interior, lo, hi)
    eta_all = []
    for ni, c, ns, es, st in zip(
        levels, _colors(levels.size), n_star, eta_star, status, strict=True
    ):
        eta = np.asarray(energy(params, ni, no), dtype=float)
        eta = np.where(eta > 0, no / np.where(eta > 0, eta, 1.0), np.nan)
        eta_all.append(eta)
        extrap = fitted_i is not None and not (fitted_i[0] <= ni <= fitted_i[1])
        text = f"n_in = {ni:.0f}: "
        if st == "in":
            text += f"n_out* = {ns:.0f}, {es:.3g} tokens/J"
        elif st in ("below", "above"):
            text += f"n_out* = {ns:.0f} (off the plot)"
        elif st == "rises":
            text += "no interior optimum (n_out* = 1)"
        else:
            text += "no interior optimum (longer is better)"
        if extrap:
            text += ", extrapolated"
        (line,) = ax.plot(no, eta, color=c, lw=1.8, ls="--" if extrap else "-", label=text)
        line.set_gid(f"efficiency-n_in-{ni:g}")
        if st == "in":
            (mark,) = ax.plot([ns], [es], "o", color=c, mec="black", mew=0.8, ms=7)
        elif st in ("below", "rises"):
            (mark,) = ax.plot([lo], [eta[0]], "<", color=c, mfc="none", mew=1.5, ms=9)
        else:
            (mark,) = ax.plot([hi], [eta[-1]], ">", color=c, mfc="none", mew=1.5, ms=9)
        mark.set_gid(f"optimum-n_in-{ni:g}")
        mark.set_clip_on(False)
    if fitted_o is not None:
        label = "outside fitted n_out range"
        for a, b in ((lo, fitted_o[0]), (fitted_o[1], hi)):
            if b > a:
                ax.axvspan(a, b, color="0.5", alpha=0.12, lw=0, label=label)
                label = "_nolegend_"
    finite = np.concatenate(eta_all)
    finite = finite[np.isfinite(finite) & (finite > 0)]
    if log_y is None:
        log_y = finite.size > 0 and finite.max() > 10 * finite.min()
    if log_y:
        ax.set_yscale("log")
        if finite.size:
            bottom, top = float(finite.min()) / 1.15, float(finite.max()) * 1.15
            ax.set_ylim(bottom, top)
            _nice_log_ticks(ax.yaxis, bottom, top)
    else:
        ax.set_ylim(bottom=0)
    _log2_x(ax, lo, hi)
    ax.set_xlabel(_N_OUT_LABEL)
    ax.set_ylabel(_EFF_LABEL)
    ax.set_title(title if title is not None else _describe(params))
    ax.grid(True, which="major", alpha=0.3)
    _legend_below(ax)
    return _root(fig)


# ---------------------------------------------------------------------------------------
# several LLMs at once (the SweetSpot paper's Figures 2 and 3)
# ---------------------------------------------------------------------------------------
def _check_fits(fits: Any, name: str = "fits") -> Mapping[str, ThetaLike]:
    if not isinstance(fits, Mapping) or not fits:
        raise SpecError(
            f"{name} must be a non-empty mapping {{label: FitResult or theta}}, e.g. "
            f"{{'llama-3.1-8b': ss.load_params('llama-3.1-8b', gpu='h100')}}; got "
            f"{type(fits).__name__}."
        )
    return fits


def _efficiency(params: ThetaLike, ni: Any, no: Any) -> tuple[NDArray[np.float64], int]:
    """Output tokens per joule, NaN where the model's energy is not positive (and how many)."""
    e = np.asarray(energy(params, ni, no), dtype=float)
    bad = ~(e > 0)
    return np.where(bad, np.nan, no / np.where(bad, 1.0, e)), int(bad.sum())


def efficiency_by_group(
    fits: Mapping[str, ThetaLike],
    groups: Mapping[str, str],
    *,
    n_in: float = 64.0,
    n_out: ArrayLike | None = None,
    fig: Figure | None = None,
    title: str | None = None,
) -> Figure:
    """Output tokens per joule against n_out at one input length: one curve per LLM, one
    panel per group (the SweetSpot paper's Figure 2, whose groups are the size families
    XS, S and M).

    Parameters
    ----------
    fits : mapping of str to FitResult or theta
        The LLMs by label.
    groups : mapping of str to str
        The panel of each label (e.g. ``{"Llama 3.2 (1B)": "XS", ...}``); panels are ordered
        by first appearance in ``fits``.
    n_in : float
        The input length of every curve [tokens] (the paper's figure: 64).
    n_out : array_like, optional
        Output lengths [tokens]; default log2-spaced over 64..4096 (the paper's range).
    fig : matplotlib Figure, optional
        Where to draw (one row of panels is added). Default: a new figure.
    title : str, optional
        Overall title; default says the input length.

    Returns
    -------
    matplotlib.figure.Figure

    Notes
    -----
    Each curve's sweet spot is a filled circle at (n_out*, tokens/J) when it lies inside the
    plotted range; the legend gives n_out* of every LLM. Cells where a model predicts a
    non-positive energy are not drawn, and the panel says how many were left out.

    References
    ----------
    .. [1] Pizzini Cavagna et al., "Determining Energy Efficiency Sweet Spots in Production
       LLM Inference", arXiv:2602.05695 (ICPE 2026), Figure 2.
    """
    fits = _check_fits(fits)
    missing = [lab for lab in fits if lab not in groups]
    if missing:
        raise SpecError(f"groups has no entry for {missing}; give every label of fits a group.")
    ni = float(as_lengths(n_in, "n_in", integer=False))
    no = (
        np.asarray(2.0 ** np.linspace(6, 12, 6 * 48 + 1))
        if n_out is None
        else _grid(n_out, "n_out", None, 1, per_octave=48)
    )
    lo, hi = float(no[0]), float(no[-1])
    panels = list(dict.fromkeys(groups[lab] for lab in fits))
    if fig is None:
        from matplotlib.figure import Figure as _Figure

        fig = _Figure(figsize=(4.6 * len(panels), 5.2), layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, len(panels), sharey=True))
    from matplotlib import colormaps

    qualitative = colormaps["tab10"]
    all_eta: list[float] = []
    for ax, panel in zip(axes, panels, strict=True):
        left_out = 0
        members = [(lab, params) for lab, params in fits.items() if groups[lab] == panel]
        for k, (lab, params) in enumerate(members):
            c = qualitative(k % 10)
            eta, bad = _efficiency(params, ni, no)
            left_out += bad
            all_eta += [float(v) for v in eta[np.isfinite(eta)]]
            n_star, eta_star, interior = _optimum(params, np.array([ni]), hi)
            text = f"{lab}: n_out* = {n_star[0]:.0f}"
            if not bool(interior[0]):
                text = f"{lab}: no interior optimum"
            (line,) = ax.plot(no, eta, color=c, lw=1.8, label=text)
            line.set_gid(f"efficiency-{_slug(lab)}")
            if bool(interior[0]) and lo <= n_star[0] <= hi:
                ax.plot([n_star[0]], [eta_star[0]], "o", color=c, mec="black", mew=0.8, ms=7)
        if left_out:
            ax.text(
                0.02,
                0.02,
                f"{left_out} points with non-positive predicted energy not drawn",
                transform=ax.transAxes,
                fontsize="small",
            )
        _log2_x(ax, lo, hi)
        ax.set_xlabel(_N_OUT_LABEL)
        ax.set_title(str(panel))
        ax.grid(True, which="major", alpha=0.3)
        _legend_below(ax)
    axes[0].set_ylabel(_EFF_LABEL)
    if all_eta:
        axes[0].set_ylim(0, max(all_eta) * 1.08)
    fig.suptitle(title if title is not None else f"Efficiency at n_in = {ni:g} by group")
    return fig


def normalised_efficiency_heatmap(
    fits: Mapping[str, ThetaLike],
    *,
    n_in: ArrayLike = N_IN_GRID,
    n_out: ArrayLike = N_IN_GRID,
    ax: Axes | None = None,
    title: str | None = None,
) -> Figure:
    """Each LLM's efficiency grid min-max normalised to [0, 1], averaged over the LLMs (the
    SweetSpot paper's Figure 3): where on the grid LLMs are efficient, whatever their size.

    Parameters
    ----------
    fits : mapping of str to FitResult or theta
        The LLMs by label.
    n_in, n_out : array_like
        Grid levels [tokens]; default the paper's 7 x 7 grid of powers of two 64..4096.
    ax : matplotlib Axes, optional
        Where to draw. Default: a new figure.
    title : str, optional
        Title; default says how many LLMs are averaged.

    Returns
    -------
    matplotlib.figure.Figure

    Notes
    -----
    For LLM ``m`` with efficiency ``eta_m(n_in, n_out) = n_out / E_m`` on the grid,
    ``(eta_m - min eta_m) / (max eta_m - min eta_m)`` is averaged over the LLMs; the cell of
    the highest average is outlined and each cell carries its value. A model that predicts
    a non-positive energy anywhere on the grid is refused (its efficiency has no meaning
    there).

    References
    ----------
    .. [1] Pizzini Cavagna et al., arXiv:2602.05695 (ICPE 2026), Figure 3.
    """
    from matplotlib.patches import Rectangle

    fits = _check_fits(fits)
    ni = np.unique(np.atleast_1d(as_lengths(n_in, "n_in", integer=False)))
    no = np.unique(np.atleast_1d(as_lengths(n_out, "n_out", integer=False)))
    gi, go = np.meshgrid(ni, no, indexing="ij")
    stack = []
    for lab, params in fits.items():
        eta, bad = _efficiency(params, gi, go)
        if bad:
            raise SpecError(
                f"{lab}: the model predicts a non-positive energy in {bad} of the "
                f"{eta.size} grid cells; its efficiency cannot be normalised there."
            )
        span = float(eta.max() - eta.min())
        stack.append((eta - eta.min()) / span if span > 0 else np.zeros_like(eta))
    mean = np.mean(stack, axis=0)
    ax = _new_axes(ax, figsize=(6.4, 5.4))
    fig = ax.figure
    image = ax.imshow(mean.T, origin="lower", cmap="viridis", vmin=0.0, vmax=1.0, aspect="auto")
    image.set_gid("normalised-efficiency")
    for i in range(ni.size):
        for j in range(no.size):
            v = float(mean[i, j])
            ax.text(
                i,
                j,
                f"{v:.2f}",
                ha="center",
                va="center",
                fontsize="small",
                color="white" if v < 0.6 else "black",
            )
    bi, bj = np.unravel_index(int(np.argmax(mean)), mean.shape)
    ax.add_patch(Rectangle((bi - 0.5, bj - 0.5), 1, 1, fill=False, ec=_CURVE_COLOR, lw=2.5))
    ax.set_xticks(range(ni.size), [f"{v:g}" for v in ni])
    ax.set_yticks(range(no.size), [f"{v:g}" for v in no])
    ax.set_xlabel(_N_IN_LABEL)
    ax.set_ylabel(_N_OUT_LABEL)
    _root(fig).colorbar(image, ax=ax, label="efficiency, min-max normalised per LLM, mean")
    ax.set_title(
        title
        if title is not None
        else f"Normalised efficiency, mean of {len(fits)} LLMs (best cell outlined)"
    )
    return _root(fig)


# ---------------------------------------------------------------------------------------
# model versus measurement
# ---------------------------------------------------------------------------------------
def parity(
    data: Any,
    predicted_j: ArrayLike | FitResult | CVResult,
    *,
    ax: Axes | None = None,
    band: float = 0.05,
    label: str | None = None,
) -> Figure:
    """Predicted versus measured energy per request on log-log axes, with y = x and a band.

    Parameters
    ----------
    data : DataFrame or path
        Measurements (anything :func:`sweetspot.read_measurements` reads).
    predicted_j : array_like, FitResult or CVResult
        Predicted energy per request for each data row [J]; a FitResult predicts from the
        data's lengths (per row architecture for a pooled fit); a CVResult gives its
        held-out predictions.
    ax : matplotlib Axes, optional
        Where to draw. Default: a new figure.
    band : float
        Half-width of the relative band around y = x (0.05 is +-5 %).
    label : str, optional
        Name of the model in the title; default from the FitResult / CVResult.

    Returns
    -------
    matplotlib.figure.Figure

    Notes
    -----
    Points are coloured by n_out. The title gives the MAPE of these predictions, and the
    legend the share of rows inside the band. Non-positive predictions cannot be drawn on
    log axes; their number is stated on the figure.
    """
    from matplotlib.colors import LogNorm

    if not (isinstance(band, (int, float)) and 0 < band < 1):
        raise SpecError(f"band must be a fraction in (0, 1), e.g. 0.05 for +-5 %; got {band!r}.")
    df = _measured(data)
    meas = _per_request(df)
    pred, text = _predictions(df, predicted_j, label)
    ape = np.abs(pred - meas) / meas * 100.0
    inside = float(np.mean(ape <= band * 100.0) * 100.0)
    ax = _new_axes(ax, figsize=(5.8, 5.0))
    fig = ax.figure
    pos = pred > 0
    lo = float(min(meas.min(), pred[pos].min() if pos.any() else meas.min())) / 1.5
    hi = float(max(meas.max(), pred.max())) * 1.5
    xx = np.geomspace(lo, hi, 200)
    ax.fill_between(
        xx, xx * (1 - band), xx * (1 + band), color="0.6", alpha=0.35, lw=0,
        label=f"±{band * 100:g} % ({inside:.0f} % of rows inside)", gid="band",
    )  # fmt: skip
    ax.plot(xx, xx, color="black", lw=1.0, label="y = x", gid="identity")
    n_out = df["n_out"].to_numpy(dtype=float)
    norm = LogNorm(n_out.min(), n_out.max()) if n_out.max() > n_out.min() else None
    sc = ax.scatter(
        meas[pos], pred[pos], c=n_out[pos], cmap="viridis", norm=norm, s=22,
        edgecolors="black", linewidths=0.3, zorder=3,
    )  # fmt: skip
    sc.set_gid("points")
    cbar = fig.colorbar(sc, ax=ax, pad=0.02)
    cbar.set_label(_N_OUT_LABEL)
    if n_out.min() > 0 and n_out.max() > n_out.min():
        _pow2_ticks(cbar.ax.yaxis, n_out.min(), n_out.max())
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(lo, hi)
    ax.set_ylim(lo, hi)
    _nice_log_ticks(ax.xaxis, lo, hi)
    _nice_log_ticks(ax.yaxis, lo, hi)
    ax.set_aspect("equal")
    ax.set_xlabel("measured energy per request [J]")
    ax.set_ylabel("predicted energy per request [J]")
    ax.set_title(f"{text}\nMAPE {float(ape.mean()):.2f} %, max APE {float(ape.max()):.1f} %")
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(loc="upper left", fontsize="small", framealpha=0.85)
    if not pos.all():
        ax.text(
            0.98, 0.02, f"{int((~pos).sum())} prediction(s) <= 0 J not shown",
            transform=ax.transAxes, ha="right", va="bottom", fontsize="small",
        )  # fmt: skip
    return _root(fig)


def residuals(
    data: Any,
    predicted_j_or_result: ArrayLike | FitResult | CVResult,
    *,
    axes: Sequence[Axes] | None = None,
    band: float = 0.05,
    label: str | None = None,
) -> Figure:
    """Relative residuals ``(predicted - measured) / measured`` [%] versus n_in and n_out.

    Parameters
    ----------
    data : DataFrame or path
        Measurements (anything :func:`sweetspot.read_measurements` reads).
    predicted_j_or_result : array_like, FitResult or CVResult
        Predicted energy per request for each row [J], or a result to predict from.
    axes : sequence of two matplotlib Axes, optional
        Where to draw the panel versus n_in and the panel versus n_out. Default: a new
        figure with two panels sharing the y axis.
    band : float
        Draw dotted lines at +-band (0.05 is +-5 %).
    label : str, optional
        Name of the model in the title; default from the result.

    Returns
    -------
    matplotlib.figure.Figure

    Notes
    -----
    In each panel the points are coloured by the other length, so a trend along one length
    that depends on the other (a missing interaction term) shows as ordered colours.
    """
    from matplotlib.colors import LogNorm

    df = _measured(data)
    meas = _per_request(df)
    pred, text = _predictions(df, predicted_j_or_result, label)
    rel = (pred - meas) / meas * 100.0
    mape = float(np.mean(np.abs(rel)))
    if axes is None:
        import matplotlib.pyplot as plt

        _, arr = plt.subplots(1, 2, figsize=(11.0, 4.4), sharey=True, layout="constrained")
        ax_in, ax_out = arr[0], arr[1]
    else:
        if len(axes) != 2:
            raise SpecError(f"axes must be two Axes (versus n_in, versus n_out); got {len(axes)}.")
        ax_in, ax_out = axes[0], axes[1]
    lengths = {"n_in": df["n_in"].to_numpy(dtype=float), "n_out": df["n_out"].to_numpy(dtype=float)}
    for ax, xname, cname in ((ax_in, "n_in", "n_out"), (ax_out, "n_out", "n_in")):
        xv, cv = lengths[xname], lengths[cname]
        ax.axhspan(-band * 100, band * 100, color="0.6", alpha=0.25, lw=0, gid="band")
        ax.axhline(0.0, color="black", lw=0.8)
        norm = LogNorm(cv.min(), cv.max()) if cv.max() > cv.min() else None
        sc = ax.scatter(
            xv, rel, c=cv, cmap="viridis", norm=norm, s=22, edgecolors="black",
            linewidths=0.3, zorder=3,
        )  # fmt: skip
        sc.set_gid(f"residuals-vs-{xname}")
        cbar = ax.figure.colorbar(sc, ax=ax, pad=0.02)
        cbar.set_label(_N_OUT_LABEL if cname == "n_out" else _N_IN_LABEL)
        if cv.max() > cv.min():
            _pow2_ticks(cbar.ax.yaxis, cv.min(), cv.max())
        pad = 2.0**0.3
        _log2_x(ax, xv.min() / pad, xv.max() * pad)
        ax.set_xlabel(_N_IN_LABEL if xname == "n_in" else _N_OUT_LABEL)
        ax.grid(True, which="major", alpha=0.3)
        ax.set_title("versus input length" if xname == "n_in" else "versus output length")
    ax_in.set_ylabel("relative residual (pred - meas) / meas [%]")
    if not ax_out.get_shared_y_axes().joined(ax_in, ax_out):
        ax_out.set_ylabel("relative residual (pred - meas) / meas [%]")
    heading = f"relative residuals of {text} (MAPE {mape:.2f} %)"
    if ax_in.figure is ax_out.figure:
        ax_in.figure.suptitle(heading)
    else:
        for ax in (ax_in, ax_out):
            ax.set_title(f"{heading}\n{ax.get_title()}")
    return _root(ax_in.figure)


def _pick_levels(values: NDArray[np.float64], k: int = 4) -> NDArray[np.float64]:
    """Up to k of the distinct values, spread evenly in log (most common when many)."""
    uniq, counts = np.unique(values, return_counts=True)
    if uniq.size > 24:  # continuous lengths: the most frequent ones
        uniq = np.sort(uniq[np.argsort(-counts, kind="stable")[:24]])
    if uniq.size <= k:
        return uniq
    idx = np.unique(np.round(np.linspace(0, uniq.size - 1, k)).astype(int))
    return uniq[idx]


def energy_vs_linear(
    data: Any,
    result: FitResult,
    linear_result: FitResult,
    *,
    ax: Axes | None = None,
    n_in: ArrayLike | None = None,
    title: str | None = None,
) -> Figure:
    """Energy per request along n_out: measured, the fitted model and the linear baseline.

    Shows why ``c0 + c1 n_in + c2 n_out`` fails: measured energy bends upward with n_out
    (more so at long prompts), a straight line in n_out cannot.

    Parameters
    ----------
    data : DataFrame or path
        Measurements of one LLM (anything :func:`sweetspot.read_measurements` reads).
    result : FitResult
        The fitted model (solid lines).
    linear_result : FitResult
        The baseline, usually ``sweetspot.fit(data, "linear")`` (dashed lines).
    ax : matplotlib Axes, optional
        Where to draw. Default: a new figure.
    n_in : array_like, optional
        Input lengths to show [tokens]; default up to 4 measured levels spread evenly.
    title : str, optional
        Title; default names the measured model and its GPU.

    Returns
    -------
    matplotlib.figure.Figure
    """
    from matplotlib.lines import Line2D

    for name, res in (("result", result), ("linear_result", linear_result)):
        if not isinstance(res, FitResult):
            raise SpecError(f"{name} must be a FitResult; got {type(res).__name__}.")
    df = _measured(data)
    model_name: str | None = None
    if "model" in df.columns:
        names = sorted({str(v) for v in df["model"]})
        if len(names) > 1:
            raise SpecError(
                f"energy_vs_linear draws one LLM; the data holds {len(names)} ({', '.join(names)})."
                " Pass one model's rows, e.g. data[data.model == name]."
            )
        model_name = names[0]
    meas = _per_request(df)
    ni_all = df["n_in"].to_numpy(dtype=float)
    no_all = df["n_out"].to_numpy(dtype=float)
    if n_in is None:
        levels = _pick_levels(ni_all)
    else:
        levels = np.atleast_1d(as_lengths(n_in, "n_in", integer=False)).ravel().astype(float)
    mapes = []
    for res in (result, linear_result):
        p = res.predict_frame(df)
        mapes.append(float(np.mean(np.abs(p - meas) / meas) * 100.0))
    no_lo, no_hi = float(no_all.min()), float(no_all.max())
    grid = np.geomspace(no_lo, no_hi, 200) if no_hi > no_lo else np.array([no_lo])
    ax = _new_axes(ax)
    fig = ax.figure

    def curve(res: FitResult, ni: float) -> NDArray[np.float64]:
        arch = model_name if res.is_pooled else None
        return res.predict(np.full_like(grid, ni), grid, architecture=arch, warn=False)

    level_handles = []
    for ni, c in zip(levels, _colors(levels.size), strict=True):
        rows = ni_all == ni
        if rows.any():
            pts = ax.scatter(no_all[rows], meas[rows], color=c, s=30, edgecolors="black",
                             linewidths=0.4, zorder=3)  # fmt: skip
            pts.set_gid(f"measured-n_in-{ni:g}")
        (m,) = ax.plot(grid, curve(result, ni), color=c, lw=1.8)
        m.set_gid(f"model-n_in-{ni:g}")
        lin = curve(linear_result, ni)
        (b,) = ax.plot(grid[lin > 0], lin[lin > 0], color=c, lw=1.5, ls="--")
        b.set_gid(f"linear-n_in-{ni:g}")
        level_handles.append(Line2D([], [], color=c, lw=6, label=f"n_in = {ni:.0f}"))
    style_handles = [
        Line2D([], [], ls="none", marker="o", color="0.5", mec="black", label="measured"),
        Line2D([], [], color="0.3", lw=1.8, label=f"{result.spec.label} (MAPE {mapes[0]:.1f} %)"),
        Line2D(
            [], [], color="0.3", lw=1.5, ls="--",
            label=f"{linear_result.spec.label} (MAPE {mapes[1]:.1f} %)",
        ),
    ]  # fmt: skip
    first = ax.legend(handles=style_handles, loc="upper left", fontsize="small", framealpha=0.85)
    ax.add_artist(first)
    ax.legend(handles=level_handles, loc="lower right", fontsize="small", framealpha=0.85)
    ax.set_yscale("log")
    shown = [np.asarray(a.get_offsets())[:, 1] for a in ax.collections] + [
        np.asarray(ln.get_ydata(), float) for ln in ax.lines
    ]
    ys = np.concatenate([np.ravel(v) for v in shown]) if shown else np.array([])
    ys = ys[np.isfinite(ys) & (ys > 0)]
    if ys.size:
        ax.set_ylim(float(ys.min()) / 1.3, float(ys.max()) * 1.3)
        _nice_log_ticks(ax.yaxis, float(ys.min()) / 1.3, float(ys.max()) * 1.3)
    pad = 2.0**0.25
    _log2_x(ax, no_lo / pad, no_hi * pad)
    ax.set_xlabel(_N_OUT_LABEL)
    ax.set_ylabel("energy per request [J]")
    if title is None:
        who = _describe(result).split(":")[0] if result.models else (model_name or "")
        title = f"{who}: energy per request" if who else "energy per request"
    ax.set_title(title)
    ax.grid(True, which="major", alpha=0.3)
    return _root(fig)


# ---------------------------------------------------------------------------------------
# the report
# ---------------------------------------------------------------------------------------
def _slug(label: str) -> str:
    s = re.sub(r"[^a-z0-9.]+", "-", label.lower()).strip("-.")
    return s or "fit"


def save_report_figures(
    results: Mapping[str, FitResult],
    out_dir: str | Path,
    *,
    data: Mapping[str, Any] | None = None,
    dpi: int = 150,
) -> list[Path]:
    """Write the report's figures as PNG files and return their paths, in order.

    Parameters
    ----------
    results : mapping of str to FitResult
        Fits by label (e.g. ``"falcon-7b/A100/flops"``); the label names the files.
    out_dir : str or Path
        Folder to write to (created if missing; files of the same name are overwritten).
    data : mapping of str to DataFrame or path, optional
        Measurements by the same labels. A fit with data also gets a parity plot, residuals
        and, for a single-LLM data set, the comparison with a linear baseline fitted to it.
    dpi : int
        Resolution of the PNG files.

    Returns
    -------
    list of Path
        Per fit, in the order of ``results``: ``<slug>-heatmap.png``,
        ``<slug>-efficiency.png``, then with data ``<slug>-parity.png``,
        ``<slug>-residuals.png`` and ``<slug>-vs-linear.png``. ``<slug>`` is the label in
        lower case with runs of other characters than ``a-z0-9.`` replaced by ``-`` (``-2``,
        ``-3``... appended if two labels collide). A pooled fit has no single heatmap: its
        efficiency figures are drawn per architecture (``<slug>-<arch>-heatmap.png``...)
        when its engine keeps a KV cache, and skipped otherwise.
    """
    from matplotlib.figure import Figure as _Figure

    from .fitting import fit

    if not isinstance(results, Mapping):
        raise SpecError(
            "results must be a mapping {label: FitResult}, e.g. {'falcon-7b': res}; got "
            f"{type(results).__name__}."
        )
    for lab, res in results.items():
        if not isinstance(res, FitResult):
            raise SpecError(f"results[{lab!r}] must be a FitResult; got {type(res).__name__}.")
    if data is not None and not isinstance(data, Mapping):
        raise SpecError(
            "data must be a mapping {label: measurements} with the labels of results; got "
            f"{type(data).__name__}."
        )
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []

    def new(size: tuple[float, float]) -> _Figure:
        return _Figure(figsize=size, layout="constrained")

    def write(fig: _Figure, name: str) -> None:
        path = out / f"{name}.png"
        fig.savefig(path, dpi=dpi)
        written.append(path)

    used: set[str] = set()
    for label, res in results.items():
        slug = base = _slug(str(label))
        k = 2
        while slug in used:
            slug, k = f"{base}-{k}", k + 1
        used.add(slug)
        targets: list[tuple[str, ThetaLike, str | None]] = []
        if not res.is_pooled:
            targets.append((slug, res, None if res.models else f"{label}: {res.spec.label}"))
        else:
            for arch_name, _ in res.architectures:
                theta = res.theta_for(arch_name)
                if theta is not None:
                    title = f"{arch_name} (pooled {res.spec.label})"
                    targets.append((f"{slug}-{_slug(arch_name)}", theta, title))
        for name, params, head in targets:
            fig = new((6.4, 5.0))
            efficiency_heatmap(params, ax=fig.add_subplot(), title=head)
            write(fig, f"{name}-heatmap")
            fig = new((7.0, 4.8))
            efficiency_vs_n_out(params, ax=fig.add_subplot(), title=head)
            write(fig, f"{name}-efficiency")
        if data is None or label not in data:
            continue
        df = _measured(data[label])
        name_it = None if res.models else f"{label}: {res.spec.label}"
        fig = new((5.8, 5.0))
        parity(df, res, ax=fig.add_subplot(), label=name_it)
        write(fig, f"{slug}-parity")
        fig = new((11.0, 4.4))
        a, b = fig.subplots(1, 2, sharey=True)
        residuals(df, res, axes=(a, b), label=name_it)
        write(fig, f"{slug}-residuals")
        single = "model" not in df.columns or df["model"].nunique() <= 1
        if single and res.spec.name != "linear":
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # the baseline's own fit warnings are expected
                lin = fit(df, "linear")
            fig = new((7.0, 5.0))
            vs_title = None if res.models else f"{label}: energy per request"
            energy_vs_linear(df, res, lin, ax=fig.add_subplot(), title=vs_title)
            write(fig, f"{slug}-vs-linear")
    return written


def save_overview_figures(
    fits: Mapping[str, ThetaLike],
    groups: Mapping[str, str],
    out_dir: str | Path,
    *,
    prefix: str,
    n_in: float = 64.0,
    dpi: int = 150,
) -> list[Path]:
    """Write the figures of several LLMs at once (:func:`efficiency_by_group` and
    :func:`normalised_efficiency_heatmap`) as ``<prefix>-efficiency-by-group.png`` and
    ``<prefix>-normalised-heatmap.png``; returns their paths."""
    from matplotlib.figure import Figure as _Figure

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    slug = _slug(prefix)
    fig = efficiency_by_group(fits, groups, n_in=n_in)
    path = out / f"{slug}-efficiency-by-group.png"
    fig.savefig(path, dpi=dpi)
    written.append(path)
    fig = _Figure(figsize=(6.6, 5.6), layout="constrained")
    normalised_efficiency_heatmap(fits, ax=fig.add_subplot())
    path = out / f"{slug}-normalised-heatmap.png"
    fig.savefig(path, dpi=dpi)
    written.append(path)
    return written


# ---------------------------------------------------------------------------------------
# batched serving: the paper's Figures 1 and 4 as predictions, leave-one-model-out parity
# ---------------------------------------------------------------------------------------
def _published(fit_result: FitResult | None) -> FitResult:
    if fit_result is not None:
        return fit_result
    from .tables import load_pooled

    return load_pooled("H100")


def serving_efficiency(
    fit_result: FitResult,
    architecture: Architecture | str,
    configs: Mapping[str, ServingConfig],
    *,
    n_in: float = 64.0,
    n_out: ArrayLike | None = None,
    gpu: str | None = None,
    quotes: Sequence[tuple[str, str, float | None, float]] = (),
    reference: ThetaLike | None = None,
    reference_label: str = "reference",
    ax: Axes | None = None,
    title: str | None = None,
) -> Figure:
    """Output tokens per joule versus n_out at one n_in, one curve per engine configuration.

    Parameters
    ----------
    fit_result : FitResult
        Physical (pooled) constants, bound to ``architecture`` once per configuration
        (:meth:`FitResult.bind`): each point at the batch size of the concurrency rule.
    architecture : Architecture or str
        The LLM.
    configs : mapping of str to ServingConfig
        Curve label -> engine configuration, drawn in order (dark to light).
    n_in : float
        Input length of every curve [tokens].
    n_out : array_like, optional
        Output lengths [tokens]; default 64..4096.
    gpu : str, optional
        The GPU (default the fit's).
    quotes : sequence of (config label, text, n_out or None, tokens/J)
        Published numbers to draw: a diamond at ``(n_out, tokens/J)`` in the colour of its
        curve, or a dotted horizontal line for a value without an n_out (a peak).
    reference : theta or FitResult, optional
        A measured surface to draw dashed in grey (e.g. the paper's Table 5 coefficients).
    reference_label : str
        Its legend text.
    ax : matplotlib Axes, optional
        Where to draw.
    title : str, optional
        Title.

    Returns
    -------
    matplotlib.figure.Figure

    Notes
    -----
    Batch sizes below or above the fitted ones (few requests per run) are extrapolations;
    the predictions here are drawn without warnings, and the legend gives each curve's peak.
    """
    from .architecture import get_architecture

    if not isinstance(configs, Mapping) or not configs:
        raise SpecError("configs must be a non-empty mapping {label: ServingConfig}.")
    arch = get_architecture(architecture)
    no = (
        np.asarray(2.0 ** np.linspace(6, 12, 6 * 32 + 1))
        if n_out is None
        else np.unique(np.atleast_1d(as_lengths(n_out, "n_out", integer=False)).ravel())
    )
    ax = _new_axes(ax, figsize=(7.0, 5.0))
    colors = dict(zip(configs, _colors(len(configs)), strict=True))
    all_eta = []
    for label, cfg in configs.items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            bound = fit_result.bind(arch, serving=cfg, gpu=gpu)
            eta = no / bound.predict(np.full_like(no, n_in), no, warn=False)
        k = int(np.argmax(eta))
        (line,) = ax.plot(
            no, eta, color=colors[label], lw=1.8,
            label=f"{label}: peak {eta[k]:.3g} at n_out = {no[k]:.0f}",
        )  # fmt: skip
        line.set_gid(f"serving-{_slug(label)}")
        all_eta.append(eta)
    if reference is not None:
        ref = no / np.asarray(energy(reference, n_in, no), dtype=float)
        (line,) = ax.plot(no, ref, color="0.45", lw=1.2, ls="--", label=reference_label)
        line.set_gid("reference")
        all_eta.append(ref)
    for label, text, q_out, value in quotes:
        c = colors.get(label, "black")
        if q_out is None:
            ln = ax.axhline(value, color=c, lw=1.0, ls=":", label=f"paper: {text}")
        else:
            (ln,) = ax.plot(
                [q_out], [value], "D", color=c, mec="black", mew=0.8, ms=7,
                label=f"paper: {text}", zorder=4,
            )  # fmt: skip
            ln.set_clip_on(False)
        ln.set_gid(f"quote-{_slug(text)}")
        all_eta.append(np.array([value]))
    vals = np.concatenate(all_eta)
    vals = vals[np.isfinite(vals) & (vals > 0)]
    ax.set_yscale("log")
    lo_y, hi_y = float(vals.min()) / 1.2, float(vals.max()) * 1.2
    ax.set_ylim(lo_y, hi_y)
    _nice_log_ticks(ax.yaxis, lo_y, hi_y)
    _log2_x(ax, float(no[0]), float(no[-1]))
    ax.set_xlabel(_N_OUT_LABEL)
    ax.set_ylabel(_EFF_LABEL)
    ax.set_title(title if title is not None else f"{arch.name}, n_in = {n_in:g}")
    ax.grid(True, which="major", alpha=0.3)
    _legend_below(ax, ncols=1)
    return _root(ax.figure)


def paper_figure1(
    fit_result: FitResult | None = None,
    *,
    folder: str | Path | None = None,
    gpu: str | None = None,
    axes: Sequence[Axes] | None = None,
) -> Figure:
    """The paper's Figure 1 effect, predicted: Falcon-RW-7B with 10, 100 and 1000 requests
    per run.

    Left: efficiency versus n_out at n_in = 64, one curve per run size. Right: the range of
    efficiency over the 7 x 7 grid, predicted (bars) against the ranges the paper quotes
    (0.42-2.25 tokens/J with 10 requests, 0.50-18.78 with 1000) and, with ``folder``, the
    LLM's own Table 5 surface.

    Parameters
    ----------
    fit_result : FitResult, optional
        Pooled serving constants (default the published ones, ``load_pooled("H100")``).
    folder : path, optional
        The paper's data folder (``../shared/data/sweetspot-paper-h100``), for the Table 5
        surface.
    gpu : str, optional
        The GPU (default the fit's).
    axes : two matplotlib Axes, optional
        Where to draw.

    Returns
    -------
    matplotlib.figure.Figure
    """
    from .evaluate import figure_effects, figure_serving, paper_thetas

    res = _published(fit_result)
    model = "Falcon-RW (7.5B)"
    if axes is None:
        import matplotlib.pyplot as plt

        _, arr = plt.subplots(
            1, 2, figsize=(12.0, 5.6), layout="constrained", width_ratios=(1.6, 1.0)
        )
        ax_l, ax_r = arr[0], arr[1]
    else:
        if len(axes) != 2:
            raise SpecError(f"axes must be two Axes; got {len(axes)}.")
        ax_l, ax_r = axes[0], axes[1]
    settings = (10, 100, 1000)
    configs = {f"{n} requests per run": figure_serving(1, n) for n in settings}
    theta = paper_thetas(folder)[model] if folder is not None else None
    serving_efficiency(
        res, model, configs, n_in=64.0, gpu=gpu, reference=theta,
        reference_label="Table 5 surface (1000 requests)", ax=ax_l,
        title=f"{model}, n_in = 64: predicted",
    )  # fmt: skip
    eff = figure_effects(res, folder=folder, gpu=gpu or res.gpu or "h100-sxm")
    levels = np.array(N_IN_GRID, dtype=float)
    gi, go = (a.ravel() for a in np.meshgrid(levels, levels, indexing="ij"))
    colors = _colors(len(settings))
    for k, (n, c) in enumerate(zip(settings, colors, strict=True)):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            bound = res.bind(model, serving=figure_serving(1, n), gpu=gpu)
            e = go / bound.predict(gi, go, warn=False)
        ax_r.vlines(k - 0.12, e.min(), e.max(), color=c, lw=9, gid=f"predicted-range-{n}")
        q = eff[(eff["figure"] == 1) & (eff["setting"] == n)]
        if len(q) == 2:
            lo, hi = float(q["paper"].min()), float(q["paper"].max())
            ax_r.errorbar(
                [k + 0.12], [np.sqrt(lo * hi)],
                yerr=[[np.sqrt(lo * hi) - lo], [hi - np.sqrt(lo * hi)]],
                fmt="none", ecolor="black", capsize=6, lw=1.5, gid=f"paper-range-{n}",
            )  # fmt: skip
        if theta is not None and n == 1000:
            eta = go / energy(theta, gi, go)
            ax_r.vlines(k + 0.32, eta.min(), eta.max(), color="0.45", lw=3, gid="table5-range")
    ax_r.plot([], [], color="0.25", lw=9, label="predicted range over the 7x7 grid (colours: left)")
    ax_r.errorbar(
        [], [], yerr=[], fmt="none", ecolor="black", capsize=6, label="paper's quoted range"
    )
    if theta is not None:
        ax_r.plot([], [], color="0.45", lw=3, label="Table 5 surface (1000 requests)")
    ax_r.set_yscale("log")
    ax_r.set_xticks(range(len(settings)), [f"{n}" for n in settings])
    ax_r.set_xlim(-0.6, len(settings) - 0.4)
    ax_r.set_xlabel("requests per run")
    ax_r.set_ylabel(_EFF_LABEL)
    ax_r.set_title("efficiency range over n_in, n_out in 64..4096")
    ax_r.grid(True, which="major", alpha=0.3)
    _legend_below(ax_r)
    return _root(ax_l.figure)


def paper_figure4(
    fit_result: FitResult | None = None,
    *,
    folder: str | Path | None = None,
    gpu: str | None = None,
    ax: Axes | None = None,
) -> Figure:
    """The paper's Figure 4 effect, predicted: Llama 3.2 1B at n_in = 64 with max_batch_size
    64, 128, 256, 512 and 1024, with the points the paper quotes (120.71 tokens/J at
    n_out = 256 and 51.90 at 4096 with 1024; 47.27 at 4096 with 256; a peak of 48.90 with 64).

    Parameters
    ----------
    fit_result : FitResult, optional
        Pooled serving constants (default the published ones).
    folder : path, optional
        The paper's data folder, to draw the LLM's Table 5 surface (max_batch_size 1024).
    gpu : str, optional
        The GPU (default the fit's).
    ax : matplotlib Axes, optional
        Where to draw.

    Returns
    -------
    matplotlib.figure.Figure
    """
    from .evaluate import PAPER_FIGURE_QUOTES, figure_serving, paper_thetas

    res = _published(fit_result)
    model = "Llama 3.2 (1B)"
    sizes = (64, 128, 256, 512, 1024)
    configs = {f"max_batch_size {n}": figure_serving(4, n) for n in sizes}
    quotes: list[tuple[str, str, float | None, float]] = []
    for fig_no, _, quantity, setting, _, n_out, value in PAPER_FIGURE_QUOTES:
        if fig_no != 4:
            continue
        label = f"max_batch_size {setting}"
        if quantity == "peak":
            quotes.append((label, f"peak {value:g} ({label})", None, value))
        else:
            quotes.append((label, f"{value:g} at n_out = {n_out} ({label})", float(n_out), value))
    theta = paper_thetas(folder)[model] if folder is not None else None
    return serving_efficiency(
        res, model, configs, n_in=64.0, gpu=gpu, quotes=quotes, reference=theta,
        reference_label="Table 5 surface (max_batch_size 1024)", ax=ax,
        title=f"{model}, n_in = 64: predicted per max_batch_size",
    )  # fmt: skip


def parity_by_model(
    data: Any,
    predicted_j: ArrayLike | CVResult,
    *,
    ax: Axes | None = None,
    band: float = 0.10,
    title: str | None = None,
) -> Figure:
    """Predicted versus measured energy per request, one colour per LLM (log-log).

    Made for leave-one-model-out predictions (a :class:`~sweetspot.fitting.CVResult` of
    ``cross_validate(..., groups="model")``): each LLM's points come from constants fitted
    on the others. The legend gives each LLM's MAPE.

    Parameters
    ----------
    data : DataFrame
        Rows with ``model``, ``n_in``, ``n_out``, ``energy_j`` (and ``n_requests``).
    predicted_j : array_like or CVResult
        One prediction per row [J].
    ax : matplotlib Axes, optional
        Where to draw.
    band : float
        Half-width of the shaded relative band (0.10 is +-10 %); +-5 % is dotted.
    title : str, optional
        Title.

    Returns
    -------
    matplotlib.figure.Figure
    """
    from matplotlib import colormaps

    if not (isinstance(band, (int, float)) and 0 < band < 1):
        raise SpecError(f"band must be a fraction in (0, 1), e.g. 0.1 for +-10 %; got {band!r}.")
    df = _measured(data)
    if "model" not in df.columns:
        raise SpecError("parity_by_model needs a 'model' column to colour the LLMs.")
    meas = _per_request(df)
    pred, text = _predictions(df, predicted_j, None)
    ape = np.abs(pred - meas) / meas * 100.0
    ax = _new_axes(ax, figsize=(7.4, 6.4))
    lo = float(min(meas.min(), pred[pred > 0].min())) / 1.5
    hi = float(max(meas.max(), pred.max())) * 1.5
    xx = np.geomspace(lo, hi, 100)
    ax.fill_between(xx, xx * (1 - band), xx * (1 + band), color="0.6", alpha=0.3, lw=0,
                    label=f"±{band * 100:g} %", gid="band")  # fmt: skip
    for f in (0.95, 1.05):
        ax.plot(xx, xx * f, color="0.4", lw=0.8, ls=":")
    ax.plot(xx, xx, color="black", lw=1.0, gid="identity")
    models = list(pd.unique(df["model"]))
    cmap = colormaps["tab20"]
    markers = "ovs^Dp<>h*XPd"
    labels = df["model"].to_numpy()
    for k, m in enumerate(models):
        sel = (labels == m) & (pred > 0)
        sc = ax.scatter(
            meas[sel], pred[sel], s=18, color=cmap(k % 20), marker=markers[k % len(markers)],
            edgecolors="black", linewidths=0.3, zorder=3,
            label=f"{m}: {float(ape[labels == m].mean()):.1f} %",
        )  # fmt: skip
        sc.set_gid(f"points-{_slug(str(m))}")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(lo, hi)
    ax.set_ylim(lo, hi)
    _nice_log_ticks(ax.xaxis, lo, hi)
    _nice_log_ticks(ax.yaxis, lo, hi)
    ax.set_aspect("equal")
    ax.set_xlabel("surface energy per request [J]")
    ax.set_ylabel("predicted energy per request [J]")
    head = title if title is not None else text
    ax.set_title(f"{head}\nMAPE {float(ape.mean()):.2f} %, max APE {float(ape.max()):.1f} %")
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(loc="center left", bbox_to_anchor=(1.02, 0.5), fontsize="small", frameon=False)
    return _root(ax.figure)


def save_serving_figures(
    out_dir: str | Path,
    *,
    folder: str | Path | None = None,
    fit_result: FitResult | None = None,
    dpi: int = 130,
) -> list[Path]:
    """Write ``paper-figure1-requests.png`` and ``paper-figure4-batch.png`` and, with the
    paper's data ``folder``, ``lomo-parity.png`` (the ``serving`` family left one LLM out at
    a time on the 13 surfaces); returns their paths."""
    from matplotlib.figure import Figure as _Figure

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    res = _published(fit_result)
    written = []
    fig = _Figure(figsize=(12.0, 5.8), layout="constrained")
    paper_figure1(res, folder=folder, axes=list(fig.subplots(1, 2, width_ratios=(1.6, 1.0))))
    written.append(out / "paper-figure1-requests.png")
    fig.savefig(written[-1], dpi=dpi)
    fig = _Figure(figsize=(7.4, 6.8), layout="constrained")
    paper_figure4(res, folder=folder, ax=fig.add_subplot())
    written.append(out / "paper-figure4-batch.png")
    fig.savefig(written[-1], dpi=dpi)
    if folder is not None:
        from .evaluate import BEST_SERVING_FAMILY, paper_surfaces, serving_families
        from .fitting import cross_validate

        data = paper_surfaces(folder)
        fam = next(f for f in serving_families() if f.name == BEST_SERVING_FAMILY)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            cv = cross_validate(
                data, fam.spec, groups="model",
                architecture={str(m): str(m) for m in pd.unique(data["model"])},
            )  # fmt: skip
        fig = _Figure(figsize=(9.0, 6.4), layout="constrained")
        parity_by_model(
            data, cv, ax=fig.add_subplot(),
            title=f"13 H100 surfaces, each LLM left out\n{fam.spec.label}",
        )  # fmt: skip
        written.append(out / "lomo-parity.png")
        fig.savefig(written[-1], dpi=dpi)
    return written
