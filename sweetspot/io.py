"""Read energy measurements into the sweetspot schema, and map foreign formats onto it.

The measurement schema (DESIGN.md section 5) has one row per measured window:

============  ========  =====================================================
column        dtype     meaning
============  ========  =====================================================
n_in          int64     input (prompt) tokens per request, >= 1
n_out         int64     output (generated) tokens per request, >= 1
energy_j      float64   total energy of the window [J], > 0 and finite
n_requests    int64     requests in the window, >= 1 (1 when absent);
                        energy per request is ``energy_j / n_requests``
============  ========  =====================================================

and the optional columns of :data:`SCHEMA_OPTIONAL` (``time_s``, ``idle_power_w``, ``model``,
``gpu``, ...). Units are in the names. Other columns are kept as they are, after the schema
columns.

Every reader validates once, at the boundary, and returns a fresh frame whose
``attrs["source"]`` names where the data came from and whose ``attrs["notes"]`` lists, in plain
words, everything the reader did to the data (renamed columns, unit conversions, skipped
start-up rows, defaults). Nothing is dropped or converted silently: a bad cell raises
:class:`~sweetspot.exceptions.MeasurementError` naming the column, the first offending row
(0-based, header excluded), the number of bad rows, what was expected and how to fix it.

Readers for foreign formats:

- :func:`read_wilkins`: the A100 energy grid of Wilkins et al. (2024), Hugging Face
  ``transformers`` with the KV cache disabled;
- :func:`read_azure_trace`: the Azure LLM inference traces (2023), request mixes without energy;
- ``format="trtllm-bench"``, ``"zeus"``, ``"codecarbon"``: the logs of those tools, read by
  :mod:`sweetspot.importers`.

A directory is read as a measurement store written by ``sweetspot measure``
(:mod:`sweetspot.harness.store`).
"""

from __future__ import annotations

import errno
import importlib
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal, NoReturn

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from .exceptions import DependencyError, MeasurementError

__all__ = [
    "SCHEMA_OPTIONAL",
    "SCHEMA_REQUIRED",
    "read_azure_trace",
    "read_measurements",
    "read_wilkins",
    "validate_measurements",
]

SCHEMA_REQUIRED: tuple[str, ...] = ("n_in", "n_out", "energy_j")
"""Columns every measurement frame must have, in this order."""

SCHEMA_OPTIONAL: Mapping[str, type] = MappingProxyType(
    {
        "n_requests": int,
        "time_s": float,
        "idle_power_w": float,
        "model": str,
        "gpu": str,
        "n_gpus": int,
        "engine": str,
        "batch_size": int,
        "tp": int,
        "gpu_clock_mhz": float,
        "power_limit_w": float,
        "dtype": str,
        "repeat": int,
        "prompt": str,
        "kv_cache": bool,
        "simulated": bool,
    }
)
"""Optional schema columns and their Python types (read-only). ``n_requests`` is always present
in a validated frame (1 when the source has no such column)."""

Format = Literal["auto", "csv", "parquet", "wilkins", "frame", "trtllm-bench", "zeus", "codecarbon"]
_FORMATS: tuple[str, ...] = (
    "auto",
    "csv",
    "parquet",
    "wilkins",
    "frame",
    "trtllm-bench",
    "zeus",
    "codecarbon",
)
_IMPORTER_FORMATS: tuple[str, ...] = ("trtllm-bench", "zeus", "codecarbon")

# Unit-suffixed spellings converted to the schema unit: name -> (target, multiply, divide, unit).
# Divisions are kept separate so that mJ -> J is exactly rounded (1e-3 is not a binary fraction).
_UNIT_ALIASES: Mapping[str, tuple[str, float, float, str]] = MappingProxyType(
    {
        "energy_mj": ("energy_j", 1.0, 1000.0, "mJ"),
        "energy_kj": ("energy_j", 1000.0, 1.0, "kJ"),
        "energy_wh": ("energy_j", 3600.0, 1.0, "Wh"),
        "energy_kwh": ("energy_j", 3_600_000.0, 1.0, "kWh"),
        "time_ms": ("time_s", 1.0, 1000.0, "ms"),
    }
)

_ENERGY_ALIASES: tuple[str, ...] = tuple(
    a for a, spec in _UNIT_ALIASES.items() if spec[0] == "energy_j"
)
_KNOWN_NAMES: frozenset[str] = frozenset((*SCHEMA_REQUIRED, *SCHEMA_OPTIONAL, *_UNIT_ALIASES))

_COMPRESSION_SUFFIXES = (".gz", ".bz2", ".xz", ".zip", ".zst", ".tar")
_NEVER_DROPPED = "sweetspot never drops rows silently"
_MAX_EXACT_INT = 2.0**53  # beyond this float64 cannot hold every integer


@dataclass(frozen=True, slots=True)
class _Rule:
    """How one schema column is checked: kind, unit and lower bound."""

    kind: Literal["int", "float", "str", "bool"]
    unit: str = ""
    low: float | None = None
    strict: bool = False  # True: value > low; False: value >= low

    def expected(self) -> str:
        unit = f" [{self.unit}]" if self.unit else ""
        if self.kind == "str":
            return "a text label (no missing values)"
        if self.kind == "bool":
            return "a boolean (True/False, 1/0, yes/no)"
        if self.low is None:
            sign = ""
        elif self.low == 0 and self.strict:
            sign = "positive "
        elif self.low == 0:
            sign = "non-negative "
        elif self.low == 1 and self.kind == "int":
            sign = "positive "
        else:
            sign = f"{'>' if self.strict else '>='} {self.low:g}: "
        noun = "whole number" if self.kind == "int" else "finite number"
        return f"a {sign}{noun}{unit}"


_RULES: Mapping[str, _Rule] = MappingProxyType(
    {
        "n_in": _Rule("int", "tokens", 1),
        "n_out": _Rule("int", "tokens", 1),
        "energy_j": _Rule("float", "J", 0.0, strict=True),
        "n_requests": _Rule("int", "requests", 1),
        "time_s": _Rule("float", "s", 0.0, strict=True),
        "idle_power_w": _Rule("float", "W", 0.0),
        "model": _Rule("str"),
        "gpu": _Rule("str"),
        "n_gpus": _Rule("int", "GPUs", 1),
        "engine": _Rule("str"),
        "batch_size": _Rule("int", "requests", 1),
        "tp": _Rule("int", "GPUs", 1),
        "gpu_clock_mhz": _Rule("float", "MHz", 0.0, strict=True),
        "power_limit_w": _Rule("float", "W", 0.0, strict=True),
        "dtype": _Rule("str"),
        "repeat": _Rule("int", "", 0),
        "prompt": _Rule("str"),
        "kv_cache": _Rule("bool"),
        "simulated": _Rule("bool"),
        "energy_mj": _Rule("float", "mJ", 0.0, strict=True),
        "energy_kj": _Rule("float", "kJ", 0.0, strict=True),
        "energy_wh": _Rule("float", "Wh", 0.0, strict=True),
        "energy_kwh": _Rule("float", "kWh", 0.0, strict=True),
        "time_ms": _Rule("float", "ms", 0.0, strict=True),
    }
)

