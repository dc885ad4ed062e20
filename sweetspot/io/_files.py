"""File guards shared by the readers: paths, streams, line lengths, sizes, CSV, JSON, Parquet.

Every reader opens its file through these helpers, so a missing file, a directory where a
file was expected, a line of megabytes, the wrong delimiter, text that is not UTF-8, a
truncated or corrupt compressed file, a pipe, or a file far larger than a measurement file
raise the same :class:`~sweetspot.exceptions.MeasurementError` whatever the format.

Bounds (documented in ``docs/inputs.md``):

- :data:`MAX_LINE_BYTES`: the longest line of a text file, also inside a compressed file
  and a pipe, checked while streaming in fixed-size chunks (never a whole line in memory);
- :data:`MAX_STREAM_BYTES`: the most text a compressed file or a pipe may hold once
  decompressed (it is copied, checked, into a temporary file, then parsed), and
  :data:`MAX_EXPANSION`: the largest ratio of decompressed to compressed size beyond 64 MiB
  (a decompression bomb is refused before it fills memory or disk);
- :data:`MAX_JSON_BYTES`: the largest JSON file read whole (reports, request logs);
- :data:`MAX_PARQUET_BYTES`: the largest uncompressed Parquet data read into memory at
  once (from the footer, before any data is read).
"""

from __future__ import annotations

import contextlib
import errno
import importlib
import json
import os
import stat
import tempfile
from collections.abc import Collection, Iterator, Mapping
from pathlib import Path
from typing import IO, Any

import pandas as pd

from ..exceptions import DependencyError, MeasurementError
from ._limits import (
    MAX_EXPANSION,
    MAX_JSON_BYTES,
    MAX_LINE_BYTES,
    MAX_PARQUET_BYTES,
    MAX_STREAM_BYTES,
)
from ._schema import _check_unique_columns, _is_label_column, _is_numeric_schema_column

__all__ = [
    "MAX_EXPANSION",
    "MAX_JSON_BYTES",
    "MAX_LINE_BYTES",
    "MAX_PARQUET_BYTES",
    "MAX_STREAM_BYTES",
]

_COMPRESSION_SUFFIXES = (".gz", ".bz2", ".xz", ".zip", ".zst", ".tar", ".tgz")

_EXPANSION_FLOOR = 64 << 20

_CHUNK = 1 << 20

# Pandas' default missing-value spellings, used for the numeric schema columns only: in
# labels and extra columns "None", "NA" or "null" are text and stay text.
_NA_TEXT = (
    "",
    "#N/A",
    "#N/A N/A",
    "#NA",
    "-1.#IND",
    "-1.#QNAN",
    "-NaN",
    "-nan",
    "1.#IND",
    "1.#QNAN",
    "<NA>",
    "N/A",
    "NA",
    "NULL",
    "NaN",
    "None",
    "n/a",
    "nan",
    "null",
)


class _MeasurementFileNotFoundError(MeasurementError, FileNotFoundError):
    """A measurement file does not exist; catchable as MeasurementError and FileNotFoundError."""


def _missing_file(label: str) -> _MeasurementFileNotFoundError:
    err = _MeasurementFileNotFoundError(
        f"No such file or directory: {label!r}. Expected a CSV/TSV/Parquet file or a sweetspot "
        f"measurement-store directory; check the path (relative paths start at {os.getcwd()!r})."
    )
    err.errno = errno.ENOENT
    return err


def _size(n: int) -> str:
    return f"{n / (1 << 20):g} MiB" if n < (1 << 30) else f"{n / (1 << 30):g} GiB"


def _exists(path: Path, label: str) -> bool:
    """``path.exists()``, with a library error for a path the system cannot even look up."""
    try:
        return path.exists()
    except (OSError, ValueError) as exc:  # embedded NUL byte, name too long, ...
        raise MeasurementError(
            f"cannot look up the path {label[:200]!r}: {exc}. Check the path."
        ) from None


# --------------------------------------------------------------------------- streams


