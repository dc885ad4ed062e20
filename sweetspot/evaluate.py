"""Honest evaluation of every model family on measured data.

For every measured group (by default one LLM on one GPU configuration: ``model`` x
``n_gpus``) and every model family, :func:`evaluate` reports

- in-sample MAPE and max APE,
- random k-fold cross-validated MAPE (``k=5``, ``numpy.random.default_rng(seed)``),
- grouped cross-validation that measures extrapolation: leave one prompt out (or one n_in
  level when there is no ``prompt`` column) and leave one n_out level out,
- for the physical families, fitted *pooled* across the groups that share a GPU and GPU
  count, leave-one-model-out MAPE: the held-out LLM is predicted from the other LLMs'
  hardware constants and its own architecture, i.e. without a single measurement of it.

All figures are percentages. A family that cannot be fitted on a group (e.g. a rank-deficient
design) gets ``None`` with the reason in ``note``; nothing is skipped silently.

The physical families take the engine facts from the data, the same for every group:
``kv_cache`` from the ``kv_cache`` column (True when absent), and for engines that do not
fuse attention (``engine`` = ``hf-transformers``) the LM head over all positions.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import pandas as pd

from .architecture import Architecture, get_architecture
from .exceptions import ArchitectureError, FitError, SpecError, SweetspotWarning
from .fitting import FitData, cross_validate, fit
from .models import ModelSpec

__all__ = [
    "DEFAULT_FAMILIES",
    "PAPER_FAMILIES",
    "Family",
    "choose_model",
    "evaluate",
    "families_for",
    "paper_comparison",
    "summarise",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class Family:
    """A model family as evaluated: a name and the spec (engine facts filled from data)."""

    name: str
    spec: ModelSpec


#: Families evaluated by default, in report order. The physical ones get ``kv_cache`` and
#: ``logits`` from the data (see :func:`families_for`).
DEFAULT_FAMILIES: tuple[Family, ...] = (
    Family(name="linear", spec=ModelSpec(name="linear")),
    Family(name="wilkins", spec=ModelSpec(name="wilkins")),
    Family(name="sweetspot", spec=ModelSpec(name="sweetspot")),
    Family(name="per_token", spec=ModelSpec(name="per_token")),
    Family(name="per_token_fixed", spec=ModelSpec(name="per_token_fixed")),
    Family(name="per_token_context", spec=ModelSpec(name="per_token_context")),
    Family(name="sweetspot_flops", spec=ModelSpec(name="sweetspot_flops")),
    Family(name="flops", spec=ModelSpec(name="flops")),
    Family(name="memory_flops", spec=ModelSpec(name="memory_flops")),
    Family(name="flops+overhead", spec=ModelSpec(name="flops", per_pass=True)),
    Family(
        name="flops+overhead+eager",
        spec=ModelSpec(name="flops", per_pass=True, eager_attention=True, split_phases=False),
    ),
)


def families_for(data: pd.DataFrame, families: Sequence[Family] = DEFAULT_FAMILIES) -> list[Family]:
    """Fill the engine facts of the physical families from the data's columns.

    ``kv_cache`` comes from the ``kv_cache`` column; ``eager_attention`` and ``logits="all"``
    apply only to an engine known not to fuse attention (``engine == "hf-transformers"``,
    Hugging Face ``transformers`` as in the Wilkins et al. data); elsewhere the eager
    families fall back to fused attention, so they are still evaluated but without
    the score term.
    """
    kv = _single(data, "kv_cache", True)
    engine = str(_single(data, "engine", ""))
    hf = engine == "hf-transformers"
    out = []
    for fam in families:
        spec = fam.spec
        if spec.is_physical:
            spec = replace(
                spec,
                kv_cache=bool(kv),
                logits="all" if hf else spec.logits,
                eager_attention=spec.eager_attention and hf,
            )
        out.append(Family(name=fam.name, spec=spec))
    return out


def _single(data: pd.DataFrame, col: str, default: Any) -> Any:
    if col not in data.columns:
        return default
    vals = pd.unique(data[col])
    if len(vals) != 1:
        raise SpecError(
            f"the data mixes {col} values {list(vals)}; evaluate one engine configuration "
            f"at a time (filter on {col!r})."
        )
    return vals[0].item() if hasattr(vals[0], "item") else vals[0]


def _try(fn: Any, *args: Any, **kwargs: Any) -> tuple[Any, str]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SweetspotWarning)
        try:
            return fn(*args, **kwargs), ""
        except (FitError, SpecError) as exc:
            return None, str(exc)


def evaluate(
    data: Any,
    *,
    families: Sequence[Family] = DEFAULT_FAMILIES,
    group_by: Sequence[str] = ("model", "n_gpus"),
    pool_by: Sequence[str] = ("gpu", "n_gpus"),
    k: int = 5,
    seed: int = 0,
    loss: str = "relative",
    architectures: Mapping[str, Any] | None = None,
    progress: Any = None,
) -> pd.DataFrame:
    """Evaluate every family on every group; one row per (group, family).

    Parameters
    ----------
    data : DataFrame or path
        Measurements (see :func:`sweetspot.read_measurements`); needs a ``model`` column.
    families : sequence of Family
        Families to evaluate (engine facts are filled from the data).
    group_by : sequence of str
        Columns that define one measured configuration (absent columns are ignored).
    pool_by : sequence of str
        Columns whose groups share hardware, for the pooled leave-one-model-out fits.
    k, seed : int
        Random k-fold cross-validation (rows shuffled with ``default_rng(seed)``).
    loss : str
        Fitting loss of every fit.
    architectures : mapping, optional
        Model name -> preset name or Architecture, for names the presets do not resolve.
    progress : callable, optional
        Called with a short text before each group (the CLI uses it for a progress bar).

    Returns
    -------
    DataFrame
        Columns ``model, n_gpus, gpu, family, label, n_rows, mape, max_ape, cv_mape,
        cv_max_ape, lopo_mape, lono_mape, lomo_mape, note`` (percent; None where a figure
        does not apply or could not be computed, with the reason in ``note``).
    """
    from .io import read_measurements

    df = read_measurements(data)
    if "model" not in df.columns:
        raise SpecError(
            "evaluate needs a 'model' column naming the measured LLM of each row; add it or "
            "use sweetspot.fit / cross_validate on a single model's data."
        )
    keys = [c for c in group_by if c in df.columns]
    pools = [c for c in pool_by if c in df.columns]
    fams = families_for(df, families)
    arch_map = {m: (architectures or {}).get(m, m) for m in pd.unique(df["model"])}
    prompt_col = "prompt" if "prompt" in df.columns else "n_in"
    records: list[dict[str, Any]] = []
    for key, g in df.groupby(keys, sort=True):
        key_t = key if isinstance(key, tuple) else (key,)
        if progress is not None:
            progress(" ".join(str(v) for v in key_t))
        base: dict[str, Any] = dict(zip(keys, key_t, strict=True))
        gpu = str(g["gpu"].iloc[0]) if "gpu" in g.columns else ""
        pg = FitData.from_frame(g)  # validated once above; every fit below reuses these arrays
        for fam in fams:
            rec: dict[str, Any] = {
                "model": base.get("model"),
                "n_gpus": int(base["n_gpus"]) if "n_gpus" in base else None,
                "gpu": gpu,
                "family": fam.name,
                "label": fam.spec.label,
                "n_rows": len(g),
            }
            arch = {str(base["model"]): arch_map[base["model"]]} if fam.spec.is_physical else None
            res, note = _try(fit, pg, fam.spec, architecture=arch, loss=loss)
            notes = [note] if note else []
            rec["mape"] = None if res is None else res.mape
            rec["max_ape"] = None if res is None else res.max_ape
            cv, note = _try(
                cross_validate, pg, fam.spec, k=k, seed=seed, architecture=arch, loss=loss
            )
            rec["cv_mape"] = None if cv is None else cv.mape
            rec["cv_max_ape"] = None if cv is None else cv.max_ape
            if note and not notes:
                notes.append(note)
            lopo, _ = _try(
                cross_validate, pg, fam.spec, groups=prompt_col, architecture=arch, loss=loss
            )
            rec["lopo_mape"] = None if lopo is None else lopo.mape
            lono, _ = _try(
                cross_validate, pg, fam.spec, groups="n_out", architecture=arch, loss=loss
            )
            rec["lono_mape"] = None if lono is None else lono.mape
            rec["lomo_mape"] = None
            rec["note"] = "; ".join(dict.fromkeys(n for n in notes if n))[:300] or None
            records.append(rec)
    out = pd.DataFrame.from_records(records)
    _add_lomo(out, df, fams, pools, arch_map, loss, progress)
    return out


def _add_lomo(
    out: pd.DataFrame,
    df: pd.DataFrame,
    fams: Sequence[Family],
    pools: Sequence[str],
    arch_map: Mapping[Any, Any],
    loss: str,
    progress: Any,
) -> None:
    groups: Any = df.groupby(list(pools), sort=True) if pools else [((), df)]
    for key, pool in groups:
        models = sorted(pd.unique(pool["model"]))
        if len(models) < 2:
            continue
        if progress is not None:
            progress(f"pooled {key}")
        archs = {m: arch_map[m] for m in models}
        pooled = FitData.from_frame(pool)
        for fam in fams:
            if not fam.spec.is_physical:
                continue
            cv, _ = _try(
                cross_validate,
                pooled,
                fam.spec,
                groups="model",
                architecture=archs,
                loss=loss,
            )
            if cv is None:
                continue
            for label, m in zip(cv.fold_labels, cv.fold_mape, strict=True):
                sel = (out["model"] == label) & (out["family"] == fam.name)
                if "n_gpus" in pools:
                    n = key[list(pools).index("n_gpus")] if isinstance(key, tuple) else key
                    sel &= out["n_gpus"] == int(n)
                out.loc[sel, "lomo_mape"] = float(m)


def summarise(table: pd.DataFrame) -> pd.DataFrame:
    """Mean and max over groups of each family's figures, best cross-validated first."""
    num = ["mape", "cv_mape", "lopo_mape", "lono_mape", "lomo_mape"]
    t = table.copy()
    for c in num:
        t[c] = pd.to_numeric(t[c], errors="coerce")
    agg = t.groupby("family", sort=False).agg(
        label=("label", "first"),
        groups=("cv_mape", "count"),
        mape_mean=("mape", "mean"),
        cv_mape_mean=("cv_mape", "mean"),
        cv_mape_max=("cv_mape", "max"),
        lopo_mape_mean=("lopo_mape", "mean"),
        lono_mape_mean=("lono_mape", "mean"),
        lomo_mape_max=("lomo_mape", "max"),
    )
    return agg.sort_values("cv_mape_mean").reset_index()


