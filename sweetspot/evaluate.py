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

import csv
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from .architecture import Architecture, get_architecture
from .exceptions import ArchitectureError, FitError, SpecError, SweetspotWarning, TableError
from .fitting import FitData, cross_validate, fit
from .models import ModelSpec
from .optimum import N_IN_GRID, energy
from .serving import PAPER_GPU, PAPER_SERVING, GPUSpec, ServingConfig, concurrency, get_gpu

__all__ = [
    "BEST_SERVING_FAMILY",
    "DEFAULT_FAMILIES",
    "PAPER_FAMILIES",
    "PAPER_FIGURE_QUOTES",
    "PAPER_LEVELS",
    "Family",
    "choose_model",
    "evaluate",
    "evaluate_serving",
    "families_for",
    "figure_effects",
    "figure_serving",
    "paper_comparison",
    "paper_surfaces",
    "paper_thetas",
    "serving_families",
    "serving_sweet_spots",
    "summarise",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class Family:
    """A model family as evaluated: a name and the spec (engine facts filled from data).

    ``batch`` says which batch size each row is priced at: ``"data"`` the rows' own
    ``batch_size`` column (from the concurrency rule for the paper's surfaces), ``"one"``
    batch size 1 for every row (the batch-1 physics, as a baseline).
    """

    name: str
    spec: ModelSpec
    batch: Literal["data", "one"] = "data"


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


# ---------------------------------------------------------------------------------------
# the SweetSpot paper's 13 H100 surfaces: pooled serving physics
# ---------------------------------------------------------------------------------------
#: The paper's grid: n_in and n_out in 64, 128, ..., 4096 [tokens] (the default n_in grid).
PAPER_LEVELS: tuple[int, ...] = N_IN_GRID

#: The serving family the project documents as its best (docs/serving.md).
BEST_SERVING_FAMILY = "serving"


def paper_thetas(folder: str | Path) -> dict[str, NDArray[np.float64]]:
    """Each LLM's six coefficients ``t1..t6`` from the paper's Table 5, in table order.

    Parameters
    ----------
    folder : path
        The folder holding ``table5_theta.csv`` (``../shared/data/sweetspot-paper-h100``).

    Returns
    -------
    dict of str to ndarray
        Model name -> theta in this library's order (``t1..t5 = theta1..theta5``,
        ``t6 = theta0``; SOURCE.md beside the data).

    Raises
    ------
    TableError
        The file is missing or lacks a column.
    """
    path = Path(folder) / "table5_theta.csv"
    try:
        with open(path, encoding="utf-8", newline="") as fh:
            rows = list(csv.DictReader(fh))
    except OSError as exc:
        raise TableError(
            f"cannot read the paper's Table 5 at {path} ({exc.strerror}); point at the "
            "shared folder sweetspot-paper-h100 (../shared/data/sweetspot-paper-h100)."
        ) from None
    try:
        return {
            r["model"]: np.array([float(r[f"theta{i}"]) for i in (1, 2, 3, 4, 5, 0)]) for r in rows
        }
    except (KeyError, ValueError) as exc:
        raise TableError(
            f"{path} is not the paper's Table 5 ({type(exc).__name__}: {exc})."
        ) from None


def paper_surfaces(
    folder: str | Path,
    *,
    gpu: str | GPUSpec = PAPER_GPU,
    serving: ServingConfig = PAPER_SERVING,
) -> pd.DataFrame:
    """The 13 LLMs' energy per request on the paper's 7 x 7 grid, as measurement rows.

    Each LLM's surface is evaluated from its Table 5 coefficients (the paper publishes the
    fits, not the measurements), and each point gets the batch size the concurrency rule
    gives for that LLM and sequence length (:func:`sweetspot.serving.concurrency`).

    Parameters
    ----------
    folder : path
        The folder holding ``table5_theta.csv``.
    gpu : str or GPUSpec
        The GPU whose memory bounds the batch (the paper's H100: ``"h100-sxm"``).
    serving : ServingConfig
        The engine configuration (default: the paper's TensorRT-LLM runs).

    Returns
    -------
    DataFrame
        Columns ``model, n_in, n_out, energy_j, n_requests, batch_size, gpu, engine,
        kv_cache``; 49 rows per LLM, in Table 5's order. ``energy_j`` is per request
        (``n_requests`` = 1).
    """
    from .io import read_measurements

    gpu_spec = get_gpu(gpu)
    levels = np.array(N_IN_GRID, dtype=float)
    ni, no = (a.ravel() for a in np.meshgrid(levels, levels, indexing="ij"))
    frames = []
    for name, t in paper_thetas(folder).items():
        e = energy(t, ni, no)
        arch = get_architecture(name)
        frames.append(
            pd.DataFrame(
                {
                    "model": name,
                    "n_in": ni.astype(int),
                    "n_out": no.astype(int),
                    "energy_j": e,
                    "n_requests": 1,
                    "batch_size": concurrency(arch, ni + no, gpu=gpu_spec, serving=serving).astype(
                        int
                    ),
                    "gpu": "H100",
                    "engine": "tensorrt-llm",
                    "kv_cache": True,
                }
            )
        )
    data = read_measurements(pd.concat(frames, ignore_index=True))
    data.attrs["source"] = str(Path(folder) / "table5_theta.csv")
    return data


def serving_families(serving: ServingConfig = PAPER_SERVING, gpu: str = PAPER_GPU) -> list[Family]:
    """The ladder of serving physics evaluated on the paper's surfaces, simplest first.

    ========================  ==============================================================
    family                    what it adds
    ========================  ==============================================================
    ``memory_flops@b1``       FLOPs and one J/byte for all bytes, every row at batch 1
    ``kv@b1``                 KV-cache bytes with their own J/byte (weights apart), batch 1
    ``kv+batch``              each row at the batch size of the concurrency rule (weights
                              and prefill passes shared, ``max_num_tokens`` of the engine)
    ``serving``               a fixed J per layer per engine step, shared by the batch
    ``serving+static``        a static power times the roofline time of the passes on ``gpu``
    ========================  ==============================================================

    Parameters
    ----------
    serving : ServingConfig
        The engine configuration of the data (its ``max_num_tokens`` enters the specs).
    gpu : str
        The GPU of the data (the roofline of ``serving+static``).
    """
    mnt = serving.max_num_tokens
    key = get_gpu(gpu).key
    mf = ModelSpec(name="memory_flops")
    return [
        Family(name="memory_flops@b1", spec=mf, batch="one"),
        Family(name="kv@b1", spec=replace(mf, kv_bytes=True), batch="one"),
        Family(name="kv+batch", spec=replace(mf, kv_bytes=True, max_num_tokens=mnt)),
        Family(
            name=BEST_SERVING_FAMILY,
            spec=replace(mf, kv_bytes=True, layer_steps=True, max_num_tokens=mnt),
        ),
        Family(
            name="serving+static",
            spec=replace(mf, kv_bytes=True, layer_steps=True, max_num_tokens=mnt, roofline=key),
        ),
    ]


def _rows_for(data: pd.DataFrame, family: Family) -> pd.DataFrame:
    if family.batch == "one":
        return data.assign(batch_size=1)
    if "batch_size" not in data.columns:
        raise SpecError(
            f"family {family.name!r} prices each row at its batch size, and the data has no "
            "batch_size column; build the rows with paper_surfaces(...) or add the column."
        )
    return data


def evaluate_serving(
    data: pd.DataFrame,
    *,
    families: Sequence[Family] | None = None,
    loss: str = "relative",
    architectures: Mapping[str, Any] | None = None,
) -> pd.DataFrame:
    """Pooled in-sample and leave-one-model-out MAPE of serving families, per LLM.

    Every family is fitted once pooled on all LLMs (one set of hardware constants) and
    once per LLM left out (its energy predicted from the others' constants and its own
    architecture, without a single measurement of it): the same options for every LLM.

    Parameters
    ----------
    data : DataFrame
        Rows of several LLMs on one GPU with a ``model`` and a ``batch_size`` column, e.g.
        :func:`paper_surfaces`.
    families : sequence of Family, optional
        Default :func:`serving_families` of the paper's engine.
    loss : str
        Fitting loss.
    architectures : mapping, optional
        Model name -> preset name or Architecture, for names the presets do not resolve.

    Returns
    -------
    DataFrame
        One row per (family, model): ``family, label, model, n_rows, mape, max_ape,
        lomo_mape, lomo_max_ape`` (percent; ``mape`` is the pooled fit's in-sample MAPE
        on that LLM's rows), in the families' order.
    """
    fams = list(serving_families() if families is None else families)
    models = list(pd.unique(data["model"]))
    archs = {m: (architectures or {}).get(m, m) for m in models}
    records: list[dict[str, Any]] = []
    for fam in fams:
        rows = _rows_for(data, fam)
        fd = FitData.from_frame(rows)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SweetspotWarning)
            res = fit(fd, fam.spec, architecture=archs, loss=loss)  # type: ignore[arg-type]
            cv = cross_validate(fd, fam.spec, groups="model", architecture=archs, loss=loss)  # type: ignore[arg-type]
        pred = res.predict_frame(rows)
        y = fd.energy_j
        ape = np.abs(pred - y) / y * 100.0
        assert cv.ape is not None
        for m in models:
            sel = (rows["model"] == m).to_numpy()
            records.append(
                {
                    "family": fam.name,
                    "label": fam.spec.label,
                    "model": m,
                    "n_rows": int(sel.sum()),
                    "mape": float(ape[sel].mean()),
                    "max_ape": float(ape[sel].max()),
                    "lomo_mape": float(cv.ape[sel].mean()),
                    "lomo_max_ape": float(cv.ape[sel].max()),
                }
            )
    return pd.DataFrame.from_records(records)