_FIXES: Mapping[str, str] = MappingProxyType(
    {
        "n_in": "A request has at least one input token; token counts are whole numbers.",
        "n_out": "A request generates at least one output token; token counts are whole numbers.",
        "energy_j": (
            "energy_j is the total energy of the window in joules; a value <= 0 usually means "
            "the meter was not read or an idle baseline was subtracted."
        ),
        "n_requests": "n_requests counts the requests measured in the window (1 or more).",
    }
)


class _MeasurementFileNotFoundError(MeasurementError, FileNotFoundError):
    """A measurement file does not exist; catchable as MeasurementError and FileNotFoundError."""


@dataclass(frozen=True, slots=True)
class _Ctx:
    """Where values come from, to say so in error messages."""

    source: str
    rows: NDArray[np.intp] | None = None  # reported row number of each position
    index: pd.Index | None = None  # index labels, when they are not simply 0..n-1
    origins: Mapping[str, str] = field(default_factory=dict)  # schema name -> source column

    def row(self, pos: int) -> str:
        number = int(self.rows[pos]) if self.rows is not None else pos
        text = f"row {number}"
        if self.rows is None and self.index is not None:
            label = self.index[pos]
            label = label.item() if isinstance(label, np.generic) else label
            text += f" (index label {label!r})"
        return text

    def describe(self, name: str) -> str:
        origin = self.origins.get(name)
        return name if origin is None or origin == name else f"{name} (column {origin!r})"


# --------------------------------------------------------------------------- error helpers


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def _short(text: str, limit: int = 80) -> str:
    """Cut long reprs so a huge cell cannot make a huge error message."""
    return text if len(text) <= limit else f"{text[: limit - 20]}... ({len(text)} characters)"


def _describe_value(value: Any) -> str:
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or (pd.api.types.is_scalar(value) and bool(pd.isna(value))):
        return "a missing value (NaN/None)"
    if isinstance(value, str):
        return f"the text {_short(repr(value))}"
    if isinstance(value, bool):
        return f"the boolean {value!r}"
    return _short(repr(value))


def _fail(
    ctx: _Ctx,
    name: str,
    bad: NDArray[np.bool_],
    values: pd.Series,
    expected: str,
    fix: str,
) -> NoReturn:
    positions = np.flatnonzero(bad)
    pos = int(positions[0])
    got = _describe_value(values.iloc[pos])
    raise MeasurementError(
        f"{ctx.describe(name)} must be {expected}; got {got} in {ctx.row(pos)} of {ctx.source} "
        f"({_plural(len(positions), 'bad row')} in total). {fix}"
    )


def _list_columns(columns: Any, limit: int = 20) -> str:
    names = [_short(repr(c), 60) for c in list(columns)[:limit]]
    more = len(columns) - limit
    return "[" + ", ".join(names) + (f", ... ({more} more)" if more > 0 else "") + "]"


# --------------------------------------------------------------------------- column checks


def _as_float(series: pd.Series, name: str, rule: _Rule, ctx: _Ctx) -> NDArray[np.float64]:
    """Return the column as finite float64 values, rejecting text, booleans, NaN and inf."""
    expected = rule.expected()
    n = len(series)
    if pd.api.types.is_bool_dtype(series.dtype):
        _fail(ctx, name, np.ones(n, dtype=bool), series, expected, "Booleans are not numbers.")
    if series.dtype.kind in "iuf":
        values = series.to_numpy(dtype=np.float64, na_value=np.nan)
    else:
        coerced = pd.to_numeric(series, errors="coerce")
        values = coerced.to_numpy(dtype=np.float64, na_value=np.nan)
        present = series.notna().to_numpy(dtype=bool)
        text = present & np.isnan(values)
        if series.dtype == object:
            text |= np.fromiter(
                (isinstance(v, (bool, np.bool_)) for v in series), dtype=bool, count=n
            )
        if text.any():
            _fail(
                ctx,
                name,
                text,
                series,
                expected,
                "Cells must hold plain numbers (no units or other text); "
                f"correct them or remove those rows ({_NEVER_DROPPED}).",
            )
    missing = np.isnan(values)
    if missing.any():
        _fail(
            ctx,
            name,
            missing,
            series,
            expected,
            f"Fill in the missing values or remove those rows ({_NEVER_DROPPED}).",
        )
    infinite = np.isinf(values)
    if infinite.any():
        _fail(
            ctx,
            name,
            infinite,
            series,
            expected,
            f"Correct or remove those rows ({_NEVER_DROPPED}).",
        )
    fix = _FIXES.get(name, f"Correct or remove those rows ({_NEVER_DROPPED}).")
    if rule.kind == "int":
        fractional = (values != np.trunc(values)) | (np.abs(values) > _MAX_EXACT_INT)
        if fractional.any():
            _fail(ctx, name, fractional, series, expected, fix)
    if rule.low is not None:
        out_of_range = values <= rule.low if rule.strict else values < rule.low
        if out_of_range.any():
            _fail(ctx, name, out_of_range, series, expected, fix)
    return values


_TRUE_TEXT = frozenset({"true", "t", "yes", "y", "1"})
_FALSE_TEXT = frozenset({"false", "f", "no", "n", "0"})


def _as_bool_cell(value: Any) -> bool | None:
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, float, np.integer, np.floating)) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        text = value.strip().casefold()
        if text in _TRUE_TEXT:
            return True
        if text in _FALSE_TEXT:
            return False
    return None


def _check_column(series: pd.Series, name: str, rule: _Rule, ctx: _Ctx) -> Any:
    """Validate one schema column and return its values in the schema dtype."""
    if rule.kind == "int":
        return _as_float(series, name, rule, ctx).astype(np.int64)
    if rule.kind == "float":
        return _as_float(series, name, rule, ctx)
    missing = series.isna().to_numpy(dtype=bool)
    if missing.any():
        _fail(
            ctx,
            name,
            missing,
            series,
            rule.expected(),
            "Fill in the missing values, drop the column, or remove those rows "
            f"({_NEVER_DROPPED}).",
        )
    if rule.kind == "str":
        return series.astype(str).array
    if pd.api.types.is_bool_dtype(series.dtype):
        return series.to_numpy(dtype=bool)
    cells = [_as_bool_cell(v) for v in series]
    bad = np.fromiter((c is None for c in cells), dtype=bool, count=len(cells))
    if bad.any():
        _fail(ctx, name, bad, series, rule.expected(), "Use True/False.")
    return np.array(cells, dtype=bool)


# --------------------------------------------------------------------------- frame checks


def _check_unique_columns(columns: pd.Index, source: str) -> None:
    duplicated = columns[columns.duplicated()].unique()
    if len(duplicated):
        name = duplicated[0]
        count = int((columns == name).sum())
        raise MeasurementError(
            f"column name {name!r} appears {count} times in {source}; column names must be "
            f"unique (duplicated: {_list_columns(duplicated)}). Rename or drop the copies."
        )


