"""Read CodeCarbon's ``emissions.csv``: one row per tracked run (or task).

CodeCarbon only knows the names you gave the runs: ``task_name`` or ``project_name`` is
parsed for ``n_in=<int>``, ``n_out=<int>`` and optionally ``n_requests=<int>`` (or your own
regular expression), or the lengths are passed as constants.
``read_measurements(path, format="codecarbon")`` reads a file with the default options.

References
----------
CodeCarbon, output ``emissions.csv``: ``duration`` [s], ``gpu_energy``, ``cpu_energy``,
``ram_energy``, ``energy_consumed`` [kWh], ``gpu_model``, ``gpu_count``, ``project_name``,
``task_name`` (task mode).
"""

from __future__ import annotations

import os
from typing import Literal

import numpy as np
import pandas as pd

from ..exceptions import MeasurementError
from ._files import _as_path, _csv_frame
from ._labels import _lengths_from_labels
from ._schema import _Ctx, _fail, _list_columns, _numbers, _validate

__all__ = ["read_codecarbon"]

_J_PER_KWH = 3_600_000.0

# CodeCarbon's text columns, read as written ("3.10" stays "3.10", not 3.1)
_TEXT_COLUMNS = (
    "timestamp",
    "project_name",
    "run_id",
    "experiment_id",
    "task_name",
    "country_name",
    "country_iso_code",
    "region",
    "cloud_provider",
    "cloud_region",
    "os",
    "python_version",
    "codecarbon_version",
    "cpu_model",
    "gpu_model",
    "tracking_mode",
    "on_cloud",
)