def serving_sweet_spots(
    data: pd.DataFrame,
    thetas: Mapping[str, Any],
    family: Family | None = None,
    *,
    n_in: Sequence[int] = (64, 512, 4096),
    gpu: str | GPUSpec = PAPER_GPU,
    serving: ServingConfig = PAPER_SERVING,
    loss: str = "relative",
) -> pd.DataFrame:
    """Each LLM's sweet spot predicted without its measurements, against its own table's.

    For each LLM the family is fitted on the other LLMs (leave one model out), bound to
    the LLM's architecture with the concurrency rule of ``serving`` on ``gpu``
    (:meth:`sweetspot.FitResult.bind`), and its n_out* is searched numerically up to the
    engine's longest sequence; the reference is the closed form of the LLM's own
    coefficients ``thetas``.

    Parameters
    ----------
    data : DataFrame
        :func:`paper_surfaces` rows.
    thetas : mapping
        Model name -> its six coefficients (:func:`paper_thetas`).
    family : Family, optional
        Default: the ``serving`` family of :func:`serving_families`.
    n_in : sequence of int
        Input lengths [tokens].
    gpu, serving
        As in :func:`paper_surfaces`.
    loss : str
        Fitting loss.

    Returns
    -------
    DataFrame
        One row per (model, n_in): ``model, n_in, n_out_table, n_out_lomo, ratio``
        (``n_out_lomo / n_out_table``).
    """
    from .optimum import sweet_spot

    fam = family or next(
        f for f in serving_families(serving, get_gpu(gpu).key) if f.name == BEST_SERVING_FAMILY
    )
    rows = _rows_for(data, fam)
    levels = np.asarray(n_in, dtype=float)
    records = []
    for m in pd.unique(rows["model"]):
        others = rows[rows["model"] != m]
        archs = {str(k): str(k) for k in pd.unique(others["model"])}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SweetspotWarning)
            res = fit(others, fam.spec, architecture=archs, loss=loss)  # type: ignore[arg-type]
            bound = res.bind(
                get_architecture(str(m)),
                serving=serving if fam.batch == "data" else None,
                batch_size=1.0 if fam.batch == "one" else None,
                gpu=get_gpu(gpu).key,
            )
        t = np.asarray(thetas[str(m)], dtype=float)
        table = np.sqrt((t[0] * levels**2 + t[2] * levels + t[4]) / t[3])
        top = float(serving.max_seq_len or 2**20)
        for k, ni in enumerate(levels):
            sp = sweet_spot(bound, float(ni), n_out_max=max(top - ni, 2.0), warn=False)
            records.append(
                {
                    "model": str(m),
                    "n_in": int(ni),
                    "n_out_table": float(table[k]),
                    "n_out_lomo": float(sp.n_out),
                    "ratio": float(sp.n_out) / float(table[k]),
                }
            )
    return pd.DataFrame.from_records(records)