def _canonical_names(
    df: pd.DataFrame, source: str, notes: list[str], origins: dict[str, str]
) -> pd.DataFrame:
    """Rename schema columns spelled with other case or surrounding whitespace."""
    by_key: dict[str, list[str]] = {}
    for column in df.columns:
        if isinstance(column, str):
            key = column.strip().casefold()
            if key in _KNOWN_NAMES:
                unit = column.strip().rsplit("_", 1)[-1]
                if (
                    unit[:1] in ("M", "m")
                    and unit[1:].casefold() in ("j", "wh")
                    and (unit[0] == "M")
                ):
                    # SI prefixes are case-sensitive: MJ is mega-, mJ milli- (a factor 1e9)
                    raise MeasurementError(
                        f"column {column!r} of {source}: {unit!r} reads as mega-{unit[1:]} "
                        "(SI prefixes are case-sensitive), which sweetspot does not convert, and "
                        f"it must not be mistaken for milli ({unit[0].lower()}{unit[1:]}). "
                        "Convert it to joules in a column named 'energy_j'."
                    )
                by_key.setdefault(key, []).append(column)
    renames: dict[str, str] = {}
    for key, columns in by_key.items():
        if len(columns) > 1:
            raise MeasurementError(
                f"columns {', '.join(repr(c) for c in columns)} of {source} all name {key!r} "
                "(names are matched case-insensitively, surrounding whitespace stripped); "
                "keep one of them: drop or rename the others."
            )
        if columns[0] != key:
            renames[columns[0]] = key
            origins.setdefault(key, columns[0])
            notes.append(
                f"renamed column {columns[0]!r} to {key!r} (schema names are matched "
                "case-insensitively, surrounding whitespace stripped)"
            )
    return df.rename(columns=renames) if renames else df


def _missing_columns_message(df: pd.DataFrame, missing: list[str], source: str) -> str:
    keywords = {
        "n_in": ("input", "prompt", "context", "_in"),
        "n_out": ("output", "generat", "completion", "_out"),
        "energy_j": ("energy", "joule"),
    }
    suggestion: dict[str, str] = {}
    for name in missing:
        for column in df.columns:
            text = str(column).casefold()
            if text.strip() in _KNOWN_NAMES:
                continue
            if any(k in text for k in keywords.get(name, ())) and column not in suggestion:
                suggestion[str(column)] = name
                break
    if not suggestion:
        suggestion = {"<your column>": missing[0]}
    hint = f"pass column_map={suggestion!r} to read_measurements"
    extra = ""
    if "energy_j" in missing:
        extra = (
            " Energy in another unit can be given as one of "
            f"{', '.join(_ENERGY_ALIASES)} "
            "and is converted to joules."
        )
    names = {str(c).strip() for c in df.columns}
    if {"Phase", "GPU Energy (mJ)"} <= names:
        extra += " The columns look like the Wilkins et al. grid: use format='wilkins'."
    if {"window_name", "elapsed_time"} <= names:
        extra += " The columns look like a Zeus log: use format='zeus' (or read_zeus)."
    if {"energy_consumed", "gpu_energy", "duration"} <= names:
        extra += (
            " The columns look like a CodeCarbon emissions.csv: use format='codecarbon' (or "
            "read_codecarbon)."
        )
    return (
        f"{source} is missing the required column(s) {', '.join(repr(m) for m in missing)}; "
        f"found columns {_list_columns(df.columns)}. Expected n_in and n_out [tokens per "
        f"request] and energy_j [J per measured window]. To use other names, {hint}.{extra}"
    )


def _convert_units(
    df: pd.DataFrame, ctx: _Ctx, notes: list[str]
) -> tuple[pd.DataFrame, dict[str, str]]:
    """Convert unit-suffixed energy/time columns to joules/seconds, explicitly and with notes."""
    origins = dict(ctx.origins)
    for target in ("energy_j", "time_s"):
        aliases = [a for a, spec in _UNIT_ALIASES.items() if spec[0] == target and a in df.columns]
        if not aliases:
            continue
        if target in df.columns:
            notes.append(
                f"{target} present, so {', '.join(repr(a) for a in aliases)} kept unchanged as "
                "extra column(s) and not used"
            )
            continue
        if len(aliases) > 1:
            raise MeasurementError(
                f"{ctx.source} has no {target} column but several unit-suffixed ones "
                f"({', '.join(repr(a) for a in aliases)}); keep exactly one of them, or provide "
                f"{target} directly."
            )
        alias = aliases[0]
        _, multiply, divide, unit = _UNIT_ALIASES[alias]
        values = _as_float(df[alias], alias, _RULES[alias], ctx)
        converted = values * multiply / divide if multiply != 1.0 else values / divide
        position = list(df.columns).index(alias)
        df = df.drop(columns=[alias])
        df.insert(position, target, converted)
        origin = ctx.origins.get(alias, alias)
        origins[target] = origin
        op = f"/ {divide:g}" if multiply == 1.0 else f"* {multiply:g}"
        notes.append(
            f"converted {origin!r} [{unit}] to {target} [{'J' if target == 'energy_j' else 's'}] "
            f"({target} = {alias} {op}); the {unit} column is replaced by {target}"
        )
    return df, origins


