"""What a fit is fitted on: measurement arrays, the models' architectures, the design."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from ..architecture import Architecture, get_architecture
from ..exceptions import ArchitectureError, FitError, MeasurementError, SpecError
from ..models import ModelSpec

_F64 = NDArray[np.float64]

ArchitectureArg = Architecture | str | Mapping[str, Architecture | str] | None

#: Columns of the data recorded in a fit's ``meta`` when they hold a single value.
META_COLUMNS: tuple[str, ...] = ("gpu", "engine", "n_gpus", "dtype")

#: Engine facts a row carries about how it was measured: one fit describes one value of each.
FACT_COLUMNS: tuple[str, ...] = ("kv_cache", "engine", "n_gpus")

#: Engines known to compute the LM head at every position of a pass (Hugging Face
#: ``transformers``' ``generate``) rather than for the generated token only.
ALL_LOGITS_ENGINES: frozenset[str] = frozenset({"hf-transformers"})


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class FitData:
    """Measurements as the arrays a fit uses (validated once, then reused by every fit).

    Build it from a validated measurement frame with :meth:`from_frame`, or from arrays
    (the scikit-learn estimator does). :func:`sweetspot.fit` and
    :func:`sweetspot.cross_validate` accept it in place of a frame or a path, which spares
    re-validating the same data for each model family (:func:`sweetspot.evaluate.evaluate`).

    Attributes
    ----------
    n_in, n_out : ndarray of float64
        Lengths of each row [tokens], finite and >= 1.
    energy_j : ndarray of float64
        Energy of one request of each row [J] (the window's ``energy_j / n_requests``).
    batch_size : ndarray of float64
        Requests decoded together in each row (1 where the data has no ``batch_size``).
    labels : ndarray of object, or None
        The ``model`` of each row (None: the data has no model column).
    frame : pandas.DataFrame or None
        The validated frame the arrays come from (group columns, provenance), if any.
    facts : mapping
        The engine facts of the rows (:func:`engine_facts`): ``kv_cache``, ``engine``,
        ``n_gpus`` where the data has those columns.
    """

    n_in: _F64
    n_out: _F64
    energy_j: _F64
    batch_size: _F64
    labels: NDArray[np.object_] | None = None
    frame: pd.DataFrame | None = field(default=None, repr=False)
    facts: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        n = self.energy_j.shape
        for name in ("n_in", "n_out", "batch_size", "energy_j"):
            arr = getattr(self, name)
            if arr.shape != n or arr.ndim != 1:
                raise MeasurementError(
                    f"{name} must be a 1-D array of one value per row ({n[0]}); got shape "
                    f"{arr.shape}."
                )
            low = 0.0 if name == "energy_j" else 1.0
            lo, hi = (float(arr.min()), float(arr.max())) if arr.size else (1.0, 1.0)
            above = lo > low if name == "energy_j" else lo >= low
            if np.isfinite(lo) and np.isfinite(hi) and above:
                continue  # the common case: two reductions, no temporaries
            bad = ~np.isfinite(arr) | (arr <= low if name == "energy_j" else arr < low)
            if np.any(bad):
                row = int(np.flatnonzero(bad)[0])
                need = "> 0 J" if name == "energy_j" else ">= 1"
                raise MeasurementError(
                    f"{name} must be finite and {need} in every row; got {arr[row]!r} in row "
                    f"{row} ({int(bad.sum())} bad rows)."
                )
        if self.labels is not None and self.labels.shape != n:
            raise MeasurementError(
                f"labels must hold one model name per row ({n[0]}); got shape {self.labels.shape}."
            )

    @classmethod
    def from_frame(cls, df: pd.DataFrame) -> FitData:
        """The arrays of a frame validated by :func:`sweetspot.read_measurements`."""
        n_in = df["n_in"].to_numpy(dtype=float)
        n_out = df["n_out"].to_numpy(dtype=float)
        y = df["energy_j"].to_numpy(dtype=float) / df["n_requests"].to_numpy(dtype=float)
        batch = (
            df["batch_size"].to_numpy(dtype=float)
            if "batch_size" in df.columns
            else np.ones_like(n_in)
        )
        labels = df["model"].astype(str).to_numpy(dtype=object) if "model" in df.columns else None
        return cls(
            n_in=n_in,
            n_out=n_out,
            energy_j=y,
            batch_size=batch,
            labels=labels,
            frame=df,
            facts=engine_facts(df),
        )

    @property
    def n_rows(self) -> int:
        """Rows of the data."""
        return int(self.energy_j.size)

    @property
    def models(self) -> list[str]:
        """Sorted distinct model labels (``[""]`` when the data has no model column)."""
        return present(self.labels)

    def subset(self, rows: NDArray[np.intp]) -> FitData:
        """The rows ``rows`` (integer positions) as new FitData."""
        return FitData(
            n_in=self.n_in[rows],
            n_out=self.n_out[rows],
            energy_j=self.energy_j[rows],
            batch_size=self.batch_size[rows],
            labels=None if self.labels is None else self.labels[rows],
            frame=None if self.frame is None else self.frame.iloc[rows],
            facts=self.facts,
        )


def engine_facts(data: Any) -> dict[str, Any]:
    """What the rows say about how they were measured: the single value of each of
    ``kv_cache``, ``engine`` and ``n_gpus`` the data has a column for.

    Parameters
    ----------
    data : DataFrame, FitData, or a path
        A validated measurement frame, fit data, or a Parquet file or directory (whose
        fact columns are read batch by batch).

    Raises
    ------
    SpecError
        A column holds several values: one fit describes one engine configuration.
    """
    if isinstance(data, FitData):
        return dict(data.facts)
    if not isinstance(data, pd.DataFrame):
        from ..io.parquet import ParquetDataset

        facts: dict[str, Any] = {}
        need = {"n_in", "n_out", "energy_j", "n_requests", *FACT_COLUMNS}
        for batch in ParquetDataset.open(data).batches(columns=need):
            for key, value in engine_facts(batch.frame).items():
                if facts.setdefault(key, value) != value:
                    raise _mixed(key, [facts[key], value])
        return facts
    frame = data
    facts = {}
    for col in FACT_COLUMNS:
        if col not in frame.columns:
            continue
        values = pd.unique(frame[col].dropna())
        if len(values) > 1:
            raise _mixed(col, [v.item() if hasattr(v, "item") else v for v in values])
        if len(values) == 1:
            v = values[0]
            facts[col] = v.item() if hasattr(v, "item") else v
    return facts


def _mixed(col: str, values: list[Any]) -> SpecError:
    shown = ", ".join(repr(v) for v in values[:5])
    return SpecError(
        f"the data mixes {col} values ({shown}); one fit describes one engine configuration. "
        f"Fit each value apart: filter the rows on {col!r} (or use `sweetspot fit --group "
        f"{col}`)."
    )


def spec_for(
    model: Any,
    kv_cache: bool | None,
    facts: Mapping[str, Any],
    *,
    options: Mapping[str, Any] | None = None,
) -> ModelSpec:
    """The model to fit, with the engine facts of the data applied (one rule for every
    entry point: fit, cross_validate, evaluate, the CLI and the tables).

    Parameters
    ----------
    model : str or ModelSpec
        A family name, or a spec used as given.
    kv_cache : bool or None
        The caller's choice; None: the data's ``kv_cache`` column, else True.
    facts : mapping
        The data's engine facts (:func:`engine_facts`).
    options : mapping, optional
        Physical options for a family name (``per_pass=True``, ``logits="last"``...).

    Returns
    -------
    ModelSpec
        For a physical family name: ``kv_cache`` as above, and ``logits="all"`` on an
        engine that computes every position's logits (``engine = "hf-transformers"``)
        unless ``options`` sets ``logits``.

    Raises
    ------
    SpecError
        A physical spec whose ``kv_cache`` contradicts the data's ``kv_cache`` column (the
        message names the column and how to override it), or a bad model or option.
    """
    from dataclasses import replace

    from ..models import as_spec

    fact = facts.get("kv_cache")
    spec = as_spec(model, kv_cache=True if kv_cache is None else kv_cache)
    if not isinstance(model, ModelSpec) and spec.is_physical:
        opts = dict(options or {})
        if kv_cache is None and fact is not None:
            opts["kv_cache"] = bool(fact)
        if "logits" not in opts and str(facts.get("engine", "")) in ALL_LOGITS_ENGINES:
            opts["logits"] = "all"
        try:
            spec = replace(spec, **opts)
        except TypeError as exc:
            raise SpecError(f"unknown model option in {sorted(opts)}: {exc}") from None
    elif options:
        raise SpecError(
            f"options {sorted(options)} apply to a physical family name, not to {model!r}."
        )
    if spec.is_physical and fact is not None and bool(fact) != spec.kv_cache:
        said = "keeps a KV cache" if fact else "recomputes the prefix (KV cache off)"
        fix = (
            f"build the spec with kv_cache={bool(fact)}"
            if isinstance(model, ModelSpec)
            else f"leave kv_cache unset (the data's value) or pass kv_cache={bool(fact)}"
        )
        raise SpecError(
            f"the model {spec.label!r} has kv_cache={spec.kv_cache}, but the data's kv_cache "
            f"column says the engine {said} (kv_cache={bool(fact)}). The column records how "
            f"the rows were measured: {fix}; or, if the column is wrong, correct or drop it "
            "(data.drop(columns='kv_cache'))."
        )
    return spec


def present(labels: NDArray[np.object_] | None) -> list[str]:
    """Sorted distinct model labels (hash-based: fast on millions of rows)."""
    if labels is None:
        return [""]
    return sorted(str(x) for x in pd.unique(np.asarray(labels, dtype=object)))


def resolve_architectures(
    spec: ModelSpec, architecture: ArchitectureArg, labels: NDArray[np.object_] | None
) -> dict[str, Architecture]:
    """Map each model label in the data to an Architecture (physical models only)."""
    names = present(labels)
    if not spec.is_physical:
        if architecture is not None:
            raise SpecError(
                f"model {spec.name!r} is a free polynomial and takes no architecture; drop "
                "architecture=... or use model='flops' / 'memory_flops'."
            )
        if len(names) > 1:
            raise SpecError(
                f"the data holds {len(names)} models ({', '.join(names)}), but a free "
                f"{spec.name!r} model describes one model on one GPU. Fit each model "
                "separately (e.g. data[data.model == name]), or fit a physical model pooled: "
                "fit(data, model='flops', architecture={name: preset, ...})."
            )
        return {}
    if architecture is None:
        if names == [""]:
            raise SpecError(
                f"model {spec.name!r} needs the LLM's architecture and the data has no 'model' "
                "column; pass architecture='llama-2-7b' (see sweetspot.list_architectures()) "
                "or Architecture.from_hf_config(config_dict)."
            )
        try:
            return {name: get_architecture(name) for name in names}
        except ArchitectureError as exc:
            raise SpecError(
                f"cannot infer the architecture of the data's models from their names: {exc} "
                "Pass architecture={model name: preset or Architecture} explicitly."
            ) from exc
    if isinstance(architecture, Mapping):
        missing = [name for name in names if name not in architecture]
        if missing:
            raise SpecError(
                f"architecture mapping has no entry for the data's model(s) {missing}; it has "
                f"{sorted(architecture)}. Add them, e.g. {{{missing[0]!r}: 'llama-2-7b'}}."
            )
        return {name: get_architecture(architecture[name]) for name in names}
    arch = get_architecture(architecture)
    if len(names) > 1:
        raise SpecError(
            f"one architecture ({arch.name}) was given but the data holds {len(names)} "
            f"models ({', '.join(names)}); pass a mapping {{model name: architecture}} for "
            "a pooled fit."
        )
    return {names[0]: arch}


def design(spec: ModelSpec, d: FitData, archs: Mapping[str, Architecture]) -> _F64:
    """Design matrix of every row, each model's rows with its own architecture."""
    return spec.design_rows(
        d.n_in, d.n_out, architectures=archs, labels=d.labels, batch_size=d.batch_size
    )