def choose_model(
    data: pd.DataFrame, architecture: str | Architecture | None = None
) -> tuple[str | ModelSpec, str]:
    """The richest model the data identify, and why (``sweetspot fit --model auto``).

    The six-term ``"sweetspot"`` model when the grid has at least 3 levels of both lengths
    (and 6 rows); otherwise the physical ``flops`` model (``kv_cache`` from the data) when the
    architecture is known; otherwise the ``"linear"`` baseline.

    Parameters
    ----------
    data : DataFrame
        Measurements as :func:`sweetspot.read_measurements` returns them.
    architecture : str or Architecture, optional
        The measured LLM's architecture (a preset name or an :class:`Architecture`); default:
        the presets named by the ``model`` column, when every one of them is known.

    Returns
    -------
    model : str or ModelSpec
        The model to pass to :func:`sweetspot.fit`.
    reason : str
        Why, e.g. ``"4 n_in x 4 n_out levels"``.

    Raises
    ------
    SpecError
        ``data`` is not a DataFrame with ``n_in`` and ``n_out`` columns.

    Examples
    --------
    >>> import pandas as pd
    >>> from sweetspot.evaluate import choose_model
    >>> grid = pd.DataFrame({"n_in": [64, 256, 1024] * 2, "n_out": [64] * 3 + [256] * 3})
    >>> model, why = choose_model(grid)
    >>> model
    'linear'
    >>> model, why = choose_model(grid, "llama-3.1-8b")
    >>> model.label
    'flops[cache=on]'
    >>> why
    'only 3 n_in and 2 n_out levels (the six-term model needs 3 each); the architecture is known'
    """
    if not isinstance(data, pd.DataFrame) or not {"n_in", "n_out"} <= set(data.columns):
        raise SpecError(
            "choose_model needs measurements with columns n_in and n_out; got "
            f"{type(data).__name__}. Read them with sweetspot.read_measurements first."
        )
    n_in_levels = data["n_in"].nunique()
    n_out_levels = data["n_out"].nunique()
    if n_in_levels >= 3 and n_out_levels >= 3 and len(data) >= 6:
        return "sweetspot", f"{n_in_levels} n_in x {n_out_levels} n_out levels"
    grid = (
        f"only {n_in_levels} n_in and {n_out_levels} n_out levels (the six-term model needs 3 each)"
    )
    names: list[Any] = (
        [architecture]
        if architecture
        else sorted(data["model"].astype(str).unique())
        if "model" in data
        else []
    )
    try:
        known = bool(names) and all(get_architecture(n) for n in names)
    except ArchitectureError:
        known = False
    if known:
        kv = bool(data["kv_cache"].iloc[0]) if "kv_cache" in data.columns else True
        return ModelSpec(name="flops", kv_cache=kv), f"{grid}; the architecture is known"
    return "linear", f"{grid} and no known architecture"


