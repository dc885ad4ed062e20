"""Published fitted-parameter tables: build them from measured data, load them as fits.

The tables shipped in ``sweetspot/data/`` are built by one reproducible command,
``sweetspot tables build --data ../shared/data``, which reads the public measurements at
build time (their raw rows are never copied into the package) and writes

- ``params.json``: for every (model, GPU, engine configuration) and every model family the
  full fit (:meth:`FitResult.to_dict`), its cross-validated MAPE, the sweet spot n_out* at
  n_in = 64 ... 4096, and which family is recommended; per (GPU, GPU count) the pooled
  hardware constants of the physical families with their leave-one-model-out MAPE; and the
  provenance of each source (origin, commit, citation, licence note, measurement conditions).
- ``params.csv``: the same fits flattened, one row per (model, GPU, family), for humans.

Tables are data, not code: they are JSON validated on load (format and version fields),
never pickled or evaluated. :func:`load_params` returns a :class:`FitResult`.
"""

from __future__ import annotations

import json
import math
import os
import warnings
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ._version import __version__
from .exceptions import ArchitectureError, NoOptimumError, SpecError, SweetspotWarning, TableError
from .optimum import N_IN_GRID
from .result import FitResult

__all__ = [
    "N_IN_GRID",
    "SOURCES",
    "TABLE_FORMAT",
    "TABLE_VERSION",
    "build_tables",
    "list_params",
    "load_params",
    "load_pooled",
    "read_table",
    "resolve_params",
    "table_to_frame",
    "write_tables",
]

TABLE_FORMAT = "sweetspot.ParamTable"
TABLE_VERSION = 1
#: Upper bound of the numerical sweet-spot search for non-quadratic fits [tokens].
N_OUT_MAX = 65536

#: Sources the builder knows: where the file lies under ``--data`` and its provenance.
SOURCES: dict[str, dict[str, Any]] = {
    "wilkins-a100": {
        "path": "wilkins-grid/all-stats-raw.csv",
        "format": "wilkins",
        "title": "Wilkins et al. energy grid, NVIDIA A100 40GB",
        "origin": "https://github.com/grantwilkins/energy-inference "
        "(plots/independence-test/all-stats-raw.csv)",
        "commit": "5c2cfa4a9bdbccc6a037ece3d2eb64322db115ea",
        "citation": "G. Wilkins, S. Keshav, R. Mortier, 'Offline Energy-Optimal LLM Serving: "
        "Workload-Based Energy Models for LLM Inference on Heterogeneous Systems', 2024.",
        "license_note": "No licence stated upstream; raw rows are not redistributed, only "
        "parameters fitted to them, with this citation.",
        "conditions": "Hugging Face transformers text-generation pipeline, bf16, batch 1, "
        "KV cache OFF (use_cache=False: every step recomputes the prefix), sampling with "
        "true output length in [0.9 N, N] (N recorded), multi-GPU runs are layer splits "
        "(device_map='auto'), GPU energy from the NVML counter summed over GPUs, one run "
        "per cell, no warm-up (the first cell of some groups carries cold-start overhead).",
    }
}


def _data_file(name: str) -> Path:
    return Path(str(resources.files("sweetspot") / "data" / name))


