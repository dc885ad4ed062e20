"""The measurement-store format: a directory with a manifest and a log of points.

``sweetspot measure`` writes a store (:class:`sweetspot.harness.store.MeasurementStore`, the
crash-safe writer); this module is its one reader, used by the writer to resume and by
:func:`sweetspot.io.read_measurements` to read a directory. Layout::

    manifest.json     what was swept and with what: {"format": STORE_FORMAT,
                      "version": STORE_VERSION, ...} (sweep spec, provenance)
    points.jsonl      one JSON object per completed point, one point per line

Rules of the log
----------------
Every reader applies the same rules, in file order (line numbers count from 1):

- **Blank lines** (whitespace only) are skipped.
- **The last line without a newline** is the point in flight when a writer stopped if it is
  not valid JSON: it is a *torn* line, skipped, and its number is returned
  (:attr:`StoreLog.torn_line`; ``read_measurements`` says so in ``attrs["notes"]``, the
  writer moves it aside before appending). If it is valid JSON it is complete (only its
  newline is missing, as in a file written by hand) and read like any other line.
- **Any other line that is not valid JSON** (or not UTF-8) is corrupted: an error.
- **A line that is valid JSON but not an object** (a list, a number, ...) is an error.
- **point_key**: in a store with a ``manifest.json`` (written by the harness, which resumes
  by key) every point must carry a string ``point_key``; a point without one is an error. In
  a bare ``points.jsonl`` without a manifest (written by hand or by another tool) the key is
  optional.
- **Duplicate keys**: two points with the same string ``point_key`` are an error, with or
  without a manifest; a store holds each point once.
- **Missing log**: a directory without ``points.jsonl`` is not a store (an error listing what
  it holds); with a ``manifest.json`` but no log, the store is damaged (an error).

- **Long lines**: a line longer than :data:`~sweetspot.io.MAX_LINE_BYTES` (1 MiB; a point
  is a few kB) is an error; lines are read with that bound, so a log whose line is a
  gigabyte long is refused without holding the line in memory.
- **Deep nesting**: a line nested so deeply that the JSON parser would exhaust the stack is
  corrupted (an error).

The manifest must be a JSON object with ``format == STORE_FORMAT`` and ``version ==
STORE_VERSION``, of at most :data:`MAX_MANIFEST_BYTES`.

Errors
------
Every error of this module is a :class:`~sweetspot.exceptions.StoreError` (an ``OSError``:
the store cannot be read safely), whose message names the file and the line and says how to
repair it; the file is never modified. :func:`sweetspot.io.read_measurements` re-raises it
as a :class:`~sweetspot.exceptions.MeasurementError` with the same message.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..exceptions import StoreError
from ._limits import MAX_LINE_BYTES
from ._schema import _list_columns

__all__ = [
    "MANIFEST",
    "MAX_MANIFEST_BYTES",
    "POINTS",
    "STORE_FORMAT",
    "STORE_VERSION",
    "StoreLog",
    "json_ready",
    "read_manifest",
    "read_points",
]

STORE_FORMAT = "sweetspot-measurement-store"
"""The ``format`` entry of every manifest written by sweetspot."""

STORE_VERSION = 1
"""The store version this sweetspot reads and writes (the ``version`` entry)."""

MANIFEST = "manifest.json"
"""Name of the manifest file in a store directory."""

POINTS = "points.jsonl"
"""Name of the log of points in a store directory."""

MAX_MANIFEST_BYTES = 16 << 20
"""Largest manifest read [bytes] (16 MiB; a manifest is a few kB per engine load)."""


def json_ready(value: Any) -> Any:
    """Return ``value`` with NaN/inf floats replaced by None, tuples by lists (JSON-safe).

    This is how values are stored: a point or manifest entry that is NaN or infinite is
    written as ``null``.

    Examples
    --------
    >>> json_ready({"a": (1.0, float("nan")), 2: [float("inf")]})
    {'a': [1.0, None], '2': [None]}
    """
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {str(k): json_ready(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_ready(v) for v in value]
    if hasattr(value, "item") and callable(value.item):  # numpy scalars
        return json_ready(value.item())
    return value


def _store_path(path: Any) -> Path:
    if not isinstance(path, (str, os.PathLike)):
        raise StoreError(
            f"a measurement store is a directory given as a path (str or os.PathLike); got "
            f"{type(path).__name__}."
        )
    return Path(path)


def read_manifest(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read and check the manifest of a store directory.

    Parameters
    ----------
    path : str or os.PathLike
        The store directory.

    Returns
    -------
    dict
        The manifest, a fresh dict.

    Raises
    ------
    StoreError
        If it is missing, not JSON, or not a sweetspot store of a known version.
    """
    root = _store_path(path)
    file = root / MANIFEST
    if not file.is_file():
        raise StoreError(
            f"{root} is not a sweetspot measurement store: it has no {MANIFEST}. Pass the "
            "directory given to `sweetspot measure --out`."
        )
    try:
        with open(file, "rb") as fh:
            data = fh.read(MAX_MANIFEST_BYTES + 1)
        if len(data) > MAX_MANIFEST_BYTES:
            raise ValueError(f"larger than {MAX_MANIFEST_BYTES >> 20} MiB")
        manifest = json.loads(data.decode("utf-8"))
    except (OSError, ValueError) as exc:  # JSONDecodeError and UnicodeDecodeError included
        if isinstance(exc, StoreError):  # pragma: no cover - not raised above
            raise
        raise StoreError(
            f"{file} is corrupted ({exc}); sweetspot does not overwrite it. Restore it from a "
            "backup, or move the store away and start a new sweep."
        ) from exc
    except RecursionError:
        raise StoreError(
            f"{file} is corrupted (JSON nested thousands of levels deep); sweetspot does not "
            "overwrite it. Restore it from a backup, or move the store away and start a new "
            "sweep."
        ) from None
    if not isinstance(manifest, dict) or manifest.get("format") != STORE_FORMAT:
        found = manifest.get("format") if isinstance(manifest, dict) else type(manifest).__name__
        raise StoreError(
            f"{file} was not written by sweetspot (format {found!r}, expected "
            f"{STORE_FORMAT!r}); sweetspot does not write into this directory. Choose another "
            "--out directory."
        )
    if manifest.get("version") != STORE_VERSION:
        raise StoreError(
            f"{file} has store version {manifest.get('version')!r}; this sweetspot reads version "
            f"{STORE_VERSION}. Upgrade sweetspot, or write to a new --out directory."
        )
    return manifest


