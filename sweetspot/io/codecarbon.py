"""Read CodeCarbon's ``emissions.csv``: one row per tracked run (or task).

CodeCarbon only knows the names you gave the runs: ``task_name`` or ``project_name`` is
parsed for ``n_in=<int>``, ``n_out=<int>`` and optionally ``n_requests=<int>`` (or your own
regular expression), or the lengths are passed as constants.
``read_measurements(path, format="codecarbon")`` reads a file with the default options.

Three facts of the real file (mlco2/codecarbon at commit
b05965e43b690cdc53787c7577adbe6e2caf4ed9) shape the reading:

- ``gpu_energy`` includes the PUE: every energy step is multiplied by the tracker's ``pue``
  before it is added up (``emissions_tracker.py``, ``_do_measurements``: ``energy *=
  self._pue``); the GPU energy is divided by the ``pue`` column again;
- ``gpu_model`` is written ``"<count> x <name>"`` per model, concatenated without a separator
  when models differ (``core/resource_tracker.py``, ``set_GPU_tracking``); ``gpu`` is the
  name of a single model;
- ``gpu_count`` is the number of GPUs of the machine, not of those tracked (``gpu_ids``
  restricts the energy, not the count), so it is kept as ``gpu_count`` and ``n_gpus`` is set
  only when given (``n_gpus=``).

References
----------
CodeCarbon, output ``emissions.csv`` (``output_methods/emissions_data.py``, written by
``output_methods/file.py`` with ``pandas.DataFrame.to_csv``): ``duration`` [s],
``gpu_energy``, ``cpu_energy``, ``ram_energy``, ``energy_consumed`` [kWh], ``gpu_model``,
``gpu_count``, ``pue``, ``project_name``, ``task_name`` (task mode). The fixture
``tests/io/fixtures/codecarbon/emissions.csv`` is in that exact format.
"""

from __future__ import annotations

import os
import re
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
    n_gpus: int | None = None,
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
        ``gpu_energy`` divided by the ``pue`` CodeCarbon multiplied it with (the GPU only,
        comparable with NVML-based tools) or ``energy_consumed`` (CPU + GPU + RAM, times
        the PUE, as written).
    n_gpus : int, optional
        Number of GPUs the tracker measured (the length of its ``gpu_ids``, or all GPUs of
        the machine when it had none); ``gpu_count`` cannot tell.

    Returns
    -------
    pandas.DataFrame
        Validated rows: ``n_in``, ``n_out``, ``energy_j`` (kWh x 3.6e6, the GPU energy
        divided by ``pue``), ``n_requests``, ``time_s`` (``duration``), ``gpu`` (the name in
        ``gpu_model`` when the machine has one GPU model) and ``n_gpus`` when given; the
        other CodeCarbon columns (emissions, power, CPU and RAM energy, ``gpu_count``,
        ``gpu_model``, ``pue``, ...) follow unchanged, ``timestamp`` parsed.

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
    joules = kwh * _J_PER_KWH
    if energy == "gpu" and "pue" in raw.columns:
        pue = _numbers(raw["pue"], "pue", "a power usage effectiveness (a number >= 1)", ctx)
        bad_pue = ~np.isfinite(pue) | (pue < 1)
        if bad_pue.any():
            row = int(np.flatnonzero(bad_pue)[0])
            raise MeasurementError(
                f"pue must be a number >= 1 (CodeCarbon multiplies every energy by it); got "
                f"{raw['pue'].iloc[row]!r} in row {row} of {label}."
            )
        joules = joules / pue
        notes.append("gpu_energy divided by pue (CodeCarbon multiplies its energies by the PUE)")
    frame = pd.DataFrame(
        {
            "n_in": lengths["n_in"],
            "n_out": lengths["n_out"],
            "energy_j": joules,
            "n_requests": lengths["n_requests"],
            "time_s": raw["duration"].array,
        }
    )
    used = {"duration", column}
    if "gpu_model" in raw.columns and raw["gpu_model"].notna().all():
        names = [_gpu_name(str(v)) for v in raw["gpu_model"]]
        if all(n is not None for n in names):
            frame["gpu"] = names
        else:
            notes.append(
                "gpu_model names several GPU models (or is not '<count> x <name>'): no gpu "
                "column; gpu_model is kept as written"
            )
    if n_gpus is not None:
        if isinstance(n_gpus, bool) or not isinstance(n_gpus, (int, np.integer)) or n_gpus < 1:
            raise MeasurementError(f"n_gpus must be a positive whole number; got {n_gpus!r}.")
        frame["n_gpus"] = int(n_gpus)
    if "gpu_count" in raw.columns:
        try:
            count = _numbers(raw["gpu_count"], "gpu_count", "a number of GPUs", ctx)
        except MeasurementError:  # not numbers: kept unchanged as an extra column
            count = np.full(len(raw), np.nan)
        fractional = np.isfinite(count) & (count != np.floor(count))
        if fractional.any():
            row = int(np.flatnonzero(fractional)[0])
            raise MeasurementError(
                f"n_gpus must be a positive whole number; gpu_count (the machine's GPUs) is "
                f"{raw['gpu_count'].iloc[row]!r} in row {row} of {label}, not a whole number."
            )
    if n_gpus is None and "gpu_count" in raw.columns:
        notes.append(
            "gpu_count is the number of GPUs of the machine, not of those tracked: kept as "
            "gpu_count, no n_gpus (pass n_gpus= to set it)"
        )
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
    if n_gpus is not None and "gpu_count" in raw.columns:
        notes.append(f"n_gpus = {n_gpus} as given; gpu_count (the machine's GPUs) kept beside it")
    return _validate(frame, source=label, notes=notes)


_GPU_MODEL = re.compile(r"(\d+) x (.+)")


def _gpu_name(text: str) -> str | None:
    """The GPU name in CodeCarbon's ``"<count> x <name>"``, or None (several models)."""
    match = _GPU_MODEL.fullmatch(text.strip())
    if match is None or re.search(r"\d+ x ", match.group(2)):
        return None
    return match.group(2)
