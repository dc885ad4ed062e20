"""Read a request mix: the (n_in, n_out) of each request of a workload, without energy.

A request mix is what :func:`sweetspot.plan.policy_savings` and ``sweetspot workload`` weight
a fitted model over. :func:`read_request_mix` reads it from an Azure LLM inference trace
(:func:`~sweetspot.io.read_azure_trace`, recognised by its ``ContextTokens`` column) or from
any CSV with the columns ``n_in`` and ``n_out``.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from .._validation import as_lengths
from ..exceptions import MeasurementError
from ._files import _delimiter, _exists, _read_csv
from ._schema import MAX_TOKENS, _plural
from .azure import _azure_frame

__all__ = ["read_request_mix"]


def read_request_mix(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Read the requests of a workload: an Azure LLM trace, or a CSV with ``n_in``, ``n_out``.

    Parameters
    ----------
    path : str or os.PathLike
        An Azure LLM inference trace (a CSV whose header has ``ContextTokens``, read by
        :func:`~sweetspot.io.read_azure_trace`), or a CSV with the columns ``n_in`` and
        ``n_out`` [tokens per request], one row per request.

    Returns
    -------
    pandas.DataFrame
        One row per request, in file order: ``n_in`` and ``n_out`` (int64, >= 1) first, then
        the other columns of the file unchanged (``timestamp`` for an Azure trace).
        ``attrs["source"]`` is the path and ``attrs["notes"]`` says what was read.

    Raises
    ------
    MeasurementError
        The file does not exist; it cannot be parsed; it has neither the Azure columns nor
        ``n_in`` and ``n_out``; it has no rows; or a length is not a whole number >= 1 (the
        message names the column, the first bad row and the count of bad rows).

    Examples
    --------
    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "mix.csv")
    >>> _ = open(path, "w").write("n_in,n_out\\n512,128\\n2048,64\\n")
    >>> mix = read_request_mix(path)
    >>> mix[["n_in", "n_out"]].to_dict("list")
    {'n_in': [512, 2048], 'n_out': [128, 64]}
    """
    if not isinstance(path, (str, os.PathLike)):
        raise MeasurementError(
            f"read_request_mix expects a path (str or os.PathLike); got {type(path).__name__}."
        )
    file = Path(path)
    if not _exists(file, str(path)) or file.is_dir():
        raise MeasurementError(
            f"trace file {str(path)!r} not found; pass an Azure LLM inference trace CSV or a "
            "CSV with columns n_in, n_out."
        )
    raw = _read_csv(file, _delimiter(file), str(path))
    if any(str(c).strip().casefold() == "contexttokens" for c in raw.columns):
        df = _azure_frame(raw, str(file))
        notes = list(df.attrs.get("notes", []))
    else:
        df = raw
        missing = [c for c in ("n_in", "n_out") if c not in df.columns]
        if missing:
            raise MeasurementError(
                f"{path} has no column(s) {', '.join(missing)} (found "
                f"{', '.join(map(str, df.columns[:10]))}). Expected an Azure trace "
                "(ContextTokens, GeneratedTokens) or a CSV with n_in and n_out."
            )
        if len(df) == 0:
            raise MeasurementError(f"{path} has no requests (0 data rows).")
        for col in ("n_in", "n_out"):
            column = df[col]
            numeric = column.dtype.kind in "iuf" and column.dtype != bool
            if not (numeric or pd.api.types.is_string_dtype(column.dtype)):
                continue  # booleans and other kinds: as_lengths below says what is wrong
            values = pd.to_numeric(column, errors="coerce").to_numpy(dtype=float)
            bad = ~np.isfinite(values) | (values < 1) | (values != np.round(values))
            if bad.any():
                row = int(np.argmax(bad))
                raise MeasurementError(
                    f"{col} must be a whole number >= 1 in every row of {path}; got "
                    f"{df[col].iloc[row]!r} in row {row} ({int(bad.sum())} bad rows). Correct "
                    "or remove those rows."
                )
            big = values > MAX_TOKENS
            if big.any():
                row = int(np.argmax(big))
                raise MeasurementError(
                    f"{col} must be at most {MAX_TOKENS:,} tokens (sweetspot.io.MAX_TOKENS) in "
                    f"every row of {path}; got {df[col].iloc[row]!r} in row {row} "
                    f"({int(big.sum())} bad rows). Check the column and its unit."
                )
        notes = [f"read {_plural(len(df), 'request')} (n_in, n_out) from a CSV"]
    # booleans pass the checks above (True == 1) but are not token counts: as_lengths refuses
    lengths = {c: as_lengths(df[c].to_numpy(), c).astype(np.int64) for c in ("n_in", "n_out")}
    others = [c for c in df.columns if c not in lengths]
    out = pd.DataFrame({**lengths, **{c: df[c].array for c in others}})
    out.attrs = {"source": str(file), "notes": notes}
    return out