class _LineGuard:
    """Counts the lines of a byte stream fed in chunks; refuses one longer than ``limit``.

    Line breaks are LF and CR (pandas reads both); lines are numbered by LF. Chunks must be
    at most ``limit`` bytes long, so that only a run carried across chunks can be too long.
    """

    def __init__(self, label: str, limit: int) -> None:
        self.label = label
        self.limit = limit
        self.line = 1
        self.run = 0

    def fail(self, line: int) -> MeasurementError:
        return MeasurementError(
            f"{self.label}: line {line} is longer than {_size(self.limit)}; a measurement row "
            "is a few dozen bytes, so this is not a measurement CSV (or its line breaks "
            "are missing). Check the file, or split the line into rows."
        )

    def feed(self, chunk: bytes) -> None:
        nl, cr = chunk.find(b"\n"), chunk.find(b"\r")
        if nl < 0 and cr < 0:
            self.run += len(chunk)
            if self.run > self.limit:
                raise self.fail(self.line)
            return
        first = min(p for p in (nl, cr) if p >= 0)
        if self.run + first > self.limit:
            raise self.fail(self.line)
        self.line += chunk.count(b"\n")
        self.run = len(chunk) - max(chunk.rfind(b"\n"), chunk.rfind(b"\r")) - 1


def _chunk_size(limit: int) -> int:
    return max(1, min(_CHUNK, limit))


def _check_line_lengths(path: Path, label: str, limit: int | None = None) -> None:
    """Refuse a plain file with a line longer than ``limit`` (default :data:`MAX_LINE_BYTES`)
    before pandas holds it several times in memory; reads the file once in fixed-size
    binary chunks."""
    limit = MAX_LINE_BYTES if limit is None else limit
    guard = _LineGuard(label, limit)
    with open(path, "rb") as fh:
        while chunk := fh.read(_chunk_size(limit)):
            guard.feed(chunk)


def _compression(path: Path) -> str | None:
    """The compression of a file, from its suffixes (as pandas infers it), or None."""
    suffixes = [s.lower() for s in path.suffixes]
    if not suffixes:
        return None
    last = suffixes[-1]
    if last == ".tgz" or (
        last in (".gz", ".bz2", ".xz") and len(suffixes) > 1 and suffixes[-2] == ".tar"
    ):
        return "tar"
    names = {".gz": "gzip", ".bz2": "bz2", ".xz": "xz", ".zip": "zip", ".zst": "zstd"}
    return "tar" if last == ".tar" else names.get(last)


def _is_regular(path: Path) -> bool:
    try:
        return stat.S_ISREG(path.stat().st_mode)
    except OSError:
        return False


def _corrupt(label: str, kind: str, exc: BaseException) -> MeasurementError:
    detail = str(exc) or type(exc).__name__
    return MeasurementError(
        f"{label} is a truncated or corrupt {kind} file ({detail}); re-copy or re-compress it."
    )


def _one_member(label: str, kind: str, names: list[str]) -> None:
    if len(names) != 1:
        shown = ", ".join(repr(n) for n in names[:5]) + (" ..." if len(names) > 5 else "")
        raise MeasurementError(
            f"{label} is a {kind} archive holding {len(names)} files"
            f"{f' ({shown})' if names else ''}; sweetspot reads an archive holding exactly one "
            "CSV file. Extract the file you want and pass it."
        )


