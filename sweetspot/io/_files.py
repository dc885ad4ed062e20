"""File guards shared by the readers: paths, missing files, line lengths, CSV and Parquet.

Every reader opens its file through these helpers, so a missing file, a directory where a
file was expected, a line of megabytes, the wrong delimiter, text that is not UTF-8 or a
truncated compressed file raise the same :class:`~sweetspot.exceptions.MeasurementError`
whatever the format.
"""

from __future__ import annotations

import errno
import importlib
import os
from pathlib import Path
from typing import Any

import pandas as pd

from ..exceptions import DependencyError, MeasurementError
from ._schema import _check_unique_columns

__all__ = ["MAX_LINE_BYTES"]

_COMPRESSION_SUFFIXES = (".gz", ".bz2", ".xz", ".zip", ".zst", ".tar")


class _MeasurementFileNotFoundError(MeasurementError, FileNotFoundError):
    """A measurement file does not exist; catchable as MeasurementError and FileNotFoundError."""


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


def _suffix(path: Path) -> str:
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] in _COMPRESSION_SUFFIXES:
        suffixes = suffixes[:-1]
    return suffixes[-1] if suffixes else ""


def _delimiter(path: Path) -> str:
    """Tab for ``.tsv`` (also compressed, ``.tsv.gz``), comma for everything else."""
    return "\t" if _suffix(path) == ".tsv" else ","


def _source_path(source: Any, format: str) -> Path:
    """The path argument of :func:`~sweetspot.io.read_measurements` (or of a reader that
    reads one format of it), checked with its messages: a path, not a frame, that exists."""
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
    return path


def _as_path(path: Any, reader: str) -> Path:
    """The one existing file a reader of another tool's log reads."""
    if not isinstance(path, (str, os.PathLike)):
        raise MeasurementError(
            f"{reader} expects a path (str or os.PathLike); got {type(path).__name__}."
        )
    file = Path(path)
    if not file.exists():
        raise _missing_file(str(file))
    if file.is_dir():
        raise MeasurementError(f"{file} is a directory; {reader} reads one file. Pass the file.")
    return file


def _csv_frame(file: Path) -> pd.DataFrame:
    """A tool's CSV log, with unique column names stripped of surrounding whitespace."""
    raw = _read_csv(file, "\t" if file.suffix.lower() == ".tsv" else ",", str(file))
    _check_unique_columns(raw.columns, str(file))
    raw.columns = [str(c).strip() for c in raw.columns]
    return raw