def _clean(x: Any) -> Any:
    """JSON-safe: NaN/inf -> None, numpy scalars -> Python."""
    if isinstance(x, dict):
        return {str(k): _clean(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_clean(v) for v in x]
    if isinstance(x, (np.floating, float)):
        return float(x) if math.isfinite(float(x)) else None
    if isinstance(x, np.integer):
        return int(x)
    if isinstance(x, np.bool_):
        return bool(x)
    return x


def _sweet_spots(res: FitResult) -> dict[str, Any]:
    from .optimum import sweet_spot

    out: dict[str, Any] = {}
    for n in N_IN_GRID:
        try:
            sp = sweet_spot(res, float(n))
            out[str(n)] = {
                "n_out": float(sp.n_out),
                "energy_per_token_j": float(sp.energy_per_token_j),
                "tokens_per_joule": float(1.0 / sp.energy_per_token_j),
            }
        except (NoOptimumError, SpecError) as exc:
            out[str(n)] = {"n_out": None, "note": str(exc)[:200]}
    return out


# ---------------------------------------------------------------------------------------
# building
# ---------------------------------------------------------------------------------------
def build_tables(data_dir: str | Path, *, k: int = 5, seed: int = 0) -> dict[str, Any]:
    """Fit every family on every group of every known source under ``data_dir``.

    Parameters
    ----------
    data_dir : path
        The shared data folder (the one holding ``wilkins-grid/``).
    k, seed : int
        Cross-validation folds and seed.

    Returns
    -------
    dict
        The table (JSON-safe), as written to ``params.json``.
    """
    from .evaluate import evaluate, families_for, summarise
    from .fitting import fit
    from .io import read_measurements

    root = Path(data_dir)
    fits: list[dict[str, Any]] = []
    pooled: list[dict[str, Any]] = []
    sources: dict[str, Any] = {}
    found = False
    for source, info in SOURCES.items():
        path = root / info["path"]
        if not path.is_file():
            continue
        found = True
        data = read_measurements(path, format=info["format"])
        table = evaluate(data, k=k, seed=seed)
        summary = summarise(table)
        best = str(summary.iloc[0]["family"])
        sources[source] = {key: v for key, v in info.items() if key not in ("path", "format")}
        sources[source]["recommended_family"] = best
        sources[source]["recommended_reason"] = (
            f"lowest {k}-fold CV MAPE averaged over the groups "
            f"({summary.iloc[0]['cv_mape_mean']:.2f} %); the same family for every group"
        )
        fams = {f.name: f for f in families_for(data)}
        for (model, n_gpus), g in data.groupby(["model", "n_gpus"], sort=True):
            for fam_name, fam in fams.items():
                sel = (table["model"] == model) & (table["n_gpus"] == n_gpus)
                row: Any = table[sel & (table["family"] == fam_name)].iloc[0]
                arch = {str(model): str(model)} if fam.spec.is_physical else None
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", SweetspotWarning)
                    res = fit(g, fam.spec, architecture=arch)
                res = _with_meta(res, source, data, g)
                theta = res.theta
                fits.append(
                    {
                        "source": source,
                        "model": str(model),
                        "gpu": str(g["gpu"].iloc[0]),
                        "n_gpus": int(n_gpus),  # type: ignore[call-overload]
                        "engine": str(g["engine"].iloc[0]),
                        "kv_cache": bool(g["kv_cache"].iloc[0]),
                        "family": fam_name,
                        "recommended": fam_name == best,
                        "mape": res.mape,
                        "cv_mape": row["cv_mape"],
                        "lopo_mape": row["lopo_mape"],
                        "lono_mape": row["lono_mape"],
                        "lomo_mape": row["lomo_mape"],
                        "theta": None if theta is None else list(theta),
                        "sweet_spot": _sweet_spots(res),
                        "fit": res.to_dict(),
                    }
                )
        for (gpu, n_gpus), pool in data.groupby(["gpu", "n_gpus"], sort=True):
            models = sorted(pd.unique(pool["model"]))
            if len(models) < 2:
                continue
            for fam_name, fam in fams.items():
                if not fam.spec.is_physical:
                    continue
                archs = {str(m): str(m) for m in models}
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", SweetspotWarning)
                    res = fit(pool, fam.spec, architecture=archs)
                res = _with_meta(res, source, data, pool)
                lomo = table[(table["family"] == fam_name) & (table["n_gpus"] == n_gpus)].set_index(
                    "model"
                )["lomo_mape"]
                pooled.append(
                    {
                        "source": source,
                        "gpu": str(gpu),
                        "n_gpus": int(n_gpus),  # type: ignore[call-overload]
                        "family": fam_name,
                        "models": [str(m) for m in models],
                        "lomo_mape": {str(m): lomo.get(m) for m in models},
                        "fit": res.to_dict(),
                    }
                )
    if not found:
        expected = ", ".join(str(root / s["path"]) for s in SOURCES.values())
        raise TableError(
            f"no known measurement source under {root}; expected {expected}. Point --data at "
            "the shared data folder (e.g. ../shared/data)."
        )
    return _clean(
        {
            "format": TABLE_FORMAT,
            "version": TABLE_VERSION,
            "built_with": f"sweetspot {__version__}",
            "command": "sweetspot tables build --data ../shared/data",
            "cv": {"k": k, "seed": seed},
            "sources": sources,
            "fits": fits,
            "pooled": pooled,
        }
    )


def _with_meta(res: FitResult, source: str, data: pd.DataFrame, g: pd.DataFrame) -> FitResult:
    from dataclasses import replace

    meta = dict(res.meta)
    meta["table_source"] = source
    meta["source"] = f"shared/data/{SOURCES[source]['path']}"  # stable, not the build path
    meta["conditions"] = SOURCES[source]["conditions"]
    meta["citation"] = SOURCES[source]["citation"]
    return replace(res, meta=meta)


def table_to_frame(table: Mapping[str, Any]) -> pd.DataFrame:
    """Flatten a table's fits to one row per (model, GPU, family) (the ``params.csv``)."""
    rows = []
    for f in table["fits"]:
        r: dict[str, Any] = {
            k: f[k]
            for k in (
                "source",
                "model",
                "gpu",
                "n_gpus",
                "engine",
                "kv_cache",
                "family",
                "recommended",
                "mape",
                "cv_mape",
                "lopo_mape",
                "lono_mape",
                "lomo_mape",
            )
        }
        r["label"] = FitResult.from_dict(f["fit"]).spec.label
        for name, val in f["fit"]["params"].items():
            r[f"param.{name}"] = val
        for i, t in enumerate(f["theta"] or [None] * 6, start=1):
            r[f"t{i}"] = t
        for n, sp in f["sweet_spot"].items():
            r[f"n_out_opt@{n}"] = sp.get("n_out")
        rows.append(r)
    return pd.DataFrame.from_records(rows)


def write_tables(table: Mapping[str, Any], out_dir: str | Path | None = None) -> list[Path]:
    """Write ``params.json`` and ``params.csv`` into ``out_dir``; returns the paths.

    Parameters
    ----------
    table : mapping
        A table as :func:`build_tables` returns it.
    out_dir : path, optional
        The output folder, created if missing. Default: the package's ``data/`` folder, where
        the shipped tables live (the one :func:`read_table` reads by default).

    Returns
    -------
    list of Path
        The paths of ``params.json`` and ``params.csv``.
    """
    out = Path(out_dir) if out_dir is not None else _data_file("params.json").parent
    out.mkdir(parents=True, exist_ok=True)
    js = out / "params.json"
    js.write_text(json.dumps(table, indent=1, allow_nan=False, sort_keys=False) + "\n")
    csv = out / "params.csv"
    table_to_frame(table).to_csv(csv, index=False, float_format="%.10g")
    return [js, csv]


# ---------------------------------------------------------------------------------------
# loading
# ---------------------------------------------------------------------------------------
def read_table(path: str | Path | None = None) -> dict[str, Any]:
    """Read and validate a parameter table (the shipped one by default)."""
    from .result import read_json_file

    p = Path(path) if path is not None else _data_file("params.json")
    table = read_json_file(str(p), "parameter table")
    if not isinstance(table, dict) or table.get("format") != TABLE_FORMAT:
        raise TableError(
            f"{p} is not a sweetspot parameter table (expected 'format': '{TABLE_FORMAT}')."
        )
    if type(table.get("version")) is not int or table.get("version") != TABLE_VERSION:
        raise TableError(
            f"{p} has table version {table.get('version')!r}; this sweetspot reads version "
            f"{TABLE_VERSION}. Upgrade sweetspot or rebuild the table."
        )
    for key, typ in (("fits", list), ("pooled", list), ("sources", dict)):
        if not isinstance(table.get(key), typ):
            raise TableError(f"{p} is malformed: '{key}' must be a {typ.__name__}.")
    kinds = {"model": str, "gpu": str, "n_gpus": int, "family": str, "fit": dict}
    for key in ("fits", "pooled"):
        for i, f in enumerate(table[key]):
            if not isinstance(f, dict):
                raise TableError(f"{p} is malformed: {key}[{i}] must be an object.")
            need = (
                kinds
                if key == "fits"
                else {k: kinds[k] for k in ("gpu", "n_gpus", "family", "fit")}
            )
            missing = [k for k in need if k not in f]
            if missing:
                raise TableError(f"{p} is malformed: {key}[{i}] lacks {missing}.")
            wrong = [
                k for k, t in need.items() if not isinstance(f[k], t) or isinstance(f[k], bool)
            ]
            if wrong:
                raise TableError(
                    f"{p} is malformed: {key}[{i}] has fields of the wrong type: {wrong}."
                )
    return table


def _canonical(name: str) -> str:
    from .architecture import get_architecture

    try:
        return get_architecture(name).name.casefold()
    except ArchitectureError:
        return name.strip().casefold()


def list_params(path: str | Path | None = None) -> pd.DataFrame:
    """The published fits as a table: model, GPU, GPU count, engine, family, MAPE, CV MAPE."""
    frame = table_to_frame(read_table(path))
    cols = [
        "model",
        "gpu",
        "n_gpus",
        "engine",
        "kv_cache",
        "family",
        "recommended",
        "mape",
        "cv_mape",
        "lomo_mape",
        "label",
        "source",
    ]
    return frame[cols]


def load_params(
    model: str,
    *,
    gpu: str | None = None,
    n_gpus: int | None = None,
    family: str | None = None,
    path: str | Path | None = None,
) -> FitResult:
    """A published fit as a :class:`FitResult`.

    Parameters
    ----------
    model : str
        The measured LLM, matched leniently (``"llama-2-7b"``, ``"meta-llama/Llama-2-7b-chat-hf"``).
    gpu : str, optional
        GPU name (e.g. ``"A100-40GB"``), case-insensitive prefix match.
    n_gpus : int, optional
        GPU count; needed only when a model was measured on several counts.
    family : str, optional
        Model family (``"sweetspot"``, ``"flops+overhead+eager"``, ...); default: the family
        the table recommends (lowest mean cross-validated MAPE of its source).
    path : path, optional
        A table file other than the shipped one.

    Raises
    ------
    TableError
        Nothing or several entries match; the message lists what is available.

    Examples
    --------
    >>> import sweetspot as ss
    >>> res = ss.load_params("llama-2-7b", family="sweetspot")
    >>> res.models
    ('Llama-2-7b-chat-hf',)
    """
    table = read_table(path)
    want = _canonical(model)
    cands = [f for f in table["fits"] if _canonical(f["model"]) == want]
    if gpu is not None:
        cands = [f for f in cands if f["gpu"].casefold().startswith(gpu.casefold())]
    if n_gpus is not None:
        cands = [f for f in cands if int(f["n_gpus"]) == int(n_gpus)]
    if family is None:
        cands = [f for f in cands if f.get("recommended")]
    else:
        cands = [f for f in cands if f["family"] == family]
    if len(cands) != 1:
        avail = sorted({f"{f['model']} on {f['n_gpus']}x {f['gpu']}" for f in table["fits"]})
        fams = sorted({f["family"] for f in table["fits"]})
        what = "no published fit" if not cands else f"{len(cands)} published fits"
        raise TableError(
            f"{what} for model={model!r}, gpu={gpu!r}, n_gpus={n_gpus!r}, family={family!r}. "
            f"Available: {'; '.join(avail)}. Families: {', '.join(fams)}. Narrow it with "
            "gpu=/n_gpus=/family=, or see `sweetspot tables list`."
        )
    return FitResult.from_dict(cands[0]["fit"])


def load_pooled(
    gpu: str, *, n_gpus: int = 1, family: str | None = None, path: str | Path | None = None
) -> FitResult:
    """Pooled hardware constants for a GPU configuration, usable for any architecture:
    ``load_pooled("A100").predict(n_in, n_out, architecture="llama-3.1-8b")``."""
    table = read_table(path)
    cands = [
        p
        for p in table["pooled"]
        if p["gpu"].casefold().startswith(gpu.casefold()) and int(p["n_gpus"]) == int(n_gpus)
    ]
    if family is None:
        rec = {s.get("recommended_family") for s in table["sources"].values()}
        cands = [p for p in cands if p["family"] in rec] or cands[:1]
    else:
        cands = [p for p in cands if p["family"] == family]
    if len(cands) != 1:
        avail = sorted({f"{p['gpu']} x{p['n_gpus']} {p['family']}" for p in table["pooled"]})
        raise TableError(
            f"no unique pooled fit for gpu={gpu!r}, n_gpus={n_gpus}, family={family!r}; "
            f"available: {'; '.join(avail)}."
        )
    return FitResult.from_dict(cands[0]["fit"])


def resolve_params(
    name_or_file: str, *, family: str | None = None, gpu: str | None = None
) -> FitResult:
    """A fit named the way the ``--params`` option of ``sweetspot plan`` takes it.

    Parameters
    ----------
    name_or_file : str
        One of

        - a fit saved by ``sweetspot fit DATA --save FILE.json`` (or :meth:`FitResult.to_json`);
        - ``FILE.json#GROUP``: one fit of a file saved with ``sweetspot fit --group ... --save``,
          which holds ``{group: fit}``;
        - otherwise, when no such file exists, the model name of a published fit, looked up
          with :func:`load_params`.
    family : str, optional
        Published fit only: the model family (default: the recommended one).
    gpu : str, optional
        Published fit only: the GPU, a case-insensitive prefix (e.g. ``"A100"``).

    Returns
    -------
    FitResult

    Raises
    ------
    TableError
        The file is missing (for a name that looks like a path: it ends in ``.json`` or holds
        a path separator), unreadable or not a fit; a file of several fits without ``#GROUP``
        (the message lists the groups), an unknown group; or no unique published fit.

    Examples
    --------
    >>> from sweetspot.tables import resolve_params
    >>> resolve_params("llama-2-7b", family="sweetspot").models
    ('Llama-2-7b-chat-hf',)
    """
    path, _, group = name_or_file.partition("#")
    if os.path.isfile(path):
        if not group:
            try:
                return FitResult.from_json(path)
            except TableError:
                pass  # maybe a file of several fits (sweetspot fit --group ... --save)
        try:
            with open(path, encoding="utf-8") as fh:
                doc = json.load(fh)
        except (OSError, json.JSONDecodeError) as exc:
            raise TableError(f"cannot read saved fit {path!r}: {exc}") from exc
        groups = (
            [k for k, v in doc.items() if isinstance(v, dict) and "spec" in v]
            if isinstance(doc, dict)
            else []
        )
        if not groups:
            return FitResult.from_json(path)  # raises the precise TableError
        if not group:
            raise TableError(
                f"{path} holds {len(groups)} fits ({', '.join(groups)}); pick one with "
                f"--params '{path}#{groups[0]}'."
            )
        if group not in doc:
            raise TableError(f"{path} has no fit named {group!r}; it holds {', '.join(groups)}.")
        return FitResult.from_dict(doc[group])
    if path.lower().endswith(".json") or os.sep in path or "/" in path:
        raise TableError(
            f"saved fit {path!r} not found. Save one with `sweetspot fit DATA --save FILE.json`, "
            "or pass the name of a published fit."
        )
    return load_params(name_or_file, gpu=gpu, family=family)
