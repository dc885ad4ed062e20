"""Read the log CSV of Zeus' ``ZeusMonitor(log_file=...)``: one row per measurement window.

Zeus writes each row as ``f"{start_time},{key},{elapsed},"`` followed by the GPU energies,
without CSV quoting: a window name with commas (``"n_in=512,n_out=128"``, the form these
docs recommend) spans several fields. The reader rebuilds such names: the first field is
the start time, the last ``k`` fields are the ``k`` energies of the header's GPU columns,
the one before them the elapsed time, and everything between is the name, commas included.
A row written by a CSV tool (the name quoted) is read as CSV.

Zeus only knows the names you gave the windows: they are parsed for ``n_in=<int>``,
``n_out=<int>`` and optionally ``n_requests=<int>`` (or your own regular expression), or the
lengths are passed as constants. ``read_measurements(path, format="zeus")`` reads a log with
the default options.

References
----------
Zeus, ``zeus/monitor/energy.py`` (ml-energy/zeus at commit
75a8b9398034eb9baf74ca0a830c2c31bcce52cd, ``ZeusMonitor.__init__`` and ``end_window``): log
header ``start_time,window_name,elapsed_time,gpu<i>_energy`` (seconds, joules), rows written
unquoted; the fixture ``tests/io/fixtures/zeus/zeus_log.csv`` is in that exact format.
"""

from __future__ import annotations

import contextlib
import csv
import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd

from ..exceptions import MeasurementError
from ._files import _as_path, _plain_file, _read_csv
from ._labels import _lengths_from_labels
from ._schema import (
    _check_unique_columns,
    _Ctx,
    _list_columns,
    _numbers,
    _unix_seconds,
    _validate,
)

__all__ = ["read_zeus"]


def read_zeus(
    path: str | os.PathLike[str],
    *,
    window_pattern: str | None = None,
    n_in: int | None = None,
    n_out: int | None = None,
    n_requests: int | None = None,
) -> pd.DataFrame:
    """Read the log CSV of Zeus' ``ZeusMonitor(log_file=...)``: one row per window.

    Parameters
    ----------
    path : str or os.PathLike
        The log file (header ``start_time,window_name,elapsed_time,gpu<i>_energy,...``).
    window_pattern : str, optional
        Regular expression with named groups ``n_in``, ``n_out`` (and optionally
        ``n_requests``) searched in each ``window_name``. By default the names are searched
        for ``n_in=<int>``, ``n_out=<int>`` and ``n_requests=<int>`` (``:`` also accepted),
        as written by ``monitor.begin_window("n_in=512,n_out=128,n_requests=10")``.
    n_in, n_out, n_requests : int, optional
        Constants for every row instead of parsing them (``n_requests`` defaults to 1).

    Returns
    -------
    pandas.DataFrame
        Validated rows: ``n_in``, ``n_out``, ``energy_j`` (sum of the ``gpu<i>_energy``
        columns [J]), ``n_requests``, ``time_s`` (``elapsed_time``), ``n_gpus`` (number of
        GPU columns); extra columns ``window_name``, ``timestamp`` (``start_time`` as UTC),
        ``energy_per_gpu_j`` and any other column of the log (e.g. CPU energy), unchanged.

    Raises
    ------
    MeasurementError
        Missing file or Zeus columns, a window whose name gives no lengths, or an energy
        that is missing, infinite or not positive (Zeus logs 0 for GPUs it could not measure).
    """
    file = _as_path(path, "read_zeus")
    label = str(file)
    with _zeus_csv(file, label) as (plain, rebuilt):
        raw = _read_csv(plain, ",", label, labels=("window_name",))
    _check_unique_columns(raw.columns, label)
    raw.columns = [str(c).strip() for c in raw.columns]
    _check_unique_columns(raw.columns, label)
    required = ("start_time", "window_name", "elapsed_time")
    missing = [c for c in required if c not in raw.columns]
    gpu_cols = [c for c in raw.columns if re.fullmatch(r"gpu\d+_energy", c)]
    if missing or not gpu_cols:
        raise MeasurementError(
            f"{label} is not a Zeus log: it lacks "
            f"{', '.join(repr(m) for m in missing) or 'any gpu<i>_energy column'}; found "
            f"columns {_list_columns(raw.columns)}. Expected the header written by "
            "ZeusMonitor(log_file=...): start_time,window_name,elapsed_time,gpu0_energy,..."
        )
    if len(raw) == 0:
        raise MeasurementError(f"{label} has no windows (header only).")
    lengths, notes = _lengths_from_labels(
        raw["window_name"].tolist(),
        pattern=window_pattern,
        constants={"n_in": n_in, "n_out": n_out, "n_requests": n_requests},
        source=label,
        column="window_name",
        example="monitor.begin_window('n_in=512,n_out=128,n_requests=10')",
    )
    ctx = _Ctx(label)
    # text, booleans or dates in an energy column are an error, not a missing energy
    per_gpu = pd.DataFrame(
        {c: _numbers(raw[c], c, "an energy [J] (a number)", ctx) for c in gpu_cols},
        index=raw.index,
    )
    values = per_gpu.to_numpy()
    bad = (~np.isfinite(values) | (values <= 0)).any(axis=1)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise MeasurementError(
            f"the GPU energy of window {raw['window_name'].iloc[row]!r} (row {row} of {label}) "
            f"is missing, infinite or not positive ({per_gpu.iloc[row].to_dict()}); Zeus logs "
            "0 J for a GPU it could not measure. Remove that window or measure it again "
            "(sweetspot never drops rows silently)."
        )
    frame = pd.DataFrame(
        {
            "n_in": lengths["n_in"],
            "n_out": lengths["n_out"],
            "energy_j": per_gpu.sum(axis=1).to_numpy(),
            "n_requests": lengths["n_requests"],
            "time_s": raw["elapsed_time"].to_numpy(),
            "n_gpus": len(gpu_cols),
            "window_name": raw["window_name"].array,
            "timestamp": _unix_seconds(raw["start_time"], "start_time", ctx).array,
            "energy_per_gpu_j": per_gpu.to_numpy().tolist(),
        }
    )
    used = {*required, *gpu_cols}
    for column in raw.columns:
        if column not in used and column not in frame.columns:
            frame[column] = raw[column].array
    notes.append(
        f"energy_j = {' + '.join(gpu_cols)} [J, Zeus]; time_s <- elapsed_time; timestamp <- "
        "start_time (unix seconds, UTC)"
    )
    if rebuilt:
        notes.append(
            f"{rebuilt} window name(s) written unquoted with commas (as Zeus writes them) "
            "were rebuilt from the fields between start_time and elapsed_time"
        )
    return _validate(frame, source=label, notes=notes)