@contextlib.contextmanager
def _open_stream(path: Path, kind: str | None, label: str) -> Iterator[IO[bytes]]:
    """A binary stream of the content of ``path``, decompressed (one member of an archive)."""
    import bz2
    import gzip
    import lzma
    import tarfile
    import zipfile

    with contextlib.ExitStack() as stack:
        try:
            if kind is None:
                stream: IO[bytes] = stack.enter_context(open(path, "rb"))
            elif kind == "gzip":
                stream = stack.enter_context(gzip.open(path, "rb"))  # type: ignore[arg-type]
            elif kind == "bz2":
                stream = stack.enter_context(bz2.open(path, "rb"))
            elif kind == "xz":
                stream = stack.enter_context(lzma.open(path, "rb"))
            elif kind == "zstd":
                try:
                    zstandard = importlib.import_module("zstandard")
                except ImportError as exc:
                    raise DependencyError(
                        f"reading the Zstandard-compressed file {label} needs the zstandard "
                        "package, which is not installed; install it with: pip install "
                        "zstandard (or decompress the file: zstd -d FILE)"
                    ) from exc
                raw = stack.enter_context(open(path, "rb"))
                stream = stack.enter_context(zstandard.ZstdDecompressor().stream_reader(raw))
            elif kind == "zip":
                archive = stack.enter_context(zipfile.ZipFile(path))
                members = [
                    i
                    for i in archive.infolist()
                    if not i.is_dir() and not i.filename.startswith("__MACOSX/")
                ]
                _one_member(label, "zip", [i.filename for i in members])
                stream = stack.enter_context(archive.open(members[0]))
            else:
                archive_t = stack.enter_context(tarfile.open(path, "r:*"))
                files = [m for m in archive_t.getmembers() if m.isfile()]
                _one_member(label, "tar", [m.name for m in files])
                extracted = archive_t.extractfile(files[0])
                assert extracted is not None  # a regular member
                stream = stack.enter_context(extracted)
        except (MeasurementError, DependencyError):
            raise
        except (OSError, EOFError, ValueError, RuntimeError, NotImplementedError) as exc:
            raise _corrupt(label, kind or "", exc) from exc
        except Exception as exc:  # zipfile.BadZipFile, tarfile.TarError, zstandard errors
            raise _corrupt(label, kind or "", exc) from exc
        yield stream


def _copy_checked(
    stream: IO[bytes], out: IO[bytes], label: str, kind: str | None, compressed: int | None
) -> None:
    """Copy ``stream`` to ``out`` in chunks, checking lines, total size and expansion."""
    guard = _LineGuard(label, MAX_LINE_BYTES)
    total = 0
    size = _chunk_size(MAX_LINE_BYTES)
    while True:
        try:
            chunk = stream.read(size)
        except (MeasurementError, DependencyError):  # pragma: no cover - not raised by read
            raise
        except MemoryError:  # pragma: no cover
            raise
        except Exception as exc:  # EOFError, zlib.error, lzma.LZMAError, BadZipFile, ...
            raise _corrupt(label, kind or "", exc) from exc
        if not chunk:
            return
        guard.feed(chunk)
        total += len(chunk)
        if total > MAX_STREAM_BYTES:
            what = "decompressed" if kind else "read from a pipe or device"
            raise MeasurementError(
                f"{label} holds more than {_size(MAX_STREAM_BYTES)} of text once {what}; "
                "sweetspot copies such input to a temporary file with that bound. Decompress "
                "it to a regular file first, or convert it to Parquet and stream it "
                "(sweetspot.fit_parquet)."
            )
        if compressed is not None and total > max(_EXPANSION_FLOOR, MAX_EXPANSION * compressed):
            raise MeasurementError(
                f"{label} expands more than {MAX_EXPANSION} times when decompressed (more than "
                f"{_size(total)} from {compressed} bytes): it looks like a decompression bomb, "
                "not a measurement file. Decompress it yourself if it is genuine."
            )
        try:
            out.write(chunk)
        except OSError as exc:
            raise MeasurementError(
                f"cannot copy {label} into a temporary file in {tempfile.gettempdir()} "
                f"({exc}); free some space, point TMPDIR elsewhere, or decompress it yourself."
            ) from exc


@contextlib.contextmanager
def _plain_file(path: Path, label: str) -> Iterator[Path]:
    """The content of ``path`` as a plain, seekable file whose lines have been checked.

    A regular uncompressed file is used in place. A compressed file, a pipe or a device is
    streamed once, decompressed and checked (line length, total size, expansion), into a
    temporary file that is removed afterwards: pandas then reads a file whose size is known.
    """
    kind = _compression(path)
    if kind is None and _is_regular(path):
        try:
            _check_line_lengths(path, label)
        except OSError as exc:
            raise MeasurementError(f"cannot read {label}: {exc}") from exc
        yield path
        return
    compressed = path.stat().st_size if kind is not None and _is_regular(path) else None
    try:
        tmp = tempfile.TemporaryDirectory(prefix="sweetspot-")
    except OSError as exc:
        raise MeasurementError(
            f"cannot create a temporary directory to read {label} ({exc}); set TMPDIR to a "
            "writable directory."
        ) from exc
    with tmp as folder:
        target = Path(folder) / "content"
        try:
            with _open_stream(path, kind, label) as stream, open(target, "wb") as out:
                _copy_checked(stream, out, label, kind, compressed)
        except OSError as exc:
            if isinstance(exc, MeasurementError):  # pragma: no cover - not an OSError
                raise
            raise MeasurementError(f"cannot read {label}: {exc}") from exc
        yield target