@dataclass(frozen=True, slots=True, kw_only=True)
class StoreLog:
    """The points of a store's log, read under the rules of :mod:`sweetspot.io.store`.

    Attributes
    ----------
    path : pathlib.Path
        The ``points.jsonl`` file.
    points : tuple of dict
        Every point, in log order (blank lines and a torn last line left out).
    torn_line : int or None
        Line number (from 1) of the torn last line that was skipped, or None.
    """

    path: Path
    points: tuple[dict[str, Any], ...]
    torn_line: int | None = None


def read_points(path: str | os.PathLike[str]) -> StoreLog:
    """Read the log of points of a store directory, under the rules of the module docstring.

    Parameters
    ----------
    path : str or os.PathLike
        The store directory (it holds ``points.jsonl`` and, when the harness wrote it,
        ``manifest.json``; the manifest's presence decides whether ``point_key`` is required,
        its content is checked by :func:`read_manifest`).

    Returns
    -------
    StoreLog
        The points, and the number of a torn last line that was skipped.

    Raises
    ------
    StoreError
        No log (not a store, or a damaged one), a corrupted line, a line that is not an
        object, a point without ``point_key`` in a store with a manifest, or a point stored
        twice; the message gives the line number. The file is left untouched.
    """
    root = _store_path(path)
    label = str(root)
    points = root / POINTS
    keyed = (root / MANIFEST).exists()
    if not root.is_dir():
        what = "is not a directory" if root.exists() else "does not exist"
        raise StoreError(
            f"{label} {what}; a sweetspot measurement store is the directory given to "
            "`sweetspot measure --out`."
        )
    if not points.is_file():
        if keyed:
            raise StoreError(
                f"the store {root} has a manifest but no {POINTS}; it is damaged. Move it "
                "away and start a new sweep, or restore the log from a backup."
            )
        entries = sorted(p.name + ("/" if p.is_dir() else "") for p in root.iterdir())
        found = _list_columns(entries) if entries else "nothing, the directory is empty"
        raise StoreError(
            f"{label} is a directory but not a sweetspot measurement store: it has no "
            f"{POINTS} (found {found}). Pass a CSV or Parquet file, or a store directory "
            "written by the sweetspot harness."
        )
    records: list[dict[str, Any]] = []
    torn: int | None = None
    seen: dict[str, int] = {}
    try:
        with points.open("rb") as fh:
            lineno = 0
            while raw := fh.readline(MAX_LINE_BYTES + 1):
                lineno += 1
                if len(raw) > MAX_LINE_BYTES:
                    raise StoreError(
                        f"line {lineno} of {points} is longer than {MAX_LINE_BYTES >> 20} MiB, "
                        f"while a point is a few kB: the log is corrupted, and sweetspot does "
                        f"not overwrite it. Every line of {POINTS} must be one JSON object; "
                        "move that line out of the file by hand."
                    )
                if not raw.strip():
                    continue
                try:
                    record = json.loads(raw)
                except (ValueError, RecursionError) as exc:  # not JSON, not UTF-8, 5000 digits
                    if not raw.endswith(b"\n"):
                        torn = lineno  # the point in flight when the writer stopped
                        break
                    reason = (
                        exc.msg
                        if isinstance(exc, json.JSONDecodeError)
                        else exc.reason
                        if isinstance(exc, UnicodeDecodeError)
                        else "nested thousands of levels deep"
                        if isinstance(exc, RecursionError)
                        else str(exc)
                    )
                    raise StoreError(
                        f"line {lineno} of {points} is not valid JSON ({reason}): the line is "
                        f"corrupted, and sweetspot does not overwrite it. Every line of {POINTS} "
                        "must be one JSON object; repair or remove that line by hand."
                    ) from exc
                if not isinstance(record, dict):
                    raise StoreError(
                        f"line {lineno} of {points} is a JSON {type(record).__name__}, not an "
                        f"object; every line of {POINTS} must be one JSON object (one point)."
                    )
                key = record.get("point_key")
                if keyed and not isinstance(key, str):
                    raise StoreError(
                        f"line {lineno} of {points} is not a sweetspot point (no 'point_key'); "
                        "the log was written or edited by something else. Repair it by hand, or "
                        "start a new sweep in another directory."
                    )
                if isinstance(key, str):
                    if key in seen:
                        raise StoreError(
                            f"point {key!r} appears twice in {points} (stored twice, at lines "
                            f"{seen[key]} and {lineno}); a store holds each point once. Remove "
                            "one of the two lines by hand."
                        )
                    seen[key] = lineno
                records.append(record)
    except OSError as exc:
        if isinstance(exc, StoreError):
            raise
        raise StoreError(f"cannot read {points}: {exc}") from exc
    return StoreLog(path=points, points=tuple(records), torn_line=torn)