def too_few_rows(spec: ModelSpec, n: int) -> FitError:
    """The error of a fit with fewer rows than coefficients."""
    k = len(spec.param_names)
    return FitError(
        f"model {spec.label!r} has {k} coefficients but the data has only {n} row(s); "
        f"measure at least {k} (n_in, n_out) points (more than {k} to estimate errors)."
    )


def rank_message(spec: ModelSpec, n_in_levels: int, n_out_levels: int, rank: int) -> str:
    """Why a design is rank deficient, with what the model needs."""
    k = len(spec.param_names)
    if spec.name in ("sweetspot", "sweetspot_flops"):
        hint = (
            " The six-term model needs at least 3 distinct n_in and 3 distinct n_out levels "
            "(quadratic in each) and both varying together."
        )
    elif not spec.is_physical:
        hint = " It needs at least 2 distinct n_in and 2 distinct n_out levels."
    else:
        hint = (
            " Physical features can coincide when few lengths are measured; measure more "
            "(n_in, n_out) combinations or use split_phases=False."
        )
    return (
        f"the design of model {spec.label!r} is rank deficient (rank {rank} < {k} coefficients "
        f"{list(spec.param_names)}): the data has {n_in_levels} distinct n_in and "
        f"{n_out_levels} distinct n_out levels.{hint}"
    )