def _validate(
    df: pd.DataFrame,
    *,
    source: str,
    notes: list[str],
    rows: NDArray[np.intp] | None = None,
    origins: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """Check a frame against the schema and return a fresh, canonical copy (see module doc)."""
    _check_unique_columns(df.columns, source)
    if len(df) == 0:
        raise MeasurementError(
            f"{source} has no data rows (0 rows, columns {_list_columns(df.columns)}); expected "
            "at least one measured window with n_in, n_out and energy_j."
        )
    origins_ = dict(origins or {})
    work = _canonical_names(df.copy(deep=True), source, notes, origins_)
    missing = [
        name
        for name in SCHEMA_REQUIRED
        if name not in work.columns
        and not (name == "energy_j" and any(a in work.columns for a in _ENERGY_ALIASES))
    ]
    if missing:
        raise MeasurementError(_missing_columns_message(work, missing, source))
    index = None if work.index.equals(pd.RangeIndex(len(work))) else work.index
    ctx = _Ctx(source, rows, index, origins_)
    work, origins_ = _convert_units(work, ctx, notes)
    ctx = _Ctx(source, rows, index, origins_)
    for name in (*SCHEMA_REQUIRED, *SCHEMA_OPTIONAL):
        if name in work.columns:
            work[name] = _check_column(work[name], name, _RULES[name], ctx)
    if "n_requests" not in work.columns:
        work["n_requests"] = np.ones(len(work), dtype=np.int64)
        notes.append("no n_requests column: set to 1 (each row is one request)")
    if "simulated" in work.columns and bool(work["simulated"].any()):
        count = int(work["simulated"].sum())
        notes.append(f"{_plural(count, 'row')} come from the simulated (fake) engine, not a GPU")
    schema = [name for name in (*SCHEMA_REQUIRED, *SCHEMA_OPTIONAL) if name in work.columns]
    extras = [c for c in work.columns if c not in set(schema)]
    out = work[schema + extras].copy()
    out.attrs = {**work.attrs, "source": source, "notes": list(notes)}
    return out


def _previous_notes(df: pd.DataFrame) -> list[str]:
    notes = df.attrs.get("notes", [])
    return [str(n) for n in notes] if isinstance(notes, (list, tuple)) else []


def validate_measurements(df: pd.DataFrame, *, source: str | None = None) -> pd.DataFrame:
    """Check a frame against the measurement schema and return a new, canonical frame.

    Parameters
    ----------
    df : pandas.DataFrame
        One row per measured window with at least ``n_in``, ``n_out`` [tokens per request] and
        ``energy_j`` [J per window]. Column names are matched case-insensitively with surrounding
        whitespace stripped; ``energy_mj`` / ``energy_kj`` / ``energy_wh`` / ``energy_kwh`` and
        ``time_ms`` are converted to joules and seconds when ``energy_j`` / ``time_s`` are absent.
        Not modified.
    source : str, optional
        How to name the data in messages and in ``attrs["source"]``; defaults to
        ``df.attrs["source"]`` when set, else ``"data"``.

    Returns
    -------
    pandas.DataFrame
        A fresh copy with the required columns first (schema order), then the optional schema
        columns in :data:`SCHEMA_OPTIONAL` order, then any other columns unchanged.
        ``n_in``, ``n_out``, ``n_requests`` are int64 (``n_requests`` is 1 when absent) and
        ``energy_j`` is float64. ``attrs["source"]`` is set and ``attrs["notes"]`` lists what was
        done (notes already in ``df.attrs["notes"]`` are kept, so validating twice is a no-op).

    Raises
    ------
    MeasurementError
        Missing required columns, duplicated column names, zero rows, or a cell that is missing,
        infinite, text, fractional (token counts) or out of range. The message names the column,
        the first offending row (0-based), the count of bad rows and the fix.

    Examples
    --------
    >>> import pandas as pd
    >>> from sweetspot.io import validate_measurements
    >>> df = validate_measurements(pd.DataFrame({"n_in": [64], "n_out": [128], "energy_mj": [9e4]}))
    >>> df[["n_in", "n_out", "energy_j", "n_requests"]].to_dict("records")
    [{'n_in': 64, 'n_out': 128, 'energy_j': 90.0, 'n_requests': 1}]
    """
    if not isinstance(df, pd.DataFrame):
        raise MeasurementError(
            f"validate_measurements expects a pandas.DataFrame; got {type(df).__name__}. "
            "Use read_measurements to read a file."
        )
    label = source if source is not None else str(df.attrs.get("source", "data"))
    return _validate(df, source=label, notes=_previous_notes(df))


# --------------------------------------------------------------------------- column_map


def _apply_column_map(
    df: pd.DataFrame, column_map: Mapping[str, str] | None, source: str, notes: list[str]
) -> tuple[pd.DataFrame, dict[str, str]]:
    if column_map is None:
        return df, {}
    if not isinstance(column_map, Mapping):
        raise MeasurementError(
            "column_map must map source column names to schema names, e.g. "
            f"{{'prompt_tokens': 'n_in'}}; got {type(column_map).__name__}."
        )
    _check_unique_columns(df.columns, source)
    valid = (*SCHEMA_REQUIRED, *SCHEMA_OPTIONAL, *_UNIT_ALIASES)
    renames: dict[Any, str] = {}
    for src, target in column_map.items():
        if target not in valid:
            raise MeasurementError(
                f"column_map maps {src!r} to {target!r}, which is not a schema column; valid "
                f"targets are {', '.join(valid)}. Unknown columns need no mapping: they are kept."
            )
        if src in df.columns:
            column: Any = src
        else:
            key = str(src).strip().casefold()
            matches = [c for c in df.columns if str(c).strip().casefold() == key]
            if len(matches) != 1:
                raise MeasurementError(
                    f"column_map names the column {src!r}, which {source} does not have; found "
                    f"columns {_list_columns(df.columns)}. Check the spelling."
                )
            column = matches[0]
        if target in renames.values():
            raise MeasurementError(
                f"column_map maps more than one column to {target!r}; map exactly one."
            )
        renames[column] = target
    sources = set(renames)
    for column in df.columns:
        if column in sources:
            continue
        if str(column).strip().casefold() in set(renames.values()):
            target = str(column).strip().casefold()
            by = next(s for s, t in renames.items() if t == target)
            raise MeasurementError(
                f"column_map renames {by!r} to {target!r}, but {source} already has a column "
                f"{column!r}; drop one of them or map it to another name."
            )
    origins = {}
    for column, target in renames.items():
        if column != target:
            origins[target] = str(column)
            notes.append(f"renamed column {column!r} to {target!r} (column_map)")
    return df.rename(columns=renames), origins


# --------------------------------------------------------------------------- file readers


def _missing_file(label: str) -> _MeasurementFileNotFoundError:
    err = _MeasurementFileNotFoundError(
        f"No such file or directory: {label!r}. Expected a CSV/TSV/Parquet file or a sweetspot "
        f"measurement-store directory; check the path (relative paths start at {os.getcwd()!r})."
    )
    err.errno = errno.ENOENT
    return err


#: Longest line a measurement file may hold [bytes]; a row is a few dozen bytes.
MAX_LINE_BYTES = 1 << 20


def _check_line_lengths(path: Path, label: str, limit: int = MAX_LINE_BYTES) -> None:
    """Refuse files with a line longer than ``limit`` before pandas holds it several times
    in memory; reads the file once in fixed-size binary chunks."""
    if path.suffix.casefold() in (".gz", ".bz2", ".xz", ".zip", ".zst"):
        return  # compressed: pandas decompresses as a stream; the parser bounds the rest
    line, run = 1, 0
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            start = 0
            while (nl := chunk.find(b"\n", start)) != -1:
                if run + nl - start > limit:
                    break
                line += 1
                run = 0
                start = nl + 1
            else:
                run += len(chunk) - start
                if run <= limit:
                    continue
            raise MeasurementError(
                f"{label}: line {line} is longer than {limit // (1 << 20)} MiB; a measurement row "
                "is a few dozen bytes, so this is not a measurement CSV (or its line breaks "
                "are missing). Check the file, or split the line into rows."
            )


def _first_long_row(path: Path, sep: str, width: int) -> int | None:
    """Data row (0-based) of the first row with more fields than the header (error path)."""
    import csv

    with open(path, encoding="utf-8-sig", newline="") as fh:
        for i, row in enumerate(csv.reader(fh, delimiter=sep)):
            if i > 0 and len(row) > width:
                return i - 1
    return None


def _read_csv(path: Path, sep: str, label: str) -> pd.DataFrame:
    """Read a delimited UTF-8 text file (BOM allowed), with clear errors for common mistakes."""
    import lzma
    import warnings
    import zlib

    delimiter = {",": "comma", "\t": "tab"}.get(sep, repr(sep))
    _check_line_lengths(path, label)
    try:
        head = pd.read_csv(
            path,
            sep=sep,
            header=None,
            nrows=1,
            dtype=str,
            keep_default_na=False,
            encoding="utf-8-sig",
            index_col=False,
        )
        header = [str(v) for v in head.iloc[0].tolist()] if len(head) else []
        _check_unique_columns(pd.Index([h for h in header if h]), label)
        if len(header) == 1:
            for other, word in ((";", "semicolon"), ("\t", "tab"), ("|", "pipe"), (",", "comma")):
                if other != sep and other in header[0]:
                    raise MeasurementError(
                        f"{label}: the header is a single column {header[0]!r}, which contains "
                        f"{word}s; the file looks {word}-delimited but sweetspot reads it as "
                        f"{delimiter}-delimited (delimiter {sep!r}). Save it with {delimiter}s "
                        "(tab-separated files need a .tsv suffix), or read it with "
                        f"pandas.read_csv(path, sep={other!r}) and pass the DataFrame."
                    )
        with warnings.catch_warnings():
            # a row longer than the header would lose its extra fields: refuse it instead
            warnings.simplefilter("error", pd.errors.ParserWarning)
            try:
                return pd.read_csv(
                    path, sep=sep, encoding="utf-8-sig", index_col=False, low_memory=False
                )
            except pd.errors.ParserWarning:
                row = _first_long_row(path, sep, len(header))
                where = f"row {row}" if row is not None else "a row"
                raise MeasurementError(
                    f"{label}: {where} has more fields than the header's {len(header)} "
                    f"({', '.join(header[:8])}); the extra field would be lost. Fix the row, "
                    "or add a column name to the header."
                ) from None
    except (EOFError, zlib.error, lzma.LZMAError) as exc:
        raise MeasurementError(
            f"{label} is a truncated or corrupt compressed file ({exc}); re-copy or re-compress it."
        ) from exc
    except pd.errors.EmptyDataError as exc:
        raise MeasurementError(
            f"{label} is empty (no header, no rows); expected a header line with n_in, n_out, "
            "energy_j and one row per measured window."
        ) from exc
    except UnicodeDecodeError as exc:
        byte = f"byte 0x{exc.object[exc.start]:02x}" if isinstance(exc.object, bytes) else "a byte"
        raise MeasurementError(
            f"{label} is not UTF-8 text ({byte} cannot be decoded); sweetspot reads delimited "
            "files as UTF-8 (with or without a byte-order mark). Re-save it as UTF-8, or read "
            "it with pandas.read_csv(path, encoding=...) and pass the DataFrame."
        ) from exc
    except pd.errors.ParserError as exc:
        raise MeasurementError(
            f"{label} is not a well-formed {delimiter}-delimited file ({exc}). Check the "
            "delimiter and quoting; every row needs as many fields as the header."
        ) from exc
    except OSError as exc:
        raise MeasurementError(f"cannot read {label}: {exc}") from exc


def _read_parquet(path: Path, label: str) -> pd.DataFrame:
    try:
        pyarrow = importlib.import_module("pyarrow")
    except ImportError as exc:
        raise DependencyError(
            f"reading the Parquet file {label} needs pyarrow, an optional dependency; install "
            'it with: pip install "sweetspot[parquet]"'
        ) from exc
    try:
        return pd.read_parquet(path, engine="pyarrow")
    except (OSError, ValueError, pyarrow.ArrowException) as exc:
        raise MeasurementError(
            f"{label} cannot be read as Parquet ({exc}). Check that it is a Parquet file, or "
            "pass format='csv' if it is delimited text."
        ) from exc


def _read_store(path: Path, label: str) -> tuple[pd.DataFrame, list[str]]:
    """Read a measurement-store directory: ``points.jsonl`` (one JSON object per line) and,
    when present, the ``manifest.json`` written by the sweetspot harness."""
    points = path / "points.jsonl"
    manifest_file = path / "manifest.json"
    if not points.is_file():
        entries = sorted(p.name + ("/" if p.is_dir() else "") for p in path.iterdir())
        found = _list_columns(entries) if entries else "nothing, the directory is empty"
        raise MeasurementError(
            f"{label} is a directory but not a sweetspot measurement store: it has no "
            f"points.jsonl (found {found}). Pass a CSV or Parquet file, or a store directory "
            "written by the sweetspot harness."
        )
    manifest: dict[str, Any] | None = None
    if manifest_file.exists():
        from .exceptions import StoreError
        from .harness.store import read_manifest

        try:
            manifest = read_manifest(path)
        except StoreError as exc:
            raise MeasurementError(str(exc)) from exc
    records: list[dict[str, Any]] = []
    notes: list[str] = []
    keys: dict[str, int] = {}
    try:
        with points.open("rb") as fh:
            for lineno, raw in enumerate(fh, start=1):
                if not raw.strip():
                    continue
                try:
                    record = json.loads(raw)
                except (json.JSONDecodeError, UnicodeDecodeError) as exc:
                    if not raw.endswith(b"\n"):
                        notes.append(
                            f"ignored the incomplete last line {lineno} of {points.name} (a "
                            "point in flight when the sweep stopped; `sweetspot measure "
                            "--resume` measures it again)"
                        )
                        break
                    reason = exc.msg if isinstance(exc, json.JSONDecodeError) else exc.reason
                    raise MeasurementError(
                        f"line {lineno} of {points} is not valid JSON ({reason}); every line "
                        "of points.jsonl must be one JSON object. Repair or remove that line."
                    ) from exc
                if not isinstance(record, dict):
                    raise MeasurementError(
                        f"line {lineno} of {points} is a JSON {type(record).__name__}, not an "
                        "object; every line of points.jsonl must be one JSON object (one point)."
                    )
                key = record.get("point_key")
                if isinstance(key, str):
                    if key in keys:
                        raise MeasurementError(
                            f"point {key!r} appears twice in {points} (lines {keys[key]} and "
                            f"{lineno}); a store holds each point once. Remove one of the lines."
                        )
                    keys[key] = lineno
                records.append(record)
    except OSError as exc:
        raise MeasurementError(f"cannot read {points}: {exc}") from exc
    if not records:
        raise MeasurementError(
            f"the measurement store {label} has no points yet (points.jsonl is empty)."
        )
    notes.insert(0, f"read {_plural(len(records), 'point')} from {points.name} (measurement store)")
    frame = pd.DataFrame.from_records(records)
    if manifest is not None:
        frame.attrs["manifest"] = manifest
        if manifest.get("simulated"):
            notes.append("the store manifest says the sweep was simulated by the fake engine")
    return frame, notes


def _suffix(path: Path) -> str:
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] in _COMPRESSION_SUFFIXES:
        suffixes = suffixes[:-1]
    return suffixes[-1] if suffixes else ""


