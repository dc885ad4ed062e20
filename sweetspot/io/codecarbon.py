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
from ._schema import _list_columns, _validate

__all__ = ["read_codecarbon"]

_J_PER_KWH = 3_600_000.0


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
    file = _as_path(path, "read_codecarbon")
    raw = _csv_frame(file)
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
    kwh = pd.to_numeric(raw[column], errors="coerce")
    bad = (kwh.isna() | (kwh <= 0)).to_numpy()
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
            "energy_j": kwh.to_numpy() * _J_PER_KWH,
            "n_requests": lengths["n_requests"],
            "time_s": raw["duration"].to_numpy(),
        }
    )
    if "gpu_model" in raw.columns and raw["gpu_model"].notna().all():
        frame["gpu"] = raw["gpu_model"].astype(str).to_numpy()
    if "gpu_count" in raw.columns and pd.to_numeric(raw["gpu_count"], errors="coerce").ge(1).all():
        frame["n_gpus"] = pd.to_numeric(raw["gpu_count"]).astype(np.int64).to_numpy()
    used = {"duration", column, "gpu_model", "gpu_count"}
    for name in raw.columns:
        if name not in used and name not in frame.columns:
            frame[name] = raw[name].to_numpy()
    if "timestamp" in frame.columns:
        frame["timestamp"] = pd.to_datetime(frame["timestamp"], errors="coerce", format="ISO8601")
    notes.append(f"energy_j = {column} [kWh] * 3.6e6; time_s <- duration [s]")
    return _validate(frame, source=label, notes=notes)
