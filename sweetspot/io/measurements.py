"""Read measurements from a CSV, TSV or Parquet file, a store directory or a frame.

:func:`read_measurements` is the one entry point: it picks the format (:data:`FORMATS`) by
type, suffix and header, hands foreign formats to their readers (:mod:`sweetspot.io.wilkins`,
:mod:`~sweetspot.io.trtllm_bench`, :mod:`~sweetspot.io.zeus`, :mod:`~sweetspot.io.codecarbon`),
reads a directory as a measurement store (:mod:`sweetspot.io.store`), and validates the
result against the schema.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from ..exceptions import MeasurementError, SimulatedDataWarning, StoreError
from ._files import _delimiter, _read_csv, _read_parquet, _source_path, _suffix
from ._limits import FORMATS, Format
from ._schema import _apply_column_map, _plural, _previous_notes, _validate
from .codecarbon import read_codecarbon
from .store import MANIFEST, read_manifest, read_points
from .trtllm_bench import read_trtllm_bench
from .wilkins import _WILKINS_TEXT, _looks_like_wilkins, _wilkins_frame
from .zeus import read_zeus

__all__ = ["FORMATS", "read_measurements"]


_IMPORTER_FORMATS: tuple[str, ...] = ("trtllm-bench", "zeus", "codecarbon")


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
        without a byte-order mark, optionally compressed (``.gz``, ``.bz2``, ``.xz``, ``.zip``
        or ``.tar`` holding one file, ``.zst``); a pipe or device with ``format="csv"``
        (``"/dev/stdin"``); a ``.parquet`` / ``.pq`` file; a measurement-store directory; or
        a DataFrame (not modified). Labels (``model``, ``gpu``, ``engine``, ``dtype``,
        ``prompt``, identifier-like columns) are read from text as written; the bounds on
        sizes are listed in ``docs/inputs.md``.
    format : {"auto", "csv", "parquet", "wilkins", "frame", "trtllm-bench", "zeus", "codecarbon"}
        ``"auto"`` picks by type and suffix: a DataFrame is read as ``"frame"``, a directory as
        a measurement store, and a CSV whose header has ``Phase`` and ``GPU Energy (mJ)`` as
        ``"wilkins"`` (see :func:`read_wilkins`). The formats of other tools are read only
        when named: ``"trtllm-bench"`` (a ``--report_json`` file, see
        :func:`~sweetspot.io.read_trtllm_bench`), ``"zeus"`` (a ``ZeusMonitor`` log CSV,
        :func:`~sweetspot.io.read_zeus`) and ``"codecarbon"`` (an ``emissions.csv``,
        :func:`~sweetspot.io.read_codecarbon`); use those functions directly for their
        options. :data:`FORMATS` lists the choices.
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
        (``pip install "sweetspot[parquet]"``), or a ``.zst`` file but zstandard is not.

    Notes
    -----
    A measurement store is a directory holding ``points.jsonl``, one JSON object (one measured
    window) per line, and the ``manifest.json`` of the sweep that wrote it (``sweetspot
    measure``). It is read under the rules of :mod:`sweetspot.io.store`: blank lines are
    ignored; an incomplete last line (the point in flight when a sweep was killed) is skipped
    with a note; a point stored twice is an error. The manifest is returned in
    ``attrs["manifest"]``. Rows of the fake engine (``simulated = True``) raise a
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
    if format not in FORMATS:
        raise MeasurementError(
            f"format must be one of {', '.join(repr(f) for f in FORMATS)}; got {format!r}."
        )
    if column_map is not None and format in _IMPORTER_FORMATS:
        raise MeasurementError(
            f"column_map is not used with format={format!r}: that reader maps its own columns; "
            "see its options in sweetspot.io."
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
    path = _source_path(source, format)
    label = str(path)
    frame = _read_path(path, label, format, column_map)
    if "simulated" in frame.columns and bool(frame["simulated"].any()):
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
    if format == "trtllm-bench":
        return read_trtllm_bench(path)
    if format == "zeus":
        return read_zeus(path)
    if format == "codecarbon":
        return read_codecarbon(path)
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
    raw = _read_csv(
        path,
        _delimiter(path),
        label,
        labels=_WILKINS_TEXT if fmt == "wilkins" else ("Phase",),
        column_map=column_map,
    )
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


def _read_store(path: Path, label: str) -> tuple[pd.DataFrame, list[str]]:
    """A measurement-store directory as a raw frame, with notes (rules: :mod:`.store`)."""
    try:
        manifest = read_manifest(path) if (path / MANIFEST).exists() else None
        log = read_points(path)
    except StoreError as exc:
        raise MeasurementError(str(exc)) from exc
    if not log.points:
        raise MeasurementError(
            f"the measurement store {label} has no points yet ({log.path.name} is empty)."
        )
    notes = [f"read {_plural(len(log.points), 'point')} from {log.path.name} (measurement store)"]
    if log.torn_line is not None:
        notes.append(
            f"ignored the incomplete last line {log.torn_line} of {log.path.name} (a point in "
            "flight when the sweep stopped; `sweetspot measure --resume` measures it again)"
        )
    frame = pd.DataFrame.from_records(list(log.points))
    if manifest is not None:
        frame.attrs["manifest"] = manifest
        if manifest.get("simulated"):
            notes.append("the store manifest says the sweep was simulated by the fake engine")
    return frame, notes