def read_codecarbon(
    path: str | os.PathLike[str],
    *,
    label_column: str | None = None,
    pattern: str | None = None,
    n_in: int | None = None,
    n_out: int | None = None,
    n_requests: int | None = None,
    energy: Literal["gpu", "total"] = "gpu",
) -> pd.DataFrame:
    """Read CodeCarbon's ``emissions.csv``: one row per tracked run (or task).

    Parameters
    ----------
    path : str or os.PathLike
        The ``emissions.csv`` file.
    label_column : str, optional
        Column naming each run, parsed for ``n_in=<int>``, ``n_out=<int>``,
        ``n_requests=<int>`` (default ``task_name`` when present, else ``project_name``).
    pattern : str, optional
        Regular expression with named groups ``n_in``, ``n_out`` (and ``n_requests``) to
        parse the labels instead.
    n_in, n_out, n_requests : int, optional
        Constants for every row instead of parsing them.
    energy : {"gpu", "total"}, default "gpu"
        ``gpu_energy`` (the GPU only, comparable with NVML-based tools) or
        ``energy_consumed`` (CPU + GPU + RAM, times the PUE CodeCarbon applied).

    Returns
    -------
    pandas.DataFrame
        Validated rows: ``n_in``, ``n_out``, ``energy_j`` (kWh x 3.6e6), ``n_requests``,
        ``time_s`` (``duration``), ``gpu`` (``gpu_model``) and ``n_gpus`` (``gpu_count``) when
        present; the other CodeCarbon columns (emissions, power, CPU and RAM energy, ...)
        follow unchanged, ``timestamp`` parsed.

    Raises
    ------
    MeasurementError
        Missing file or columns, unknown ``energy``, labels that give no lengths, or an energy
        that is missing or zero (``gpu_energy`` is 0 when CodeCarbon found no GPU: use
        ``energy="total"`` or a GPU meter).

    Notes
    -----
    CodeCarbon samples power at its ``measure_power_secs`` interval (15 s by default), so runs
    shorter than a few intervals are poorly resolved; prefer long runs, or ``sweetspot
    measure`` for (n_in, n_out) grids.
    """
    if energy not in ("gpu", "total"):
        raise MeasurementError(f"energy must be 'gpu' or 'total'; got {energy!r}.")
    if label_column is not None and not isinstance(label_column, str):
        raise MeasurementError(
            f"label_column must be a column name (str); got {type(label_column).__name__}."
        )
    file = _as_path(path, "read_codecarbon")
    extra = () if label_column is None else (label_column,)
    raw = _csv_frame(file, labels=(*_TEXT_COLUMNS, *extra))
    label = str(file)
    column = "gpu_energy" if energy == "gpu" else "energy_consumed"
    missing = [c for c in ("duration", column) if c not in raw.columns]
    if missing:
        raise MeasurementError(
            f"{label} is not a CodeCarbon emissions.csv with {column}: it lacks "
            f"{', '.join(repr(m) for m in missing)}; found columns {_list_columns(raw.columns)}."
        )
    if len(raw) == 0:
        raise MeasurementError(f"{label} has no runs (header only).")
    if label_column is None:
        label_column = next(
            (c for c in ("task_name", "project_name") if c in raw.columns), "project_name"
        )
    fixed = n_in is not None and n_out is not None
    if label_column not in raw.columns and not fixed:
        raise MeasurementError(
            f"{label} has no {label_column!r} column to read the lengths from; found "
            f"{_list_columns(raw.columns)}. Pass label_column=, or n_in= and n_out=."
        )
    labels = raw[label_column].tolist() if label_column in raw.columns else [""] * len(raw)
    lengths, notes = _lengths_from_labels(
        labels,
        pattern=pattern,
        constants={"n_in": n_in, "n_out": n_out, "n_requests": n_requests},
        source=label,
        column=label_column,
        example="EmissionsTracker(project_name='n_in=512,n_out=128,n_requests=10')",
    )
    ctx = _Ctx(label)
    kwh = _numbers(raw[column], column, "a positive energy [kWh]", ctx)
    bad = ~np.isfinite(kwh) | (kwh <= 0)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        hint = (
            " gpu_energy is 0 when CodeCarbon found no GPU; use energy='total' or a GPU meter."
            if energy == "gpu"
            else ""
        )
        raise MeasurementError(
            f"{column} must be a positive energy [kWh]; got {raw[column].iloc[row]!r} in row "
            f"{row} of {label} ({int(bad.sum())} bad row(s) in total).{hint}"
        )
    frame = pd.DataFrame(
        {
            "n_in": lengths["n_in"],
            "n_out": lengths["n_out"],
            "energy_j": kwh * _J_PER_KWH,
            "n_requests": lengths["n_requests"],
            "time_s": raw["duration"].array,
        }
    )
    used = {"duration", column}
    if "gpu_model" in raw.columns and raw["gpu_model"].notna().all():
        frame["gpu"] = raw["gpu_model"].astype(str).array
        used.add("gpu_model")
    if "gpu_count" in raw.columns:
        try:
            count = _numbers(raw["gpu_count"], "gpu_count", "a number of GPUs", ctx)
        except MeasurementError:  # not numbers: kept unchanged as an extra column
            count = np.zeros(len(raw))
        if np.all(count >= 1):  # NaN compares False: a missing count keeps the column as is
            frame["n_gpus"] = raw["gpu_count"].array  # validated: whole numbers only
            used.add("gpu_count")
    for name in raw.columns:
        if name not in used and name not in frame.columns:
            frame[name] = raw[name].array
    if "timestamp" in frame.columns:
        stamps = frame["timestamp"]
        try:
            parsed = pd.to_datetime(stamps, errors="coerce", format="ISO8601")
        except (ValueError, TypeError, OverflowError):
            parsed = pd.Series(pd.NaT, index=stamps.index)
        unreadable = (stamps.notna() & parsed.isna()).to_numpy(dtype=bool)
        if unreadable.any():
            _fail(
                ctx,
                "timestamp",
                unreadable,
                stamps,
                "an ISO 8601 date and time such as '2025-10-09T11:25:18'",
                "Correct or remove those rows (sweetspot never drops rows silently).",
            )
        frame["timestamp"] = parsed
    notes.append(f"energy_j = {column} [kWh] * 3.6e6; time_s <- duration [s]")
    return _validate(frame, source=label, notes=notes)