# ---------------------------------------------------------------------------------------
# the paper's Figures 1 and 4: what few requests per run and a small max_batch_size do
# ---------------------------------------------------------------------------------------
#: The numbers the paper's text quotes about its Figures 1 and 4 (SOURCE.md beside the
#: data, "Other figures"): ``(figure, model, quantity, setting, n_in, n_out, tokens/J)``.
#: ``quantity`` is ``"min"``/``"max"`` over the 7x7 grid, ``"at"`` a point at ``(n_in,
#: n_out)``, or ``"peak"`` over n_out at ``n_in``; ``setting`` is the requests per run
#: (Figure 1) or the max_batch_size (Figure 4), the other at the paper's 1000 / 1024.
PAPER_FIGURE_QUOTES: tuple[tuple[int, str, str, int, int, int, float], ...] = (
    (1, "Falcon-RW (7.5B)", "min", 10, 0, 0, 0.42),
    (1, "Falcon-RW (7.5B)", "max", 10, 0, 0, 2.25),
    (1, "Falcon-RW (7.5B)", "min", 1000, 0, 0, 0.50),
    (1, "Falcon-RW (7.5B)", "max", 1000, 0, 0, 18.78),
    (4, "Llama 3.2 (1B)", "at", 1024, 64, 256, 120.71),
    (4, "Llama 3.2 (1B)", "at", 1024, 64, 4096, 51.90),
    (4, "Llama 3.2 (1B)", "peak", 64, 64, 0, 48.90),
    (4, "Llama 3.2 (1B)", "at", 256, 64, 4096, 47.27),
)