def _looks_like_wilkins(columns: pd.Index) -> bool:
    names = {str(c).strip() for c in columns}
    return {"Phase", "GPU Energy (mJ)"} <= names


def read_measurements(
    source: str | os.PathLike[str] | pd.DataFrame,
    *,
    format: Format = "auto",
    column_map: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """Read measurements from a file, a store directory or a frame, and validate them.

    Parameters
    ----------
    source : str, os.PathLike or pandas.DataFrame
        A ``.csv`` / ``.txt`` (comma-separated) or ``.tsv`` (tab-separated) file, UTF-8 with or
        without a byte-order mark, optionally compressed (``.gz``, ...); a ``.parquet`` / ``.pq``
        file; a measurement-store directory; or a DataFrame (not modified).
    format : {"auto", "csv", "parquet", "wilkins", "frame", "trtllm-bench", "zeus", "codecarbon"}
        ``"auto"`` picks by type and suffix: a DataFrame is read as ``"frame"``, a directory as
        a measurement store, and a CSV whose header has ``Phase`` and ``GPU Energy (mJ)`` as
        ``"wilkins"`` (see :func:`read_wilkins`). The formats of other tools are read only
        when named: ``"trtllm-bench"`` (a ``--report_json`` file, see
        :func:`sweetspot.importers.read_trtllm_bench`), ``"zeus"`` (a ``ZeusMonitor`` log
        CSV, :func:`sweetspot.importers.read_zeus`) and ``"codecarbon"`` (an
        ``emissions.csv``, :func:`sweetspot.importers.read_codecarbon`); use those functions
        directly for their options.
    column_map : mapping of str to str, optional
        Source column name -> schema name, e.g. ``{"prompt_tokens": "n_in"}``. Targets must be
        schema columns (or ``energy_mj``, ``energy_kj``, ``energy_wh``, ``energy_kwh``,
        ``time_ms``, converted explicitly); sources must exist. Not used with ``"wilkins"``.

    Returns
    -------
    pandas.DataFrame
        The validated frame described in :func:`validate_measurements`, with
        ``attrs["source"]`` (the path, or ``"DataFrame"``) and ``attrs["notes"]``.

    Raises
    ------
    MeasurementError
        Anything wrong with the data or the arguments: missing file (the error is then also a
        :class:`FileNotFoundError`), empty or header-only file, wrong delimiter, non-UTF-8 text,
        unknown ``format``, bad ``column_map``, and every schema violation of
        :func:`validate_measurements`.
    DependencyError
        A Parquet file was given but pyarrow is not installed
        (``pip install "sweetspot[parquet]"``).

    Notes
    -----
    A measurement store is a directory holding ``points.jsonl``, one JSON object (one measured
    window) per line, and the ``manifest.json`` of the sweep that wrote it (``sweetspot
    measure``; see :mod:`sweetspot.harness.store`). Blank lines are ignored; an incomplete
    last line (the point in flight when a sweep was killed) is skipped with a note; a point
    stored twice is an error. The manifest is returned in ``attrs["manifest"]``. Rows of the
    fake engine (``simulated = True``) raise a
    :class:`~sweetspot.exceptions.SimulatedDataWarning`.

    Examples
    --------
    >>> import pandas as pd
    >>> from sweetspot.io import read_measurements
    >>> raw = pd.DataFrame({"prompt_tokens": [512], "n_out": [256], "energy_j": [310.0]})
    >>> df = read_measurements(raw, column_map={"prompt_tokens": "n_in"})
    >>> list(df.columns)
    ['n_in', 'n_out', 'energy_j', 'n_requests']
    >>> df.attrs["notes"][0]
    "renamed column 'prompt_tokens' to 'n_in' (column_map)"
    """
    if format not in _FORMATS:
        raise MeasurementError(
            f"format must be one of {', '.join(repr(f) for f in _FORMATS)}; got {format!r}."
        )
    if column_map is not None and format in _IMPORTER_FORMATS:
        raise MeasurementError(
            f"column_map is not used with format={format!r}: that reader maps its own columns; "
            "see its options in sweetspot.importers."
        )
    if isinstance(source, pd.DataFrame):
        if format not in ("auto", "frame", "wilkins"):
            raise MeasurementError(
                f"format={format!r} reads a file, but a DataFrame was passed; use "
                "format='frame' (or 'auto') for a DataFrame."
            )
        label = str(source.attrs.get("source", "DataFrame"))
        if format == "wilkins":
            return _wilkins_frame(source, label, _previous_notes(source), column_map)
        return _read_frame(source, label, _previous_notes(source), column_map)
    if not isinstance(source, (str, os.PathLike)):
        raise MeasurementError(
            "read_measurements expects a path (str or os.PathLike) or a pandas.DataFrame; got "
            f"{type(source).__name__}."
        )
    path = Path(source)
    label = str(path)
    if format == "frame":
        raise MeasurementError(
            f"format='frame' expects a pandas.DataFrame, but a path was passed ({label!r}); use "
            "format='auto', 'csv' or 'parquet' for files."
        )
    if not path.exists():
        raise _missing_file(label)
    frame = _read_path(path, label, format, column_map)
    if "simulated" in frame.columns and bool(frame["simulated"].any()):
        import warnings

        from .exceptions import SimulatedDataWarning

        count = int(frame["simulated"].sum())
        warnings.warn(
            f"{_plural(count, 'row')} of {label} come from the simulated (fake) engine, not "
            "from a GPU: fitted parameters describe the simulation.",
            SimulatedDataWarning,
            stacklevel=2,
        )
    return frame


def _read_path(
    path: Path, label: str, format: str, column_map: Mapping[str, str] | None
) -> pd.DataFrame:
    notes: list[str] = []
    if format in _IMPORTER_FORMATS:
        from . import importers

        if format == "trtllm-bench":
            return importers.read_trtllm_bench(path)
        if format == "zeus":
            return importers.read_zeus(path)
        return importers.read_codecarbon(path)
    if path.is_dir():
        if format != "auto":
            raise MeasurementError(
                f"{label} is a directory, but format={format!r} reads a file; a directory is "
                "read as a measurement store with format='auto'."
            )
        raw, notes = _read_store(path, label)
        return _read_frame(raw, label, notes, column_map)
    suffix = _suffix(path)
    fmt = format
    if fmt == "auto":
        if suffix in (".csv", ".tsv", ".txt"):
            fmt = "csv"
        elif suffix in (".parquet", ".pq"):
            fmt = "parquet"
        else:
            raise MeasurementError(
                f"cannot tell the format of {label} from its suffix ({suffix or 'none'}); "
                "expected .csv, .tsv, .txt, .parquet or .pq, or a store directory. Pass "
                "format='csv' or format='parquet'."
            )
    if fmt == "parquet":
        return _read_frame(_read_parquet(path, label), label, notes, column_map)
    raw = _read_csv(path, "\t" if suffix == ".tsv" else ",", label)
    if fmt == "wilkins" or (format == "auto" and _looks_like_wilkins(raw.columns)):
        if format == "auto":
            notes.append("detected the Wilkins et al. grid format from the header")
        return _wilkins_frame(raw, label, notes, column_map)
    return _read_frame(raw, label, notes, column_map)


def _read_frame(
    raw: pd.DataFrame, label: str, notes: list[str], column_map: Mapping[str, str] | None
) -> pd.DataFrame:
    mapped, origins = _apply_column_map(raw, column_map, label, notes)
    return _validate(mapped, source=label, notes=notes, origins=origins)


# --------------------------------------------------------------------------- Wilkins et al.

_WILKINS_COLUMNS: Mapping[str, str] = MappingProxyType(
    {
        "Timestamp": "timestamp",
        "Phase": "prompt",
        "Runtime (s)": "time_s",
        "GPU Energy (mJ)": "energy_mj",
        "Number of Output Tokens": "n_out",
        "Number of Input Tokens": "n_in",
        "Model": "model",
        "Number of GPUs": "n_gpus",
    }
)
_WILKINS_STARTUP = ("tokenizer", "model load")
_WILKINS_PHASE = r"^start-inference-([A-Za-z]+)-(\d+)$"
_WILKINS_CONSTANTS: Mapping[str, Any] = MappingProxyType(
    {
        "n_requests": 1,
        "batch_size": 1,
        "gpu": "A100-40GB",
        "engine": "hf-transformers",
        "dtype": "bfloat16",
        "kv_cache": False,
    }
)


def read_wilkins(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Read the A100 energy grid of Wilkins et al. (2024) into the measurement schema.

    Parameters
    ----------
    path : str or os.PathLike
        The ``all-stats-raw.csv`` file of the ``grantwilkins/energy-inference`` repository
        (``plots/independence-test/``), or a file with the same columns.

    Returns
    -------
    pandas.DataFrame
        One row per ``start-inference-<prompt>-<N>`` row, in file order: ``n_in`` <- ``Number
        of Input Tokens``; ``n_out`` <- ``Number of Output Tokens``; ``energy_j`` <- ``GPU Energy
        (mJ)`` / 1000 (summed over the GPUs used); ``time_s`` <- ``Runtime (s)``; ``model`` <-
        ``Model``; ``n_gpus`` <- ``Number of GPUs``; ``prompt`` <- the prompt letter of
        ``Phase`` (``"start-inference-A-8"`` -> ``"A"``); ``timestamp`` <- ``Timestamp`` (unix
        seconds, as UTC datetimes); and the constants ``n_requests = 1``, ``batch_size = 1``,
        ``gpu = "A100-40GB"``, ``engine = "hf-transformers"``, ``dtype = "bfloat16"``,
        ``kv_cache = False``. ``attrs["notes"]`` records all of this.

    Raises
    ------
    MeasurementError
        A required column is missing; a ``Phase`` is neither a measurement nor a start-up phase;
        the ``N`` of a phase disagrees with ``Number of Output Tokens``; or a value breaks the
        schema. The row numbers are 0-based data rows of the file.

    Notes
    -----
    - ``n_out`` is the *requested* ``max_new_tokens = N``; the runs set ``min_new_tokens =
      int(0.9 N)``, so the true output length lies in [0.9 N, N]. Only N is recorded.
    - The start-up rows (``Phase`` ``tokenizer`` and ``model load``) are not requests: they are
      skipped and counted in ``attrs["notes"]``. Any other ``Phase`` is an error.
    - ``Batch Size`` in the CSV is an argument of the ``transformers`` pipeline, not the real
      batch: one prompt was generated per call, so ``batch_size = 1``.
    - The runs used ``use_cache=False``: every decode step re-runs the whole prefix, so the
      energy has n_in n_out, n_out^2 and cubic terms, unlike a KV-cached engine.
    - The first cell of some groups (``A-8``) carries a cold-start overhead; it is kept.

    References
    ----------
    G. Wilkins, S. Keshav, R. Mortier, "Offline Energy-Optimal LLM Serving: Workload-Based
    Energy Models for LLM Inference on Heterogeneous Systems", 2024.
    """
    return read_measurements(path, format="wilkins")


def _wilkins_frame(
    raw: pd.DataFrame, label: str, notes: list[str], column_map: Mapping[str, str] | None
) -> pd.DataFrame:
    if column_map:
        raise MeasurementError(
            "column_map is not used with format='wilkins': the Wilkins reader maps its own "
            "columns. Read the file with format='csv' to map columns yourself."
        )
    _check_unique_columns(raw.columns, label)
    by_name = {str(c).strip(): c for c in raw.columns}
    missing = [name for name in _WILKINS_COLUMNS if name not in by_name]
    if missing:
        raise MeasurementError(
            f"{label} is missing the Wilkins et al. column(s) "
            f"{', '.join(repr(m) for m in missing)}; found columns {_list_columns(raw.columns)}. "
            "Use format='csv' for a file in the sweetspot schema."
        )
    if len(raw) == 0:
        raise MeasurementError(f"{label} has no data rows (0 rows); expected the Wilkins grid.")
    all_rows = _Ctx(label)
    phase_raw = raw[by_name["Phase"]]
    phase_fix = (
        "Measurement rows have Phase 'start-inference-<prompt>-<max_new_tokens>'; start-up rows "
        f"have {' or '.join(repr(s) for s in _WILKINS_STARTUP)}. Correct or remove the row."
    )
    phase_expected = "'start-inference-<prompt letter>-<N>' or a start-up phase"
    missing_phase = phase_raw.isna().to_numpy(dtype=bool)
    if missing_phase.any():
        _fail(all_rows, "Phase", missing_phase, phase_raw, phase_expected, phase_fix)
    phase = phase_raw.astype(str).str.strip()
    inference = phase.str.startswith("start-inference-").to_numpy(dtype=bool)
    startup_kind = phase.str.casefold()
    startup = startup_kind.isin(_WILKINS_STARTUP).to_numpy(dtype=bool)
    other = ~inference & ~startup
    if other.any():
        _fail(all_rows, "Phase", other, phase_raw, phase_expected, phase_fix)
    rows = np.flatnonzero(inference)
    if len(rows) == 0:
        raise MeasurementError(
            f"{label} has only start-up rows ({len(raw)}) and no 'start-inference-...' "
            "measurement rows."
        )
    parsed = phase.iloc[rows].str.extract(_WILKINS_PHASE)
    bad_phase = parsed[0].isna().to_numpy(dtype=bool)
    if bad_phase.any():
        _fail(
            _Ctx(label, rows), "Phase", bad_phase, phase_raw.iloc[rows], phase_expected, phase_fix
        )
    if startup.any():
        counts = startup_kind[startup].value_counts()
        detail = ", ".join(f"{kind!r}: {int(counts.get(kind, 0))}" for kind in _WILKINS_STARTUP)
        notes.append(
            f"skipped {_plural(int(startup.sum()), 'start-up row')} (Phase {detail}): "
            "tokenizer and model loading, not requests"
        )
    sub = raw.iloc[rows]
    ctx = _Ctx(label, rows, origins={"timestamp": by_name["Timestamp"]})
    seconds = _as_float(sub[by_name["Timestamp"]], "timestamp", _Rule("float"), ctx)
    mapped = pd.DataFrame(
        {
            "n_in": sub[by_name["Number of Input Tokens"]].to_numpy(),
            "n_out": sub[by_name["Number of Output Tokens"]].to_numpy(),
            "energy_mj": sub[by_name["GPU Energy (mJ)"]].to_numpy(),
            "time_s": sub[by_name["Runtime (s)"]].to_numpy(),
            "model": sub[by_name["Model"]].to_numpy(),
            "n_gpus": sub[by_name["Number of GPUs"]].to_numpy(),
            "prompt": parsed[0].to_numpy(),
            **{name: np.full(len(rows), value) for name, value in _WILKINS_CONSTANTS.items()},
            "timestamp": pd.to_datetime(seconds, unit="s", utc=True),
        }
    )
    origins = {
        target: str(by_name[name])
        for name, target in _WILKINS_COLUMNS.items()
        if target not in ("prompt", "timestamp")
    }
    notes.extend(
        [
            "n_out is the requested max_new_tokens N (min_new_tokens = int(0.9 N)): the true "
            "output length lies in [0.9 N, N]",
            "batch_size set to 1: the CSV's 'Batch Size' is a pipeline argument, one prompt was "
            "generated per call",
            "set n_requests=1, gpu='A100-40GB', engine='hf-transformers', dtype='bfloat16', "
            "kv_cache=False (use_cache=False: every decode step re-runs the prefix)",
            "prompt is the letter in Phase ('start-inference-A-8' -> 'A'); timestamp is "
            "Timestamp (unix seconds) as UTC",
        ]
    )
    out = _validate(mapped, source=label, notes=notes, rows=rows, origins=origins)
    requested = parsed[1].astype(np.int64).to_numpy()
    mismatch = out["n_out"].to_numpy() != requested
    if mismatch.any():
        pos = int(np.flatnonzero(mismatch)[0])
        raise MeasurementError(
            f"'Number of Output Tokens' must equal the N of Phase "
            f"'start-inference-<prompt>-N'; got {int(out['n_out'].iloc[pos])} with Phase "
            f"{phase.iloc[rows[pos]]!r} in row {int(rows[pos])} of {label} "
            f"({_plural(int(mismatch.sum()), 'bad row')} in total). Correct the row."
        )
    return out


# --------------------------------------------------------------------------- Azure traces

_AZURE_COLUMNS: Mapping[str, str] = MappingProxyType(
    {"contexttokens": "n_in", "generatedtokens": "n_out", "timestamp": "timestamp"}
)


def read_azure_trace(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Read an Azure LLM inference trace (2023) as a request mix of (n_in, n_out).

    Parameters
    ----------
    path : str or os.PathLike
        One trace file, e.g. ``AzureLLMInferenceTrace_code.csv`` or
        ``AzureLLMInferenceTrace_conv.csv``, with columns ``TIMESTAMP``, ``ContextTokens`` and
        ``GeneratedTokens`` (matched case-insensitively).

    Returns
    -------
    pandas.DataFrame
        One row per request, in file order: ``n_in`` (int64) <- ``ContextTokens``, ``n_out``
        (int64) <- ``GeneratedTokens``, ``timestamp`` (datetime64, time zone as in the file:
        none is stated for the 2023 traces) <- ``TIMESTAMP``; any other columns follow
        unchanged. There is no energy column: this is a workload, not a measurement.
        ``attrs["source"]`` and ``attrs["notes"]`` are set.

    Raises
    ------
    MeasurementError
        Missing file or column, zero rows, an unparseable timestamp, or a length that is not a
        whole number >= 1. Requests with zero context or zero generated tokens are *not*
        dropped: they raise, because energy per output token and the sweet spot are undefined
        for them. (The 2023 code and conversation traces have none: the shortest contexts are
        3 and 2 tokens, the shortest generations 6 and 7.)

    References
    ----------
    P. Patel et al., "Splitwise: Efficient generative LLM inference using phase splitting",
    ISCA 2024. Data: github.com/Azure/AzurePublicDataset, CC-BY 4.0.
    """
    if not isinstance(path, (str, os.PathLike)):
        raise MeasurementError(
            f"read_azure_trace expects a path (str or os.PathLike); got {type(path).__name__}."
        )
    file = Path(path)
    label = str(file)
    if not file.exists():
        raise _missing_file(label)
    if file.is_dir():
        found = sorted(p.name for p in file.glob("*.csv"))
        raise MeasurementError(
            f"{label} is a directory; read_azure_trace reads one trace file (CSV files found: "
            f"{_list_columns(found) if found else 'none'}). Pass one of them."
        )
    raw = _read_csv(file, "\t" if _suffix(file) == ".tsv" else ",", label)
    _check_unique_columns(raw.columns, label)
    by_key: dict[str, Any] = {}
    for column in raw.columns:
        key = str(column).strip().casefold()
        if key in _AZURE_COLUMNS:
            if key in by_key:
                raise MeasurementError(
                    f"columns {by_key[key]!r} and {column!r} of {label} both name {key!r} "
                    "(matched case-insensitively); keep one of them."
                )
            by_key[key] = column
    missing = [k for k in ("timestamp", "contexttokens", "generatedtokens") if k not in by_key]
    if missing:
        wanted = {"timestamp": "TIMESTAMP", "contexttokens": "ContextTokens"}
        names = ", ".join(repr(wanted.get(k, "GeneratedTokens")) for k in missing)
        raise MeasurementError(
            f"{label} is missing the Azure trace column(s) {names}; found columns "
            f"{_list_columns(raw.columns)}. Expected TIMESTAMP, ContextTokens, GeneratedTokens."
        )
    if len(raw) == 0:
        raise MeasurementError(f"{label} has no data rows (0 requests).")
    ctx = _Ctx(label, origins={_AZURE_COLUMNS[k]: str(c) for k, c in by_key.items()})
    n_in = _check_column(raw[by_key["contexttokens"]], "n_in", _RULES["n_in"], ctx)
    n_out = _check_column(raw[by_key["generatedtokens"]], "n_out", _RULES["n_out"], ctx)
    stamps = raw[by_key["timestamp"]]
    parsed = pd.to_datetime(stamps, format="ISO8601", errors="coerce")
    bad = parsed.isna().to_numpy(dtype=bool)
    if bad.any():
        _fail(
            ctx,
            "timestamp",
            bad,
            stamps,
            "a date and time such as '2024-02-03 04:05:06.1234567'",
            "Correct or remove those rows (sweetspot never drops rows silently).",
        )
    out = pd.DataFrame({"n_in": n_in, "n_out": n_out, "timestamp": parsed.array})
    used = set(by_key.values())
    for column in raw.columns:
        if column not in used:
            out[column] = raw[column].array.copy()
    out.attrs = {
        "source": label,
        "notes": [
            f"n_in <- {by_key['contexttokens']!r}, n_out <- {by_key['generatedtokens']!r}, "
            f"timestamp <- {by_key['timestamp']!r} (no time zone is stated in the trace)",
            f"read {_plural(len(out), 'request')}; no energy column (a request mix, not a "
            "measurement)",
        ],
    }
    return out
