"""Read the Azure LLM inference traces (2023): request mixes of (n_in, n_out), no energy."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pandas as pd

from ..exceptions import MeasurementError
from ._files import _delimiter, _exists, _missing_file, _read_csv
from ._schema import (
    _RULES,
    _check_column,
    _check_unique_columns,
    _Ctx,
    _fail,
    _list_columns,
    _plural,
)

__all__ = ["read_azure_trace"]


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
    if not _exists(file, label):
        raise _missing_file(label)
    if file.is_dir():
        found = sorted(p.name for p in file.glob("*.csv"))
        raise MeasurementError(
            f"{label} is a directory; read_azure_trace reads one trace file (CSV files found: "
            f"{_list_columns(found) if found else 'none'}). Pass one of them."
        )
    return _azure_frame(_read_csv(file, _delimiter(file), label), label)


def _azure_frame(raw: pd.DataFrame, label: str) -> pd.DataFrame:
    """The request mix of an Azure trace already read as a raw frame."""
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
    try:
        parsed = pd.to_datetime(stamps, format="ISO8601", errors="coerce")
    except (ValueError, TypeError, OverflowError):  # e.g. time zones mixed within the column
        parsed = pd.Series(pd.NaT, index=stamps.index)
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