#: The SweetSpot paper's Table 3 columns: its baselines B1-B4 and its two models, with the
#: family that implements each here (Pizzini Cavagna et al., arXiv:2602.05695, Table 3).
PAPER_FAMILIES: Mapping[str, str] = {
    "B1 J/token": "per_token",
    "B2 a+b/n_out": "per_token_fixed",
    "B3 a+b/(n_in+n_out)": "per_token_context",
    "B4 Wilkins": "wilkins",
    "FLOPs-based": "sweetspot_flops",
    "Memory+FLOPs": "sweetspot",
}


def paper_comparison(table: pd.DataFrame, *, column: str = "mape") -> pd.DataFrame:
    """A Table-3-style comparison: one row per LLM (and GPU count), one column per family.

    Parameters
    ----------
    table : DataFrame
        The output of :func:`evaluate` (which fits every family of :data:`PAPER_FAMILIES`).
    column : {"mape", "cv_mape"}
        In-sample or k-fold cross-validated MAPE.

    Returns
    -------
    DataFrame
        MAPE [%] with the paper's column headings, then an ``Average`` row and a ``Std``
        row (population standard deviation, as the paper reports it) over the LLMs.
    """
    if column not in ("mape", "cv_mape"):
        raise SpecError(f"column must be 'mape' or 'cv_mape'; got {column!r}.")
    keys = [c for c in ("model", "n_gpus") if c in table.columns]
    sel = table[table["family"].isin(list(PAPER_FAMILIES.values()))]
    wide = sel.pivot_table(index=keys, columns="family", values=column, aggfunc="first")
    wide = wide.reindex(columns=list(PAPER_FAMILIES.values()))
    wide.columns = list(PAPER_FAMILIES)
    wide.index = [
        " x".join(str(v) for v in (k if isinstance(k, tuple) else (k,))) for k in wide.index
    ]
    wide = wide.astype(float)
    wide.loc["Average"] = wide.iloc[: len(wide)].mean()
    wide.loc["Std"] = wide.iloc[:-1].std(ddof=0)
    return wide
