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

The source ``sweetspot-paper-h100-serving`` publishes pooled hardware constants only: the
serving families of :func:`sweetspot.evaluate.serving_families` fitted on the 13 H100
surfaces of the SweetSpot paper (each LLM's energy per request on its 7 x 7 grid, evaluated
from its Table 5 coefficients), each point at the batch size of the concurrency rule, with
the leave-one-model-out MAPE of every LLM. :func:`predict_energy` uses the recommended one to
predict the energy of any architecture (a preset, a ``config.json``) in batched serving.

Tables are data, not code: they are JSON validated on load (format and version fields),
never pickled or evaluated. :func:`load_params` returns a :class:`FitResult`.
"""

from __future__ import annotations

import csv
import json
import math
import os
import warnings
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._version import __version__
from .architecture import Architecture
from .exceptions import (
    ArchitectureError,
    ExtrapolationWarning,
    NoOptimumError,
    SpecError,
    SweetspotWarning,
    TableError,
)
from .optimum import N_IN_GRID
from .result import BoundFit, FitResult, read_json_file
from .serving import PAPER_GPU, PAPER_SERVING, GPUSpec, ServingConfig, get_gpu, load_architecture

if TYPE_CHECKING:  # pandas loads only where a frame is built (tables build / list)
    import pandas as pd

__all__ = [
    "N_IN_GRID",
    "SERVING_SOURCE",
    "SOURCES",
    "TABLE_FORMAT",
    "TABLE_VERSION",
    "build_tables",
    "find_fits",
    "list_params",
    "load_params",
    "load_pooled",
    "predict_energy",
    "read_table",
    "resolve_params",
    "serving_model",
    "table_to_frame",
    "write_tables",
]

TABLE_FORMAT = "sweetspot.ParamTable"
TABLE_VERSION = 1
#: Upper bound of the numerical sweet-spot search for non-quadratic fits [tokens].
N_OUT_MAX = 65536

#: Sources the builder knows: where the file lies under ``--data`` and its provenance. A
#: ``reported`` source ships coefficients as its authors published them (not refitted here);
#: the others are measurements that every family is fitted to. The first source is the
#: reference setup: production serving (TensorRT-LLM, batched, KV cache on) on an H100.
SOURCES: dict[str, dict[str, Any]] = {
    "sweetspot-paper-h100": {
        "path": "sweetspot-paper-h100/table5_theta.csv",
        "format": "paper-table5",
        "reported": True,
        "title": "SweetSpot paper, Table 5: Memory+FLOPs coefficients of 13 LLMs, NVIDIA H100, "
        "TensorRT-LLM 0.21 (reference setup: batched serving, KV cache on)",
        "origin": "arXiv:2602.05695 v1, Tables 2, 3 and 5 (transcribed in "
        "shared/data/sweetspot-paper-h100/)",
        "citation": "H. Pizzini Cavagna, A. Proia, G. Madella, G. B. Esposito, F. Antici, "
        "D. Cesarini, Z. Kiziltan, A. Bartolini, 'Determining Energy Efficiency Sweet Spots in "
        "Production LLM Inference', arXiv:2602.05695 (ACM ICPE 2026), "
        "DOI 10.1145/3777884.3797011.",
        "license_note": "The paper is CC BY 4.0; its table values are shipped with this "
        "citation. The coefficients are reported by the paper, NOT refitted by sweetspot.",
        "conditions": "TensorRT-LLM 0.21.0, trtllm-bench throughput mode (in-flight batching), "
        "one H100 (form factor not stated), TP = PP = 1, max_batch_size 1024, max_num_tokens "
        "8192, max sequence length 8192, 1000 requests of exactly n_in / n_out tokens per "
        "grid point, 7x7 grid n_in, n_out in 64..4096, KV cache on, energy from NVML power "
        "sampled every 500 ms (trapezoid rule), no idle subtraction; E = energy per request "
        "of a saturated batched run. Coefficients reported by the paper, not refitted here.",
        "gpu": "H100",
        "engine": "TensorRT-LLM 0.21.0",
    },
    "sweetspot-paper-h100-serving": {
        "path": "sweetspot-paper-h100/table5_theta.csv",
        "format": "paper-surfaces",
        "pooled_only": True,
        "title": "Pooled serving constants, NVIDIA H100 / TensorRT-LLM 0.21, fitted by sweetspot "
        "on the SweetSpot paper's 13 surfaces (predict any architecture in batched serving)",
        "origin": "arXiv:2602.05695 v1, Tables 2 and 5 (transcribed in "
        "shared/data/sweetspot-paper-h100/); constants fitted by sweetspot",
        "citation": "H. Pizzini Cavagna, A. Proia, G. Madella, G. B. Esposito, F. Antici, "
        "D. Cesarini, Z. Kiziltan, A. Bartolini, 'Determining Energy Efficiency Sweet Spots in "
        "Production LLM Inference', arXiv:2602.05695 (ACM ICPE 2026), "
        "DOI 10.1145/3777884.3797011.",
        "license_note": "Fitted by sweetspot to surfaces evaluated from the paper's Table 5 "
        "coefficients (CC BY 4.0, cited); the paper's raw measurements are not published, so "
        "these constants inherit the paper's fit error (Table 3: 1.79 % mean MAPE).",
        "conditions": "Each LLM's energy per request on the 7x7 grid n_in, n_out in 64..4096, "
        "evaluated from its Table 5 coefficients (TensorRT-LLM 0.21.0, trtllm-bench throughput "
        "mode, one H100, TP = 1, max_batch_size 1024, max_num_tokens 8192, max sequence "
        "length 8192, 1000 requests per point, KV cache on). Each point priced at the batch "
        "size of the concurrency rule (sweetspot.serving.concurrency) on an H100 SXM 80GB "
        "(form factor assumed; the paper does not state it) with TensorRT-LLM's default KV "
        "fraction 0.9; 'b1' families at batch size 1. Pooled over the 13 LLMs, "
        "leave-one-model-out MAPE per LLM.",
        "gpu": "H100",
        "gpu_key": PAPER_GPU,
        "engine": "TensorRT-LLM 0.21.0",
        "serving": PAPER_SERVING.to_dict(),
    },
    "wilkins-a100": {
        "path": "wilkins-grid/all-stats-raw.csv",
        "format": "wilkins",
        "title": "Wilkins et al. energy grid, NVIDIA A100 40GB (Hugging Face transformers, "
        "batch 1, KV cache OFF: not a production serving configuration)",
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
    },
}

#: The paper's Table 3 columns (in-sample MAPE [%]) and the families they belong to.
PAPER_MAPE_COLUMNS: dict[str, str] = {
    "baseline1_const_per_token": "per_token",
    "baseline2_niu": "per_token_fixed",
    "baseline3_wilhelm": "per_token_context",
    "baseline4_wilkins": "wilkins",
    "flops_based_5term": "sweetspot_flops",
    "memory_flops_6term": "sweetspot",
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

    def entry(sp: Any, i: int) -> dict[str, Any]:
        e = float(sp.energy_per_token_j[i])
        out: dict[str, Any] = {
            "n_out": float(sp.n_out[i]),
            "energy_per_token_j": e if e > 0 else None,
            "tokens_per_joule": 1.0 / e if e > 0 else None,
            "extrapolated": bool(sp.extrapolated[i]),
        }
        if not e > 0:
            out["note"] = "non-physical: the model's energy per token is <= 0 there"
        return out

    levels = [float(n) for n in N_IN_GRID]
    try:  # one vectorised search for all input lengths
        sp = sweet_spot(res, levels, warn=False)
        return {str(n): entry(sp, i) for i, n in enumerate(N_IN_GRID)}
    except (NoOptimumError, SpecError):
        pass  # some input length has no interior optimum: say which, one by one
    out: dict[str, Any] = {}
    for n in N_IN_GRID:
        try:
            out[str(n)] = entry(sweet_spot(res, [float(n)], warn=False), 0)
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
    import pandas as pd

    from .evaluate import evaluate, families_for, summarise
    from .fitting import FitData, fit
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
        sources[source] = {
            key: v for key, v in info.items() if key not in ("path", "format", "pooled_only")
        }
        if info.get("pooled_only"):
            serving_entries, best, reason = _serving_pooled(source, path.parent)
            pooled.extend(serving_entries)
            sources[source]["recommended_family"] = best
            sources[source]["recommended_reason"] = reason
            continue
        if info.get("reported"):
            sources[source]["recommended_family"] = "sweetspot"
            sources[source]["recommended_reason"] = (
                "the only family whose coefficients the source publishes"
            )
            fits.extend(_reported_fits(source, path.parent))
            continue
        data = read_measurements(path, format=info["format"])
        table = evaluate(data, k=k, seed=seed)
        summary = summarise(table)
        fams = {f.name: f for f in families_for(data)}
        entries: list[dict[str, Any]] = []
        for (model, n_gpus), g in data.groupby(["model", "n_gpus"], sort=True):
            arrays = FitData.from_frame(g)  # validated once, with the data
            for fam_name, fam in fams.items():
                sel = (table["model"] == model) & (table["n_gpus"] == n_gpus)
                row: Any = table[sel & (table["family"] == fam_name)].iloc[0]
                arch = {str(model): str(model)} if fam.spec.is_physical else None
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", SweetspotWarning)
                    res = fit(arrays, fam.spec, architecture=arch)
                res = _with_meta(res, source, data, g)
                theta = res.theta
                entries.append(
                    {
                        "source": source,
                        "model": str(model),
                        "gpu": str(g["gpu"].iloc[0]),
                        "n_gpus": int(n_gpus),  # type: ignore[call-overload]
                        "engine": str(g["engine"].iloc[0]),
                        "kv_cache": bool(g["kv_cache"].iloc[0]),
                        "family": fam_name,
                        "recommended": False,
                        "non_physical": res.non_physical(),
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
        # the recommended family: the best cross-validated one among those that are physical
        # (positive predicted energy over the fitted range) on every group of the source
        unphysical = {e["family"] for e in entries if e["non_physical"]}
        ranked = summary[~summary["family"].isin(unphysical)]
        if ranked.empty:
            raise TableError(
                f"no family of {source} is physical on every group; nothing to recommend."
            )
        best = str(ranked.iloc[0]["family"])
        for e in entries:
            e["recommended"] = e["family"] == best
        fits.extend(entries)
        sources[source]["recommended_family"] = best
        sources[source]["recommended_reason"] = (
            f"lowest {k}-fold CV MAPE averaged over the groups "
            f"({ranked.iloc[0]['cv_mape_mean']:.2f} %) among the families whose predicted energy "
            "is positive over the fitted range of every group; the same family for every group"
        )
        if unphysical:
            sources[source]["non_physical_families"] = sorted(unphysical)
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
                    res = fit(FitData.from_frame(pool), fam.spec, architecture=archs)
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


def _reported_fits(source: str, folder: Path) -> list[dict[str, Any]]:
    """Table entries of a source that publishes coefficients: the SweetSpot paper's Table 5.

    The coefficients come reordered by :func:`sweetspot.evaluate.paper_thetas`.
    """
    from .architecture import get_architecture
    from .evaluate import paper_thetas
    from .models import THETA_NAMES, THETA_UNITS, ModelSpec

    info = SOURCES[source]

    def rows(name: str) -> dict[str, dict[str, str]]:
        with open(folder / name, encoding="utf-8", newline="") as fh:
            return {r["model"]: r for r in csv.DictReader(fh)}

    mape_tab = rows("table3_mape.csv")
    model_tab = rows("table2_models.csv")
    out: list[dict[str, Any]] = []
    levels = [float(n) for n in N_IN_GRID]
    thetas = paper_thetas(folder)
    for name, row in rows("table5_theta.csv").items():
        theta = [float(t) for t in thetas[name]]
        paper_mape = {fam: float(mape_tab[name][col]) for col, fam in PAPER_MAPE_COLUMNS.items()}
        try:
            preset = get_architecture(name).name
        except ArchitectureError:
            preset = None
        meta = {
            "table_source": source,
            "source": f"shared/data/{info['path']}",
            "gpu": info["gpu"],
            "engine": info["engine"],
            "conditions": info["conditions"],
            "citation": info["citation"],
            "reported": "coefficients as published in the paper's Table 5, not refitted",
            "mape_source": "the paper's Table 3 (in-sample, 49-point grid)",
        }
        res = FitResult(
            spec=ModelSpec(name="sweetspot"),
            loss="published",
            param_names=THETA_NAMES,
            values=tuple(theta),
            stderrs=(float("nan"),) * 6,
            units=THETA_UNITS,
            n_rows=len(levels) ** 2,
            mape=paper_mape["sweetspot"],
            n_in_range=(levels[0], levels[-1]),
            n_out_range=(levels[0], levels[-1]),
            models=(name,),
            meta=meta,
        )
        out.append(
            {
                "source": source,
                "model": name,
                "architecture": preset,
                "size_family": model_tab[name]["size_family"],
                "gpu": info["gpu"],
                "n_gpus": 1,
                "engine": info["engine"],
                "kv_cache": True,
                "family": "sweetspot",
                "recommended": True,
                "reported": True,
                "mape": paper_mape["sweetspot"],
                "cv_mape": None,
                "lopo_mape": None,
                "lono_mape": None,
                "lomo_mape": None,
                "paper_mape": paper_mape,
                "paper_sweet_spot": {
                    "measured_n_in": int(row["measured_sweet_spot_n_in"]),
                    "measured_n_out": int(row["measured_sweet_spot_n_out"]),
                    "estimated_n_out_at_64": int(row["estimated_sweet_spot_n_out_at_64"]),
                },
                "theta": theta,
                "sweet_spot": _sweet_spots(res),
                "fit": res.to_dict(),
            }
        )
    return out


def _serving_pooled(source: str, folder: Path) -> tuple[list[dict[str, Any]], str, str]:
    """Pooled entries of the serving families on the paper's 13 H100 surfaces, the family
    recommended and why."""
    from dataclasses import replace

    import pandas as pd

    from .evaluate import (
        BEST_SERVING_FAMILY,
        evaluate_serving,
        paper_surfaces,
        paper_thetas,
        serving_families,
        serving_sweet_spots,
    )
    from .fitting import fit

    info = SOURCES[source]
    data = paper_surfaces(folder)
    models = [str(m) for m in pd.unique(data["model"])]
    archs = {m: m for m in models}
    families = serving_families()
    table = evaluate_serving(data, families=families)
    spots = serving_sweet_spots(data, paper_thetas(folder))
    out: list[dict[str, Any]] = []
    for fam in families:
        rows = data.assign(batch_size=1) if fam.batch == "one" else data
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SweetspotWarning)
            res = fit(rows, fam.spec, architecture=archs)
        meta = dict(res.meta)
        meta.update(
            table_source=source,
            source=f"shared/data/{info['path']}",
            conditions=info["conditions"],
            citation=info["citation"],
            gpu=info["gpu"],
            gpu_key=info["gpu_key"],
            engine=info["engine"],
            batch="concurrency rule" if fam.batch == "data" else "batch size 1",
            serving=info["serving"],
        )
        t = table[table["family"] == fam.name].set_index("model")
        meta.update(
            lomo_mape_mean=float(t["lomo_mape"].mean()),
            lomo_mape_max=float(t["lomo_mape"].max()),
        )
        res = replace(res, meta=meta)
        entry: dict[str, Any] = {
            "source": source,
            "gpu": info["gpu"],
            "gpu_key": info["gpu_key"],
            "n_gpus": 1,
            "family": fam.name,
            "label": fam.spec.label,
            "batch": fam.batch,
            "recommended": fam.name == BEST_SERVING_FAMILY,
            "models": models,
            "mape": {m: float(t["mape"][m]) for m in models},
            "lomo_mape": {m: float(t["lomo_mape"][m]) for m in models},
            "lomo_mape_mean": float(t["lomo_mape"].mean()),
            "lomo_mape_max": float(t["lomo_mape"].max()),
            "fit": res.to_dict(),
        }
        if fam.name == BEST_SERVING_FAMILY:
            entry["sweet_spot_ratio"] = {
                str(m): dict(zip(g["n_in"].astype(str), g["ratio"].astype(float), strict=True))
                for m, g in spots.groupby("model", sort=False)
            }
        out.append(entry)
    best = next(e for e in out if e["recommended"])
    reason = (
        f"the documented serving physics (docs/serving.md): leave-one-model-out MAPE "
        f"{best['lomo_mape_mean']:.2f} % mean, {best['lomo_mape_max']:.2f} % worst LLM, with "
        "one set of options for all 13 LLMs; serving+static adds a static power that the "
        "saturated runs leave at zero"
    )
    return out, BEST_SERVING_FAMILY, reason


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
    import pandas as pd

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


def find_fits(
    table: Mapping[str, Any],
    model: str | None = None,
    *,
    gpu: str | None = None,
    n_gpus: int | None = None,
    family: str | None = None,
) -> list[dict[str, Any]]:
    """The entries of a table that match, in table order (the reference setup first).

    Parameters
    ----------
    table : mapping
        A table from :func:`read_table`.
    model : str, optional
        The LLM: entries whose model is the same architecture (``"llama-3.1-8b"`` finds
        ``"Llama 3.1 (8B)"``) or, when none is, whose name contains it (case-insensitive).
    gpu : str, optional
        A case-insensitive prefix of the GPU name (``"h100"``, ``"A100"``).
    n_gpus : int, optional
        The GPU count.
    family : str, optional
        The model family; default: the family each source recommends.
    """
    cands = [dict(f) for f in table["fits"]]
    if model is not None:
        want = _canonical(model)
        same = [
            f
            for f in cands
            if want in (_canonical(f["model"]), _canonical(f.get("architecture") or f["model"]))
        ]
        cands = same or [f for f in cands if model.strip().casefold() in f["model"].casefold()]
    if gpu is not None:
        cands = [f for f in cands if f["gpu"].casefold().startswith(gpu.casefold())]
    if n_gpus is not None:
        cands = [f for f in cands if int(f["n_gpus"]) == int(n_gpus)]
    if family is None:
        return [f for f in cands if f.get("recommended")]
    return [f for f in cands if f["family"] == family]


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
    if not isinstance(model, str):
        raise TableError(
            f"model must be a str naming an LLM (e.g. 'llama-3.1-8b'); got "
            f"{type(model).__name__} {model!r}."
        )
    table = read_table(path)
    cands = find_fits(table, model, gpu=gpu, n_gpus=n_gpus, family=family)
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
    ``load_pooled("A100").predict(n_in, n_out, architecture="llama-3.1-8b")``.

    ``gpu`` is a case-insensitive prefix of the table's GPU name (``"A100"``, ``"H100"``);
    ``family`` defaults to the recommended one (``"serving"`` on the H100). The H100 serving
    constants price each point at a batch size: predict with ``serving=ServingConfig()``
    (the concurrency rule) or ``batch_size=``, or use :func:`predict_energy`.
    """
    table = read_table(path)
    cands = [
        p
        for p in table["pooled"]
        if p["gpu"].casefold().startswith(gpu.casefold()) and int(p["n_gpus"]) == int(n_gpus)
    ]
    if family is None:
        rec = {s.get("recommended_family") for s in table["sources"].values()}
        cands = (
            [p for p in cands if p.get("recommended")]
            or [p for p in cands if p["family"] in rec]
            or cands[:1]
        )
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
        (the message lists the groups), an unknown group, ``#GROUP`` on a file of one fit; or
        no unique published fit.

    Examples
    --------
    >>> from sweetspot.tables import resolve_params
    >>> resolve_params("llama-2-7b", family="sweetspot").models
    ('Llama-2-7b-chat-hf',)
    """
    path, _, group = name_or_file.partition("#")
    if os.path.isfile(path):
        doc = read_json_file(path, "saved fit")
        groups = (
            [k for k, v in doc.items() if isinstance(v, dict) and "spec" in v]
            if isinstance(doc, dict)
            else []
        )
        if not group:
            try:
                return FitResult.from_dict(doc)
            except TableError:
                if not groups:  # not a file of several fits either: the precise error
                    raise
            raise TableError(
                f"{path} holds {len(groups)} fits ({', '.join(groups)}); pick one with "
                f"'{path}#{groups[0]}' (FILE#GROUP)."
            )
        if not groups:
            FitResult.from_dict(doc)  # a broken file: the precise TableError
            raise TableError(
                f"{path} holds one fit, not a file of several; drop '#{group}' to use it."
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


# ---------------------------------------------------------------------------------------
# predicting an architecture nobody measured
# ---------------------------------------------------------------------------------------
#: The table source of the pooled serving constants :func:`predict_energy` uses.
SERVING_SOURCE = "sweetspot-paper-h100-serving"


def serving_model(
    architecture: Architecture | str | Mapping[str, Any],
    *,
    gpu: str | GPUSpec = PAPER_GPU,
    serving: ServingConfig | None = None,
    family: str | None = None,
    allow_other_gpu: bool = False,
    path: str | Path | None = None,
) -> BoundFit:
    """The published pooled serving constants bound to one architecture, GPU and engine.

    The result is a model of that LLM (``.predict(n_in, n_out)``), which every function that
    takes a fit takes too (:func:`sweetspot.sweet_spot`, :func:`sweetspot.recommend_max_tokens`,
    ``sweetspot plan --arch``).

    Parameters
    ----------
    architecture : Architecture, str or mapping
        A preset name, a path to a Hugging Face ``config.json``, a config dict, or an
        :class:`Architecture` (:func:`sweetspot.serving.load_architecture`).
    gpu : str or GPUSpec
        The GPU to predict on (default the H100 SXM the constants were fitted on).
    serving : ServingConfig, optional
        The engine configuration (default: the reference setup, :data:`PAPER_SERVING`).
    family : str, optional
        A serving family of the table (default the recommended ``"serving"``).
    allow_other_gpu : bool
        Allow a GPU other than the one the constants were fitted on; the prediction then
        warns that it is an extrapolation (:class:`ExtrapolationWarning`).
    path : path, optional
        A table file other than the shipped one.

    Returns
    -------
    BoundFit

    Raises
    ------
    SpecError
        Another GPU without ``allow_other_gpu=True``; a model that does not fit on the GPU.
    ArchitectureError
        An unknown preset or an unreadable config.
    TableError
        No serving constants in the table.
    """
    arch = load_architecture(architecture)
    cfg = PAPER_SERVING if serving is None else serving
    table = read_table(path)
    cands = [p for p in table["pooled"] if p.get("source") == SERVING_SOURCE]
    if family is None:
        cands = [p for p in cands if p.get("recommended")]
    else:
        cands = [p for p in cands if p["family"] == family]
    if len(cands) != 1:
        fams = sorted(p["family"] for p in table["pooled"] if p.get("source") == SERVING_SOURCE)
        raise TableError(
            f"no serving constants of family {family!r} in the table; it has "
            f"{', '.join(fams) or 'none (rebuild it: sweetspot tables build)'}."
        )
    res = FitResult.from_dict(cands[0]["fit"])
    target = get_gpu(gpu)
    fitted = res.gpu or PAPER_GPU
    if target.key != fitted and not allow_other_gpu:
        raise SpecError(
            f"the published serving constants were fitted on {fitted}; predicting on "
            f"{target.key} is an extrapolation (another chip's J/FLOP, J/byte and overheads). "
            "Pass allow_other_gpu=True (sweetspot plan --allow-other-gpu) to accept it; it "
            "then warns."
        )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ExtrapolationWarning)  # warned once, below
        bound = res.bind(arch, serving=cfg, gpu=target.key)
    if target.key != fitted:
        warnings.warn(
            f"extrapolating to another GPU: the serving constants were fitted on {fitted} and "
            f"are applied on {target.key}; its memory and roofline enter the prediction, but "
            "its efficiency per FLOP and per byte is assumed equal to the H100's.",
            ExtrapolationWarning,
            stacklevel=2,
        )
    return bound


def predict_energy(
    architecture: Architecture | str | Mapping[str, Any],
    n_in: ArrayLike,
    n_out: ArrayLike,
    *,
    gpu: str | GPUSpec = PAPER_GPU,
    serving: ServingConfig | None = None,
    family: str | None = None,
    allow_other_gpu: bool = False,
) -> NDArray[np.float64]:
    """Energy of one request [J] for any architecture in batched serving, from published
    pooled constants.

    The H100 / TensorRT-LLM serving constants (fitted on the SweetSpot paper's 13 LLMs,
    docs/serving.md) priced with the architecture's FLOPs and bytes, each point at the batch
    size the concurrency rule gives on ``gpu`` with ``serving``.

    Parameters
    ----------
    architecture : Architecture, str or mapping
        A preset name (``"llama-3.1-8b"``), a path to a Hugging Face ``config.json``, a config
        dict, or an :class:`Architecture`.
    n_in, n_out : array_like
        Prompt and output lengths [tokens], broadcast together.
    gpu : str or GPUSpec
        The GPU (a key of :data:`sweetspot.serving.GPUS`; default ``"h100-sxm"``, the one the
        constants were fitted on).
    serving : ServingConfig, optional
        The engine configuration; default the reference setup (TensorRT-LLM, max_batch_size
        1024, max_num_tokens 8192, 1000 requests per run).
    family : str, optional
        A serving family of the table (default the recommended one).
    allow_other_gpu : bool
        Required to predict on another GPU than the constants were fitted on; the
        prediction then carries an :class:`~sweetspot.exceptions.ExtrapolationWarning`.

    Returns
    -------
    ndarray of float64
        Energy per request [J], of the broadcast shape of the lengths.

    Raises
    ------
    SpecError
        Another GPU without ``allow_other_gpu``, a model that does not fit on the GPU.

    Warns
    -----
    ExtrapolationWarning
        Another GPU, lengths outside the fitted 64..4096, batch sizes outside the fitted
        ones, sequences beyond the engine's ``max_seq_len``, ``tp`` other than 1.

    Examples
    --------
    >>> import sweetspot as ss
    >>> round(float(ss.predict_energy("llama-3.1-8b", 512, 256)), 2)
    20.51
    """
    bound = serving_model(
        architecture,
        gpu=gpu,
        serving=serving,
        family=family,
        allow_other_gpu=allow_other_gpu,
    )
    with warnings.catch_warnings():
        # serving_model has said it once
        warnings.filterwarnings(
            "ignore", message="extrapolating to another GPU", category=ExtrapolationWarning
        )
        return bound.predict(n_in, n_out)