def _rebuilt_line(raw: bytes, width: int) -> bytes | None:
    """The row as proper CSV when Zeus wrote a name with commas unquoted, else None."""
    body = raw.rstrip(b"\r\n")
    fields = body.split(b",")
    if len(fields) <= width or width < 4:
        return None
    with contextlib.suppress(csv.Error, UnicodeDecodeError):
        parsed = next(csv.reader([body.decode("utf-8")]))
        if len(parsed) == width:
            return None  # a row quoted by a CSV tool: read as CSV
    k = width - 3  # the energy columns after start_time, window_name, elapsed_time
    name = b",".join(fields[1 : len(fields) - k - 1])
    quoted = b'"' + name.replace(b'"', b'""') + b'"'
    ending = raw[len(body) :]
    return b",".join([fields[0], quoted, *fields[len(fields) - k - 1 :]]) + ending


@contextlib.contextmanager
def _zeus_csv(file: Path, label: str) -> Iterator[tuple[Path, int]]:
    """The log as a CSV file pandas can read, and how many names had to be rebuilt."""
    with _plain_file(file, label) as plain:
        with open(plain, "rb") as fh:
            header = fh.readline()
            width = len(header.rstrip(b"\r\n").split(b","))
            needs = any(_rebuilt_line(line, width) is not None for line in fh)
        if not needs:
            yield plain, 0
            return
        count = 0
        with tempfile.TemporaryDirectory(prefix="sweetspot-zeus-") as folder:
            target = Path(folder) / "zeus.csv"
            with open(plain, "rb") as src, open(target, "wb") as out:
                out.write(src.readline())
                for line in src:
                    fixed = _rebuilt_line(line, width)
                    count += fixed is not None
                    out.write(line if fixed is None else fixed)
            yield target, count