def levels(d: FitData) -> tuple[int, int]:
    """Distinct n_in and n_out levels of the data."""
    return int(np.unique(d.n_in).size), int(np.unique(d.n_out).size)


class Meta:
    """Single-valued provenance columns (gpu, engine, ...) of the fitted rows."""

    def __init__(self) -> None:
        self.values: dict[str, set[str]] = {}

    def add(self, frame: pd.DataFrame | None) -> None:
        if frame is None:
            return
        for col in META_COLUMNS:
            if col in frame.columns:
                seen = self.values.setdefault(col, set())
                if len(seen) <= 1:
                    seen.update(str(v) for v in pd.unique(frame[col].dropna()))

    def result(self, source: Any) -> dict[str, Any]:
        meta: dict[str, Any] = {c: next(iter(v)) for c, v in self.values.items() if len(v) == 1}
        if source is not None:
            meta["source"] = str(source)
        return meta


def check_k(k: Any, n: int) -> None:
    """``k`` folds must be an integer in ``2..n``."""
    if not isinstance(k, (int, np.integer)) or isinstance(k, bool) or k < 2:
        raise SpecError(f"k must be an integer >= 2; got {k!r}.")
    if k > n:
        raise SpecError(f"k = {k} folds need at least {k} rows; the data has {n}.")


def check_seed(seed: Any) -> None:
    """A fold seed is a non-negative integer."""
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool) or seed < 0:
        raise SpecError(f"seed must be a non-negative integer; got {seed!r}.")
