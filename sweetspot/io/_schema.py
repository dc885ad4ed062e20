"""The measurement schema: its columns, the rule of each column, and the one validation.

Every reader of :mod:`sweetspot.io` ends in :func:`_validate`, so a frame is checked in one
way whatever file it came from. What lives here:

- :data:`SCHEMA_REQUIRED`, :data:`SCHEMA_OPTIONAL`: the columns and their Python types;
- ``_RULES``: kind, unit and lower bound of each column (``_Rule``), with the fix a message
  suggests (``_FIXES``);
- ``_UNIT_ALIASES``: unit-suffixed spellings (``energy_mj``, ``time_ms``, ...) converted to
  the schema unit, explicitly and with a note;
- the column map (``column_map={"prompt_tokens": "n_in"}``) and the case-insensitive
  matching of schema names;
- the error helpers that name the column, the first offending row, the count of bad rows
  and the fix (``_Ctx``, ``_fail``).

:func:`validate_measurements` is the public entry point (re-exported by :mod:`sweetspot.io`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal, NoReturn

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from ..exceptions import MeasurementError
from ._limits import MAX_TOKENS

__all__ = ["SCHEMA_OPTIONAL", "SCHEMA_REQUIRED", "validate_measurements"]


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

_NEVER_DROPPED = "sweetspot never drops rows silently"

# Columns read as text exactly as written (never type-inferred): the schema's labels, and
# extra columns named like identifiers (``point_key``, ``run_id``, ``python_version``, ...).
_LABEL_SCHEMA = frozenset(name for name, kind in SCHEMA_OPTIONAL.items() if kind is str)
_LABEL_NAMES = frozenset({"point_key", "name", "id", "label", "tag", "version"})
_LABEL_SUFFIXES = ("_id", "_key", "_name", "_version", "_label", "_tag")


def _is_label_column(name: Any) -> bool:
    """Whether a column of a text file is a label, read as text (see ``_LABEL_SCHEMA``)."""
    if not isinstance(name, str):
        return False
    key = name.strip().casefold()
    return key in _LABEL_SCHEMA or key in _LABEL_NAMES or key.endswith(_LABEL_SUFFIXES)


def _is_numeric_schema_column(name: Any) -> bool:
    """Whether a column is a numeric schema column (or a unit-suffixed alias of one)."""
    if not isinstance(name, str):
        return False
    rule = _RULES.get(name.strip().casefold())
    return rule is not None and rule.kind in ("int", "float")


_MAX_EXACT_INT = 2.0**53  # from here float64 cannot hold every integer (2**53 + 1 reads as 2**53)


@dataclass(frozen=True, slots=True)
class _Rule:
    """How one schema column is checked: kind, unit and lower bound."""

    kind: Literal["int", "float", "str", "bool"]
    unit: str = ""
    low: float | None = None
    strict: bool = False  # True: value > low; False: value >= low
    high: float | None = None  # documented upper bound (inclusive), see docs/inputs.md

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
        "n_in": _Rule("int", "tokens", 1, high=MAX_TOKENS),
        "n_out": _Rule("int", "tokens", 1, high=MAX_TOKENS),
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


def _numbers(series: pd.Series, name: str, expected: str, ctx: _Ctx) -> NDArray[np.float64]:
    """The column as float64 values, NaN where a cell is missing; text, booleans, dates,
    durations, complex numbers and other non-numbers raise (naming the first bad row)."""
    n = len(series)
    if pd.api.types.is_bool_dtype(series.dtype):
        _fail(ctx, name, np.ones(n, dtype=bool), series, expected, "Booleans are not numbers.")
    _check_numeric_dtype(series, name, expected, ctx)
    if series.dtype.kind in "iuf":
        return series.to_numpy(dtype=np.float64, na_value=np.nan)
    if series.dtype == object:
        kinds = np.fromiter((not _is_number_cell(v) for v in series), dtype=bool, count=n)
        if kinds.any():
            _fail(
                ctx,
                name,
                kinds,
                series,
                expected,
                "Cells must hold plain real numbers (not booleans, dates, durations, "
                "complex numbers, bytes or containers); convert or remove those rows "
                f"({_NEVER_DROPPED}).",
            )
    try:
        coerced = pd.to_numeric(series, errors="coerce")
        values = coerced.to_numpy(dtype=np.float64, na_value=np.nan)
    except (TypeError, ValueError, ArithmeticError):
        values = np.array([_cell_float(v) for v in series], dtype=np.float64)
    present = series.notna().to_numpy(dtype=bool)
    text = present & np.isnan(values)
    if series.dtype == object and text.any():  # Fraction, Decimal, ... that pandas passes over
        values = values.copy()
        for pos in np.flatnonzero(text):
            cell = series.iloc[pos]
            values[pos] = np.nan if isinstance(cell, str) else _cell_float(cell)
        text = present & np.isnan(values)
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
    return values


def _cell_float(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError, ArithmeticError):
        return np.nan


def _as_float(series: pd.Series, name: str, rule: _Rule, ctx: _Ctx) -> NDArray[np.float64]:
    """Return the column as finite float64 values, rejecting text, booleans, NaN and inf."""
    expected = rule.expected()
    values = _numbers(series, name, expected, ctx)
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
        fractional = values != np.trunc(values)
        if fractional.any():
            _fail(ctx, name, fractional, series, expected, fix)
        inexact = np.abs(values) >= _MAX_EXACT_INT
        if inexact.any():
            _fail(
                ctx,
                name,
                inexact,
                series,
                f"{expected} below 2**53",
                "From 2**53 = 9,007,199,254,740,992 on, float64 cannot hold every whole number "
                "(2**53 + 1 reads as 2**53), so sweetspot refuses such counts rather than "
                f"round them. {fix}",
            )
    if rule.low is not None:
        out_of_range = values <= rule.low if rule.strict else values < rule.low
        if out_of_range.any():
            _fail(ctx, name, out_of_range, series, expected, fix)
    if rule.high is not None:
        too_large = values > rule.high
        if too_large.any():
            _fail(
                ctx,
                name,
                too_large,
                series,
                f"{expected} no larger than {rule.high:,.0f}",
                f"sweetspot refuses {name} above {rule.high:,.0f} {rule.unit} (beyond the "
                "context of any model; see docs/inputs.md): check the column and its unit.",
            )
    return values


_KIND_WORDS = {"M": "dates and times", "m": "durations", "c": "complex numbers", "S": "bytes"}


def _check_numeric_dtype(series: pd.Series, name: str, expected: str, ctx: _Ctx) -> None:
    """Refuse columns whose dtype holds no real numbers (dates, durations, periods, ...)."""
    dtype = series.dtype
    what: str | None = None
    if isinstance(dtype, pd.PeriodDtype):
        what = "periods"
    elif isinstance(dtype, pd.IntervalDtype):
        what = "intervals"
    elif isinstance(dtype, pd.CategoricalDtype):
        what = "categories"
    elif dtype.kind in _KIND_WORDS or dtype.kind == "V":
        what = _KIND_WORDS.get(dtype.kind, "raw records")
    if what is None:
        return
    first = _describe_value(series.iloc[0]) if len(series) else "nothing"
    raise MeasurementError(
        f"{ctx.describe(name)} must be {expected}; got a column of dtype {dtype} holding "
        f"{what} (first value {first}) in {ctx.source}. Token counts are whole numbers and "
        "energies and times real numbers: convert the column (e.g. "
        f"frame[{name!r}].astype('int64') or .astype('float64')) if it holds numbers."
    )


def _is_number_cell(value: Any) -> bool:
    """A cell of an object column that may hold a number: text, a real number, or missing."""
    if isinstance(value, (bool, np.bool_)):
        return False
    if value is None or value is pd.NA:
        return True
    if isinstance(value, (str, int, float, np.integer, np.floating)):
        return True
    from decimal import Decimal
    from fractions import Fraction

    return isinstance(value, (Decimal, Fraction))


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
        if series.dtype == object:
            odd = np.fromiter(
                (
                    isinstance(v, (bytes, bytearray, list, tuple, dict, set, np.ndarray))
                    for v in series
                ),
                dtype=bool,
                count=len(series),
            )
            if odd.any():
                _fail(
                    ctx,
                    name,
                    odd,
                    series,
                    rule.expected(),
                    "Labels are text (or numbers); decode bytes and flatten containers first.",
                )
        return series.astype(str).array
    if pd.api.types.is_bool_dtype(series.dtype):
        return series.to_numpy(dtype=bool)
    cells = [_as_bool_cell(v) for v in series]
    bad = np.fromiter((c is None for c in cells), dtype=bool, count=len(cells))
    if bad.any():
        _fail(ctx, name, bad, series, rule.expected(), "Use True/False.")
    return np.array(cells, dtype=bool)


def _unix_seconds(series: pd.Series, name: str, ctx: _Ctx) -> pd.Series:
    """Unix seconds as UTC datetimes; a missing cell stays missing (NaT), text or a time
    outside the years 1677-2262 (what pandas can hold) is an error."""
    values = _numbers(series, name, "unix seconds (a number)", ctx)
    bad = np.abs(np.nan_to_num(values, nan=0.0)) > 9.2e9
    if bad.any():
        _fail(
            ctx,
            name,
            bad,
            series,
            "unix seconds between the years 1677 and 2262",
            "Check the column and its unit (seconds since 1970-01-01 UTC).",
        )
    return pd.Series(pd.to_datetime(values, unit="s", utc=True), index=series.index)


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
    if isinstance(df.columns, pd.MultiIndex):
        raise MeasurementError(
            f"{source} has hierarchical columns ({df.columns.nlevels} levels, e.g. "
            f"{_short(repr(df.columns[0]))}); the schema needs one name per column. Flatten "
            "them first, e.g. frame.columns = ['_'.join(map(str, c)) for c in frame.columns], "
            "or select one level."
        )
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


def validate_measurements(
    df: pd.DataFrame,
    *,
    source: str | None = None,
    column_map: Mapping[str, str] | None = None,
    first_row: int | None = None,
) -> pd.DataFrame:
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
    column_map : mapping of str to str, optional
        Source column name -> schema name, e.g. ``{"prompt_tokens": "n_in"}``, applied before
        the checks as in :func:`sweetspot.io.read_measurements` (targets must be schema
        columns or unit-suffixed aliases; sources must exist).
    first_row : int, optional
        Number messages give the first row of ``df``: row ``i`` of ``df`` is reported as row
        ``first_row + i``, for a frame that is one batch of a larger file (0-based, header
        excluded). By default rows are reported by position, with the index label when the
        index is not ``0..n-1``.

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
        Missing required columns, duplicated or hierarchical column names, zero rows, a bad
        ``column_map`` or ``first_row``, a numeric column of the wrong kind (dates,
        durations, periods, intervals, categories, complex numbers), or a cell that is
        missing, infinite, text, a boolean or another non-number, fractional (counts),
        from 2**53 on (counts), out of range (token counts above :data:`MAX_TOKENS`), or a
        label that is bytes or a container. The message names the column, the first
        offending row (0-based), the count of bad rows and the fix.

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
    label = str(source) if source is not None else str(df.attrs.get("source", "data"))
    rows = None
    if first_row is not None:
        if not isinstance(first_row, (int, np.integer)) or isinstance(first_row, bool):
            raise MeasurementError(
                f"first_row must be a non-negative integer; got {type(first_row).__name__}."
            )
        if first_row < 0:
            raise MeasurementError(f"first_row must be a non-negative integer; got {first_row}.")
        rows = np.arange(first_row, first_row + len(df), dtype=np.intp)
    notes = _previous_notes(df)
    mapped, origins = _apply_column_map(df, column_map, label, notes)
    return _validate(mapped, source=label, notes=notes, rows=rows, origins=origins)


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