def figure_serving(
    figure: int, setting: int, serving: ServingConfig = PAPER_SERVING
) -> ServingConfig:
    """The engine configuration of one curve of the paper's Figure 1 (``setting`` requests
    per run) or Figure 4 (``max_batch_size = setting``)."""
    if figure == 1:
        return replace(serving, n_requests=int(setting))
    if figure == 4:
        return replace(serving, max_batch_size=int(setting))
    raise SpecError(f"figure must be 1 or 4 (the paper's serving figures); got {figure!r}.")


def figure_effects(
    fit_result: Any,
    *,
    folder: str | Path | None = None,
    gpu: str | GPUSpec = PAPER_GPU,
) -> pd.DataFrame:
    """The paper's quoted Figure 1 and 4 numbers beside what the serving constants predict.

    Parameters
    ----------
    fit_result : FitResult
        Pooled serving constants, e.g. the published ones:
        ``sweetspot.load_pooled("H100")``.
    folder : path, optional
        The paper's data folder: adds the value of each LLM's own Table 5 surface (1000
        requests, max_batch_size 1024) where the setting is the paper's.
    gpu : str or GPUSpec
        The GPU of the predictions.

    Returns
    -------
    DataFrame
        One row per quote of :data:`PAPER_FIGURE_QUOTES`: ``figure, model, quantity,
        setting, n_in, n_out, paper, predicted, table5`` [tokens/J] (``n_out`` of a peak is
        where the prediction peaks). Predictions at 10 requests per run use batch sizes
        below the fitted ones: extrapolations (warnings silenced here, said in the docs).
    """
    from .optimum import sweet_spot

    thetas = paper_thetas(folder) if folder is not None else {}
    levels = np.array(PAPER_LEVELS, dtype=float)
    gi, go = (a.ravel() for a in np.meshgrid(levels, levels, indexing="ij"))
    rows = []
    for fig_no, model, quantity, setting, n_in, n_out, paper in PAPER_FIGURE_QUOTES:
        cfg = figure_serving(fig_no, setting)
        arch = get_architecture(model)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SweetspotWarning)
            bound = fit_result.bind(arch, serving=cfg, gpu=get_gpu(gpu).key)
            if quantity in ("min", "max"):
                eff = go / bound.predict(gi, go, warn=False)
                pred = float(eff.min() if quantity == "min" else eff.max())
            elif quantity == "at":
                pred = float(n_out / bound.predict(float(n_in), float(n_out), warn=False))
            else:
                sp = sweet_spot(
                    bound, float(n_in), n_out_max=float(cfg.max_seq_len or 8192) - n_in, warn=False
                )
                pred, n_out = float(sp.tokens_per_joule), round(float(sp.n_out))
        t5 = float("nan")
        paper_setting = (fig_no == 1 and setting == 1000) or (fig_no == 4 and setting == 1024)
        if model in thetas and paper_setting:
            if quantity in ("min", "max"):
                eta = go / energy(thetas[model], gi, go)
                t5 = float(eta.min() if quantity == "min" else eta.max())
            elif quantity == "at":
                t5 = float(n_out / energy(thetas[model], float(n_in), float(n_out)))
        rows.append(
            {
                "figure": fig_no,
                "model": model,
                "quantity": quantity,
                "setting": setting,
                "n_in": n_in,
                "n_out": n_out,
                "paper": paper,
                "predicted": pred,
                "table5": t5,
            }
        )
    return pd.DataFrame.from_records(rows)
