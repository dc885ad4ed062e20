"""Read a Parquet file, or a directory of them, batch by batch, validated like a whole file.

:class:`ParquetDataset` opens a dataset from its file footers (no data read) and yields it in
batches of about ``batch_rows`` rows (:meth:`ParquetDataset.batches`), each validated
against the measurement schema as :func:`sweetspot.io.read_measurements` validates a whole
file. A bad cell raises :class:`~sweetspot.exceptions.MeasurementError` naming the *file*
and the *row within that file* (0-based, header excluded). Nothing is dropped silently.
Memory holds about one batch, whatever the size of the dataset, so a fit can stream data
larger than memory (:func:`sweetspot.fit_parquet`).

A directory is read recursively in sorted path order. Names starting with ``.`` or ``_`` are
writers' bookkeeping (``_SUCCESS``, ``_metadata``, ``.crc``) and are skipped; any other file
that is not ``*.parquet`` / ``*.pq`` is an error (it is not silently ignored). Hive-style
directory names (``model=llama-2-7b/part-0.parquet``) become columns, so a pooled physical
fit can read one directory per model. Files may differ in their columns: a column missing
from a file is missing in its rows (and validation names the first such row).

Examples
--------
>>> import os, tempfile, pandas as pd
>>> root = tempfile.mkdtemp()
>>> for i in range(2):
...     part = pd.DataFrame({"n_in": [64, 128], "n_out": [32, 32], "energy_j": [1.0 + i, 2.0]})
...     part.to_parquet(os.path.join(root, f"part-{i}.parquet"))
>>> data = ParquetDataset.open(root)
>>> data.n_rows, [f.name for f in data.files]
(4, ['part-0.parquet', 'part-1.parquet'])
>>> for file, first_in_file, first_in_dataset, frame in data.batches(batch_rows=3):
...     print(file.name, first_in_file, first_in_dataset, len(frame))
part-0.parquet 0 0 2
part-1.parquet 0 2 2
"""

from __future__ import annotations

import os
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import unquote

import pandas as pd

from ..exceptions import DependencyError, MeasurementError
from ._files import MAX_PARQUET_BYTES, _exists, _missing_file
from ._schema import validate_measurements
from .store import POINTS

__all__ = [
    "DEFAULT_BATCH_ROWS",
    "PARQUET_SUFFIXES",
    "STREAM_MIN_ROWS",
    "ParquetBatch",
    "ParquetDataset",
    "parquet_rows",
    "should_stream",
]

#: Rows read, validated and reduced at a time by default.
DEFAULT_BATCH_ROWS = 1_000_000

#: Proposed rule for :func:`sweetspot.fit`: stream Parquet files of at least this many rows
#: (the result is the same; from 10^6 rows streaming is as fast as reading the file whole
#: and fitting in memory, and it needs ~0.5 GB instead of ~330 B per row; see
#: docs/performance.md).
STREAM_MIN_ROWS = 1_000_000

#: Suffixes of the files a dataset reads (case-insensitive).
PARQUET_SUFFIXES: tuple[str, ...] = (".parquet", ".pq")


def _arrow() -> tuple[Any, Any]:
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError as exc:  # pragma: no cover - pyarrow is a test dependency
        raise DependencyError(
            "streaming fits read Parquet with pyarrow, an optional dependency; install it "
            'with: pip install "sweetspot[parquet]"'
        ) from exc
    return pa, pq