# --------------------------------------------------------------------------- CSV


def _first_long_row(path: Path, sep: str, width: int) -> int | None:
    """Data row (0-based) of the first row with more fields than the header (error path)."""
    import csv

    with open(path, encoding="utf-8-sig", errors="replace", newline="") as fh:
        for i, row in enumerate(csv.reader(fh, delimiter=sep)):
            if i > 0 and len(row) > width:
                return i - 1
    return None


def _column_names(header: list[str]) -> list[str]:
    """The names pandas gives the header's columns (an empty name is ``Unnamed: <i>``)."""
    return [h if h else f"Unnamed: {i}" for i, h in enumerate(header)]


def _read_csv(
    path: Path,
    sep: str,
    label: str,
    *,
    labels: Collection[str] = (),
    column_map: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """Read a delimited UTF-8 text file (BOM allowed), with clear errors for common mistakes.

    Label columns (the schema's text columns, ``labels``, and columns named like
    identifiers, see :func:`~sweetspot.io._schema._is_label_column`) are read as text
    exactly as written (``"1.10"`` stays ``"1.10"``, ``"007"`` stays ``"007"``); an empty
    cell is missing. In the numeric schema columns the usual spellings of a missing value
    (``nan``, ``NA``, ``None``, ...) are missing; in every other column only an empty cell
    is, and ``"None"`` or ``"NA"`` stay text. Numbers are parsed exactly as Python's ``float``
    does (pandas >= 3).
    """
    with _plain_file(path, label) as plain:
        return _read_plain_csv(plain, sep, label, labels, column_map)


def _read_plain_csv(
    path: Path,
    sep: str,
    label: str,
    labels: Collection[str],
    column_map: Mapping[str, str] | None,
) -> pd.DataFrame:
    import lzma
    import warnings
    import zlib

    delimiter = {",": "comma", "\t": "tab"}.get(sep, repr(sep))
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
        names = _column_names(header)
        given = column_map if isinstance(column_map, Mapping) else {}  # checked later
        mapped = {str(k).strip().casefold(): v for k, v in given.items()}
        text_columns: dict[str, Any] = {}
        na_values: dict[str, list[str]] = {}
        for name in names:
            target = mapped.get(name.strip().casefold(), name)
            if (
                name in labels
                or name.strip() in labels
                or _is_label_column(target)
                or _is_label_column(name)
            ):
                text_columns[name] = str
                na_values[name] = [""]
            elif _is_numeric_schema_column(target) or _is_numeric_schema_column(name):
                na_values[name] = list(_NA_TEXT)
            else:
                na_values[name] = [""]
        with warnings.catch_warnings():
            # a row longer than the header would lose its extra fields: refuse it instead
            warnings.simplefilter("error", pd.errors.ParserWarning)
            try:
                return pd.read_csv(
                    path,
                    sep=sep,
                    encoding="utf-8-sig",
                    index_col=False,
                    low_memory=False,
                    keep_default_na=False,
                    na_values=na_values,
                    dtype=text_columns or None,
                )
            except pd.errors.ParserWarning:
                row = _first_long_row(path, sep, len(header))
                where = f"row {row}" if row is not None else "a row"
                raise MeasurementError(
                    f"{label}: {where} has more fields than the header's {len(header)} "
                    f"({', '.join(header[:8])}); the extra field would be lost. Fix the row, "
                    "or add a column name to the header."
                ) from None
    except (EOFError, zlib.error, lzma.LZMAError) as exc:  # pragma: no cover - streamed first
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


# --------------------------------------------------------------------------- JSON


def _read_json(path: Path, label: str, *, what: str, limit: int | None = None) -> Any:
    """Parse a JSON file of at most ``limit`` bytes (default :data:`MAX_JSON_BYTES`), read
    with that bound (also from a pipe).

    NaN and Infinity are refused (they are not JSON), as are documents nested so deeply
    that the parser would exhaust the stack.
    """
    limit = MAX_JSON_BYTES if limit is None else limit
    try:
        with open(path, "rb") as fh:
            data = fh.read(limit + 1)
    except OSError as exc:
        raise MeasurementError(f"cannot read {label}: {exc}") from exc
    if len(data) > limit:
        raise MeasurementError(
            f"{label} is larger than {_size(limit)}, far larger than {what}; sweetspot does "
            "not read it whole. Check that this is the right file."
        )
    return _parse_json(data, label, what=what)


def _parse_json(data: bytes, label: str, *, what: str) -> Any:
    def constant(name: str) -> Any:
        raise ValueError(f"{name} is not valid JSON")

    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise MeasurementError(
            f"{label} is not UTF-8 text ({exc.reason} at byte {exc.start}); expected {what}."
        ) from exc
    try:
        return json.loads(text, parse_constant=constant)
    except json.JSONDecodeError as exc:
        raise MeasurementError(
            f"{label} is not valid JSON ({exc.msg} at line {exc.lineno}); expected {what}."
        ) from exc
    except ValueError as exc:
        raise MeasurementError(f"{label} is not valid JSON ({exc}); expected {what}.") from exc
    except RecursionError:
        raise MeasurementError(
            f"{label} is JSON nested too deeply to read (thousands of levels); expected {what}, "
            "which is a few levels deep."
        ) from None


# --------------------------------------------------------------------------- Parquet


def _read_parquet(path: Path, label: str) -> pd.DataFrame:
    try:
        pyarrow = importlib.import_module("pyarrow")
        parquet = importlib.import_module("pyarrow.parquet")
    except ImportError as exc:
        raise DependencyError(
            f"reading the Parquet file {label} needs pyarrow, an optional dependency; install "
            'it with: pip install "sweetspot[parquet]"'
        ) from exc
    try:
        meta = parquet.read_metadata(path)
        declared = sum(meta.row_group(i).total_byte_size for i in range(meta.num_row_groups))
    except (OSError, ValueError, pyarrow.ArrowException) as exc:
        raise MeasurementError(
            f"{label} cannot be read as Parquet ({exc}). Check that it is a Parquet file, or "
            "pass format='csv' if it is delimited text."
        ) from exc
    if declared > MAX_PARQUET_BYTES:
        raise MeasurementError(
            f"{label} holds {_size(declared)} of uncompressed data ({meta.num_rows} rows, per "
            f"its footer), more than the {_size(MAX_PARQUET_BYTES)} read into memory at once. "
            "Stream it: sweetspot.fit_parquet(path) or "
            "sweetspot.io.parquet.ParquetDataset.open(path).batches()."
        )
    try:
        return pd.read_parquet(path, engine="pyarrow")
    except (OSError, ValueError, TypeError, pyarrow.ArrowException) as exc:
        raise MeasurementError(
            f"{label} cannot be read as Parquet ({exc}). Check that it is a Parquet file, or "
            "pass format='csv' if it is delimited text."
        ) from exc


# --------------------------------------------------------------------------- paths


def _suffix(path: Path) -> str:
    suffixes = [s.lower() for s in path.suffixes]
    while suffixes and suffixes[-1] in _COMPRESSION_SUFFIXES:
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
    if not _exists(path, label):
        raise _missing_file(label)
    return path


def _as_path(path: Any, reader: str) -> Path:
    """The one existing file a reader of another tool's log reads."""
    if not isinstance(path, (str, os.PathLike)):
        raise MeasurementError(
            f"{reader} expects a path (str or os.PathLike); got {type(path).__name__}."
        )
    file = Path(path)
    if not _exists(file, str(file)):
        raise _missing_file(str(file))
    if file.is_dir():
        raise MeasurementError(f"{file} is a directory; {reader} reads one file. Pass the file.")
    return file


def _csv_frame(file: Path, *, labels: Collection[str] = ()) -> pd.DataFrame:
    """A tool's CSV log, with unique column names stripped of surrounding whitespace;
    ``labels`` (and identifier-like columns) are read as text."""
    raw = _read_csv(file, _delimiter(file), str(file), labels=labels)
    _check_unique_columns(raw.columns, str(file))
    stripped = [str(c).strip() for c in raw.columns]
    _check_unique_columns(pd.Index(stripped), str(file))
    raw.columns = stripped
    return raw