class ParquetBatch(NamedTuple):
    """One validated batch of a :class:`ParquetDataset` (unpacks as a 4-tuple)."""

    file: Path
    """The file the rows come from."""
    first_row_in_file: int
    """Row number, within ``file``, of the first row of the batch (0-based)."""
    first_row_in_dataset: int
    """Row number, within the dataset (files in sorted order), of the first row (0-based)."""
    frame: pd.DataFrame
    """The rows, validated (see :func:`sweetspot.io.validate_measurements`)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ParquetDataset:
    """A Parquet file or a directory of Parquet files, described by its file footers.

    Open one with :meth:`open`; read it with :meth:`batches`.

    Attributes
    ----------
    label : str
        The path as given, for messages.
    files : tuple of pathlib.Path
        The Parquet files, in reading order (sorted paths).
    file_rows : tuple of int
        Rows of each file, from its footer.
    file_columns : tuple of tuple of str
        Columns stored in each file.
    partitions : tuple of mapping
        Hive-style ``key=value`` directories of each file (values as text; None for
        ``__HIVE_DEFAULT_PARTITION__``).
    columns : tuple of str
        Every column of the dataset: the union of the files' columns in first-seen order, then
        the partition keys.
    stamps : tuple of (int, int)
        ``(size, mtime_ns)`` of each file when opened: a file that changes while it is read
        (between two passes of a fit) is an error.
    """

    label: str
    files: tuple[Path, ...]
    file_rows: tuple[int, ...]
    file_columns: tuple[tuple[str, ...], ...]
    partitions: tuple[Mapping[str, Any], ...]
    columns: tuple[str, ...]
    stamps: tuple[tuple[int, int], ...] = field(repr=False)

    @property
    def n_rows(self) -> int:
        """Rows of the dataset (sum of the footers)."""
        return int(sum(self.file_rows))

    @classmethod
    def open(cls, path: str | os.PathLike[str]) -> ParquetDataset:
        """Open a Parquet file or a directory of them (reads the footers, not the data).

        Raises
        ------
        MeasurementError
            Not a path, a missing path (then also a :class:`FileNotFoundError`), a
            measurement store, a file that is not Parquet, a directory with foreign files or
            none, or a column that is also a directory partition.
        DependencyError
            pyarrow is not installed.
        """
        if not isinstance(path, (str, os.PathLike)):
            raise MeasurementError(
                f"a streamed fit reads a Parquet file or directory given as a path (str or "
                f"os.PathLike); got {type(path).__name__}. Use sweetspot.fit for a DataFrame."
            )
        root = Path(path)
        label = str(root)
        if not _exists(root, label):
            raise _missing_file(label)
        if root.is_dir():
            if (root / POINTS).is_file():
                raise MeasurementError(
                    f"{label} is a sweetspot measurement store (it has {POINTS}), not a Parquet "
                    "dataset; read it with sweetspot.fit(path) or "
                    "sweetspot.read_measurements(path)."
                )
            files = _list_parquet(root, label)
        else:
            if root.suffix.lower() not in PARQUET_SUFFIXES:
                raise MeasurementError(
                    f"{label} is not a Parquet file (suffix {root.suffix or 'none'}; expected "
                    ".parquet or .pq); streamed fits read Parquet. Use sweetspot.fit for CSV "
                    "files."
                )
            files = [root]
        pa, pq = _arrow()
        rows: list[int] = []
        file_columns: list[tuple[str, ...]] = []
        for file in files:
            try:
                meta = pq.read_metadata(file)
                names = tuple(meta.schema.to_arrow_schema().names)
            except (OSError, ValueError, pa.ArrowException) as exc:
                raise MeasurementError(
                    f"{file} cannot be read as Parquet ({exc}). The file may be truncated or "
                    "not Parquet at all: re-write it, or move it out of the dataset."
                ) from exc
            largest = max(
                (meta.row_group(i).total_byte_size for i in range(meta.num_row_groups)), default=0
            )
            if largest > MAX_PARQUET_BYTES:
                raise MeasurementError(
                    f"{file} has a row group of {largest / (1 << 30):.1f} GiB of uncompressed "
                    f"data (per its footer), more than the {MAX_PARQUET_BYTES >> 30} GiB a batch "
                    "may hold: pyarrow decodes a row group whole. Rewrite the file with smaller "
                    "row groups (e.g. pyarrow.parquet.write_table(..., row_group_size=1_000_000))."
                )
            rows.append(int(meta.num_rows))
            file_columns.append(names)
        partitions = [_partition_keys(f, root) for f in files] if root.is_dir() else [{}]
        columns: dict[str, None] = {}
        for names, keys in zip(file_columns, partitions, strict=True):
            clash = set(names) & set(keys)
            if clash:
                name = sorted(clash)[0]
                raise MeasurementError(
                    f"{name!r} is both a column of the Parquet files and a directory partition "
                    f"({name}=...) in {label}; rename the directory or drop the column."
                )
            columns.update(dict.fromkeys(names))
        for keys in partitions:
            columns.update(dict.fromkeys(keys))
        return cls(
            label=label,
            files=tuple(files),
            file_rows=tuple(rows),
            file_columns=tuple(file_columns),
            partitions=tuple(partitions),
            columns=tuple(columns),
            stamps=tuple(_stamp(f) for f in files),
        )

    def batches(
        self,
        batch_rows: int = DEFAULT_BATCH_ROWS,
        *,
        column_map: Mapping[str, str] | None = None,
        columns: Collection[str] | None = None,
    ) -> Iterator[ParquetBatch]:
        """Yield the dataset in validated batches of about ``batch_rows`` rows.

        Files are read one at a time, one row group at a time (no pre-buffering), so memory
        holds about one batch (but at least one row group, which pyarrow decodes whole);
        small row groups are coalesced. A batch never spans two files.

        Parameters
        ----------
        batch_rows : int
            Rows per batch (a file's last batch may be shorter).
        column_map : mapping of str to str, optional
            Source column name -> schema name, as in :func:`sweetspot.io.read_measurements`.
        columns : collection of str, optional
            Read only these columns: a column is read when its name as stored, or its name
            after ``column_map`` and the case-insensitive matching of schema names, is in
            ``columns`` (``column_map`` is restricted to the columns read). All by default.

        Yields
        ------
        ParquetBatch
            ``(file, first_row_in_file, first_row_in_dataset, frame)``, ``frame`` validated
            with rows numbered within ``file``.

        Raises
        ------
        MeasurementError
            A bad cell (names the file and the row within it), a file that is truncated or
            corrupt, or that changed since :meth:`open`.
        """
        if isinstance(batch_rows, bool) or not isinstance(batch_rows, int) or batch_rows < 1:
            raise MeasurementError(
                f"batch_rows must be a positive whole number of rows; got {batch_rows!r}."
            )
        if columns is not None and (
            isinstance(columns, str) or not all(isinstance(c, str) for c in columns)
        ):
            raise MeasurementError(
                f"columns must be a collection of column names (str); got {columns!r}."
            )
        read, cmap = self._plan(column_map, columns)
        for file, first, start, raw in self._raw_batches(read, batch_rows):
            frame = validate_measurements(raw, source=str(file), column_map=cmap, first_row=first)
            yield ParquetBatch(file, first, start, frame)

    def _plan(
        self, column_map: Mapping[str, str] | None, columns: Collection[str] | None
    ) -> tuple[list[str] | None, Mapping[str, str] | None]:
        """Columns to read, and the column map restricted to them."""
        if columns is None:
            return None, column_map
        wanted = set(columns)
        cmap = dict(column_map or {})
        folded = {str(k).strip().casefold(): v for k, v in cmap.items()}
        keep: list[str] = []
        for col in self.columns:
            target = cmap.get(col, folded.get(col.strip().casefold(), col.strip().casefold()))
            if target in wanted or col in wanted:
                keep.append(col)
        kept = set(keep)
        sub = {}
        for src, target in cmap.items():
            match = (
                src
                if src in kept
                else next(
                    (c for c in keep if c.strip().casefold() == str(src).strip().casefold()),
                    None,
                )
            )
            if match is not None:
                sub[src] = target
        return keep, (sub if column_map is not None else None)

    def _raw_batches(
        self, columns: list[str] | None, batch_rows: int
    ) -> Iterator[tuple[Path, int, int, pd.DataFrame]]:
        """Yield ``(file, first row in the file, first row in the dataset, raw frame)``."""
        pa, pq = _arrow()
        wanted = list(self.columns) if columns is None else columns
        start = 0
        for file, rows, stamp, stored, keys in zip(
            self.files,
            self.file_rows,
            self.stamps,
            self.file_columns,
            self.partitions,
            strict=True,
        ):
            if _stamp(file) != stamp:
                raise MeasurementError(
                    f"{file} changed while it was being read (size or modification time differ "
                    "between passes); a streamed fit reads the data twice. Fit a stable copy."
                )
            read = [c for c in stored if c in set(wanted)]
            pending: list[Any] = []
            count = 0
            first = 0
            try:
                reader = pq.ParquetFile(file, pre_buffer=False)
                for batch in reader.iter_batches(batch_size=batch_rows, columns=read):
                    if batch.num_rows == 0:
                        continue
                    pending.append(batch)
                    count += batch.num_rows
                    if count >= batch_rows:
                        yield file, first, start + first, _to_frame(pa, pending, wanted, keys)
                        first += count
                        pending, count = [], 0
                if pending:
                    yield file, first, start + first, _to_frame(pa, pending, wanted, keys)
                    first += count
            except (OSError, ValueError, pa.ArrowException) as exc:
                raise MeasurementError(
                    f"{file} cannot be read as Parquet ({exc}); the file may be truncated or "
                    "corrupt: re-write it, or move it out of the dataset."
                ) from exc
            if first != rows:
                raise MeasurementError(
                    f"{file} yielded {first} rows but its footer says {rows}; the file is "
                    "corrupt or changed while being read."
                )
            start += rows


def _stamp(path: Path) -> tuple[int, int]:
    st = path.stat()
    return (st.st_size, st.st_mtime_ns)


def _list_parquet(root: Path, label: str) -> list[Path]:
    files: list[Path] = []
    foreign: list[str] = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith((".", "_")))
        for name in filenames:
            if name.startswith((".", "_")):
                continue  # writers' bookkeeping: _SUCCESS, _metadata, .part.crc
            path = Path(dirpath) / name
            if path.suffix.lower() in PARQUET_SUFFIXES:
                files.append(path)
            else:
                foreign.append(str(path.relative_to(root)))
    if foreign:
        shown = ", ".join(repr(f) for f in sorted(foreign)[:10])
        more = f" and {len(foreign) - 10} more" if len(foreign) > 10 else ""
        raise MeasurementError(
            f"{label} holds files that are not Parquet: {shown}{more}. A streamed dataset is a "
            "directory of *.parquet / *.pq files (names starting with '.' or '_' are skipped); "
            "move the other files out, or pass a single Parquet file."
        )
    if not files:
        raise MeasurementError(
            f"{label} holds no Parquet files (*.parquet, *.pq); expected a Parquet file or a "
            "directory of them."
        )
    return sorted(files)


def _partition_keys(file: Path, root: Path) -> dict[str, Any]:
    """Hive-style ``key=value`` directory names between root and file (values as text)."""
    keys: dict[str, Any] = {}
    for part in file.relative_to(root).parent.parts:
        if "=" in part:
            key, _, value = part.partition("=")
            keys[unquote(key)] = None if value == "__HIVE_DEFAULT_PARTITION__" else unquote(value)
    return keys


def _to_frame(
    pa: Any, batches: list[Any], wanted: list[str], keys: Mapping[str, Any]
) -> pd.DataFrame:
    frame = pa.Table.from_batches(batches).to_pandas(split_blocks=True)
    for name in wanted:
        if name not in frame.columns:
            # a partition value, or a column other files have: missing here (validation
            # then names the row, as for any missing value)
            frame[name] = keys.get(name, None)
    return frame[wanted] if list(frame.columns) != wanted else frame


def parquet_rows(path: str | os.PathLike[str]) -> int:
    """Number of rows of a Parquet file or directory, from the file footers (no data read).

    Raises
    ------
    MeasurementError
        Missing path, a file that is not Parquet, or a directory with foreign files.
    """
    return ParquetDataset.open(path).n_rows


def should_stream(data: Any, *, min_rows: int = STREAM_MIN_ROWS) -> bool:
    """Whether :func:`sweetspot.fit` should hand ``data`` to a streamed fit.

    True for a path to a directory of Parquet files (which the in-memory readers do not
    read), and for a Parquet file of at least ``min_rows`` rows (counted from its footer).
    False for everything else (DataFrames, CSV, measurement stores, missing paths), and
    whenever the answer cannot be had cheaply: the in-memory path then raises its own error.
    """
    if not isinstance(data, (str, os.PathLike)):
        return False
    path = Path(data)
    try:
        if path.is_dir():
            if (path / POINTS).is_file():
                return False
            return any(
                p.suffix.lower() in PARQUET_SUFFIXES and not p.name.startswith((".", "_"))
                for p in path.rglob("*")
            )
        if not path.is_file() or path.suffix.lower() not in PARQUET_SUFFIXES:
            return False
        return parquet_rows(path) >= min_rows
    except (OSError, MeasurementError, DependencyError):
        return False
