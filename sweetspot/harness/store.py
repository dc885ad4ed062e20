"""Crash-safe, resumable measurement store: a directory with a manifest and an append-only log.

Layout of a store directory::

    manifest.json     what was swept and with what (format, version, sweep spec, provenance:
                      host, GPUs, driver, CUDA, engine version and arguments, idle baselines)
    points.jsonl      one JSON object per completed point, appended as it completes
    .lock             advisory lock held by the one process writing the store

This module is the *writer*. The format and its one reader (:func:`read_manifest`,
:func:`~sweetspot.io.store.read_points`, and the rules for blank, torn, corrupted and
duplicate lines) live in :mod:`sweetspot.io.store`; the store is read through them here as in
:func:`sweetspot.read_measurements`. The constants and :func:`json_ready` are re-exported.

Crash safety
------------
A point is appended with a single ``write`` of one complete line to a file opened in append
mode, then ``fsync``: after a crash the log holds every completed point, plus at most one
*torn* final line (no newline) from the point in flight. The manifest is replaced atomically
(write a temporary file, ``fsync``, ``rename``, ``fsync`` the directory). On reopening, the
log is read (and checked) first; then a torn final line is moved aside to
``points.jsonl.torn-<time>`` (kept, not deleted) and cut from the log, and a complete final
point whose newline alone was lost gets its newline. A corrupted complete line, a foreign
manifest or a log written by something else is reported as
:class:`~sweetspot.exceptions.StoreError` and never overwritten.

Resuming skips the points whose ``point_key`` is already in the log, so a point is never
stored twice; appending a key that is already there raises.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..exceptions import StoreError
from ..io import MAX_LINE_BYTES
from ..io.store import (
    MANIFEST,
    POINTS,
    STORE_FORMAT,
    STORE_VERSION,
    StoreLog,
    json_ready,
    read_manifest,
    read_points,
)

__all__ = [
    "MANIFEST",
    "POINTS",
    "STORE_FORMAT",
    "STORE_VERSION",
    "MeasurementStore",
    "json_ready",
]

LOCK = ".lock"
_TORN = POINTS + ".torn-"
_TMP_PREFIX = ".manifest.json."

try:  # advisory locking is POSIX-only; elsewhere a second writer is simply not detected
    import fcntl as _fcntl
except ImportError:  # pragma: no cover - Windows
    _fcntl = None  # type: ignore[assignment]


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # pragma: no cover - platforms without directory fds
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover
        pass
    finally:
        os.close(fd)


def _root(path: Any) -> Path:
    if not isinstance(path, (str, os.PathLike)):
        raise StoreError(
            f"a measurement store is a directory given as a path (str or os.PathLike); got "
            f"{type(path).__name__}."
        )
    return Path(path)


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.parent / f"{_TMP_PREFIX}{os.getpid()}.tmp"
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    _fsync_dir(path.parent)


class MeasurementStore:
    """One store directory, opened for writing by one process.

    Use :meth:`create`, :meth:`open` or :meth:`open_for_sweep`; close with :meth:`close` (or
    a ``with`` block) to release the lock.

    Attributes
    ----------
    path : pathlib.Path
        The directory.
    manifest : dict
        The current manifest (a copy; change it with :meth:`update_manifest`).
    notes : list of str
        What opening the store did (e.g. a torn final line moved aside).
    """

    def __init__(self, path: Path, manifest: dict[str, Any], keys: list[str]) -> None:
        self.path = path
        self._manifest = manifest
        self._keys = set(keys)
        self._order = list(keys)
        self.notes: list[str] = []
        self._lock_fd: int | None = None

    # -- opening -------------------------------------------------------------------------
    @classmethod
    def create(cls, path: str | os.PathLike[str], manifest: Mapping[str, Any]) -> MeasurementStore:
        """Create a new store in a new or empty directory.

        Parameters
        ----------
        path : str or os.PathLike
            Directory; created if missing. It must be empty.
        manifest : mapping
            Sweep description and provenance (``format``, ``version`` and ``created_at`` are
            added).

        Raises
        ------
        StoreError
            If the directory is not empty, or cannot be written.
        """
        root = _root(path)
        if not isinstance(manifest, Mapping):
            raise StoreError(
                f"the manifest of a new store must be a mapping; got {type(manifest).__name__}."
            )
        if root.exists() and not root.is_dir():
            raise StoreError(f"{root} exists and is not a directory; choose another --out path.")
        if root.is_dir():
            entries = sorted(p.name for p in root.iterdir())
            if MANIFEST in entries:
                raise StoreError(
                    f"{root} already holds a measurement store; pass --resume to continue it, or "
                    "choose a new --out directory."
                )
            if entries:
                raise StoreError(
                    f"{root} is not empty and is not a sweetspot measurement store (it holds "
                    f"{', '.join(entries[:5])}{', ...' if len(entries) > 5 else ''}); sweetspot "
                    "does not write into it. Choose a new or empty --out directory."
                )
        try:
            root.mkdir(parents=True, exist_ok=True)
            store = cls(root, {}, [])
            store._lock()
            full = {
                "format": STORE_FORMAT,
                "version": STORE_VERSION,
                "created_at": _now(),
                **json_ready(dict(manifest)),
            }
            _write_atomic(root / MANIFEST, json.dumps(full, indent=2, allow_nan=False) + "\n")
            fd = os.open(root / POINTS, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
            os.fsync(fd)
            os.close(fd)
            _fsync_dir(root)
        except OSError as exc:
            raise StoreError(f"cannot create the measurement store {root}: {exc}") from exc
        store._manifest = full
        return store

    @classmethod
    def open(cls, path: str | os.PathLike[str]) -> MeasurementStore:
        """Open an existing store for appending (takes the lock, repairs a torn last line).

        Raises
        ------
        StoreError
            If the directory is not a store, the manifest is foreign or corrupted, a line of
            the log is corrupted or foreign, a point appears twice, or another process holds
            the lock.
        """
        root = _root(path)
        manifest = read_manifest(root)
        store = cls(root, manifest, [])
        store._lock()
        try:
            log = read_points(root)
            store.notes.extend(store._repair_tail(log))
            keys = [rec["point_key"] for rec in log.points]
        except BaseException:
            store.close()
            raise
        store._keys = set(keys)
        store._order = keys
        return store

    @classmethod
    def open_for_sweep(
        cls,
        path: str | os.PathLike[str],
        manifest: Mapping[str, Any],
        *,
        resume: bool,
        identity: Mapping[str, Any],
    ) -> MeasurementStore:
        """Create a store, or (``resume=True``) reopen one written by the same sweep.

        Parameters
        ----------
        path : str or os.PathLike
            The store directory.
        manifest : mapping
            Manifest of a new store (must contain ``identity`` under ``"sweep"``).
        resume : bool
            Continue an existing store (a missing or empty directory starts a new one).
        identity : mapping
            The sweep fields that must match those recorded in an existing store.

        Raises
        ------
        StoreError
            If the store exists without ``resume``, or was written by a different sweep
            (the message lists the differing fields), or :meth:`open` fails.
        """
        root = _root(path)
        exists = (root / MANIFEST).exists()
        if not resume or not exists:
            if exists:
                raise StoreError(
                    f"{root} already holds a measurement store; pass --resume to continue it, "
                    "or choose a new --out directory."
                )
            return cls.create(root, manifest)
        store = cls.open(root)
        recorded = store.manifest.get("sweep", {})
        recorded_identity = recorded.get("identity", {}) if isinstance(recorded, dict) else {}
        wanted = json_ready(dict(identity))
        diffs = [
            f"{k} was {recorded_identity.get(k)!r} and is now {wanted.get(k)!r}"
            for k in sorted(set(wanted) | set(recorded_identity))
            if recorded_identity.get(k) != wanted.get(k)
        ]
        if diffs:
            store.close()
            raise StoreError(
                f"the store {root} was written by a different sweep: {'; '.join(diffs[:4])}"
                f"{' (and more)' if len(diffs) > 4 else ''}. Resume with the same arguments, or "
                "write the new sweep to a new --out directory."
            )
        return store

    # -- content -------------------------------------------------------------------------
    @property
    def manifest(self) -> dict[str, Any]:
        """A copy of the manifest."""
        return json.loads(json.dumps(self._manifest))

    def completed_keys(self) -> frozenset[str]:
        """Keys of the points already stored."""
        return frozenset(self._keys)

    def __len__(self) -> int:
        return len(self._keys)

    def points(self) -> list[dict[str, Any]]:
        """Every stored point, in log order.

        Raises
        ------
        StoreError
            For a corrupted line (not JSON, not an object, without ``point_key``) or a point
            stored twice; the line number is given and the file is left untouched (the
            rules are those of :mod:`sweetspot.io.store`).
        """
        return list(read_points(self.path).points)

    def append(self, row: Mapping[str, Any]) -> None:
        """Append one completed point (one ``write`` of one line, then ``fsync``).

        Parameters
        ----------
        row : mapping
            The point; must have a string ``point_key`` not yet in the store. NaN and inf
            become ``null``.

        Raises
        ------
        StoreError
            If the key is missing or already stored, or the write fails.
        """
        key = row.get("point_key")
        if not isinstance(key, str) or not key:
            raise StoreError("a stored point needs a non-empty string 'point_key'.")
        if key in self._keys:
            raise StoreError(
                f"point {key!r} is already in the store {self.path}; a point is never stored "
                "twice (resume skips completed points)."
            )
        line = (json.dumps(json_ready(dict(row)), allow_nan=False) + "\n").encode("utf-8")
        try:
            fd = os.open(self.path / POINTS, os.O_WRONLY | os.O_APPEND)
            try:
                written = os.write(fd, line)
                if written != len(line):  # pragma: no cover - disk full
                    raise OSError(f"short write ({written} of {len(line)} bytes)")
                os.fsync(fd)
            finally:
                os.close(fd)
        except OSError as exc:
            raise StoreError(f"cannot append a point to {self.path / POINTS}: {exc}") from exc
        self._keys.add(key)
        self._order.append(key)

    def update_manifest(self, **updates: Any) -> None:
        """Replace top-level manifest entries atomically (temp file, fsync, rename)."""
        new = {**self._manifest, **json_ready(updates)}
        try:
            _write_atomic(self.path / MANIFEST, json.dumps(new, indent=2, allow_nan=False) + "\n")
        except OSError as exc:
            raise StoreError(f"cannot update {self.path / MANIFEST}: {exc}") from exc
        self._manifest = new

    def discard(self, *, remove_directory: bool = False) -> None:
        """Delete this store when it holds no point, and release the lock.

        For a run that created the store and failed before its first point (an engine that
        cannot load, a knob the GPU refuses, Ctrl-C): nothing was measured, and a store left
        behind would make the corrected command fail with "already holds a measurement
        store". The manifest, the empty log and the lock file are removed, and the directory
        too when ``remove_directory`` and it is then empty. A store holding a point, or a
        log that is not empty, is never touched.

        Raises
        ------
        StoreError
            If the store holds a point.
        """
        points = self.path / POINTS
        if self._keys or (points.exists() and points.stat().st_size > 0):
            raise StoreError(f"the store {self.path} holds points; it is not discarded.")
        with contextlib.suppress(OSError):
            for tmp in self.path.glob(f"{_TMP_PREFIX}*"):
                tmp.unlink()
            points.unlink(missing_ok=True)
            (self.path / MANIFEST).unlink(missing_ok=True)
        self.close()
        with contextlib.suppress(OSError):
            (self.path / LOCK).unlink(missing_ok=True)
            if remove_directory:
                self.path.rmdir()  # only if empty: anything else is not ours

    def close(self) -> None:
        """Release the lock (idempotent)."""
        if self._lock_fd is not None:
            with contextlib.suppress(OSError):
                if _fcntl is not None:
                    _fcntl.flock(self._lock_fd, _fcntl.LOCK_UN)
                os.close(self._lock_fd)
            self._lock_fd = None

    def __enter__(self) -> MeasurementStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- internals -----------------------------------------------------------------------
    def _lock(self) -> None:
        path = self.path / LOCK
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise StoreError(f"cannot create the lock file {path}: {exc}") from exc
        if _fcntl is not None:
            try:
                _fcntl.flock(fd, _fcntl.LOCK_EX | _fcntl.LOCK_NB)
            except OSError:
                holder = os.read(fd, 64).decode("ascii", "replace").strip() or "unknown"
                os.close(fd)
                raise StoreError(
                    f"another process (pid {holder}) is writing to the store {self.path}; wait "
                    "for it to finish, or stop it, before resuming."
                ) from None
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode("ascii"))
        self._lock_fd = fd

    def _repair_tail(self, log: StoreLog) -> list[str]:
        """Make the log end with a newline, so that the next append starts a new line.

        A torn final line (``log.torn_line``: a point in flight at a crash) is moved aside,
        kept, and cut; a complete final point whose newline alone is missing gets one.
        """
        points = log.path
        try:
            size = points.stat().st_size
            with open(points, "rb") as fh:
                # the last line is at most MAX_LINE_BYTES long (read_points checked it): read
                # the tail only, never the whole log
                fh.seek(max(0, size - MAX_LINE_BYTES - 1))
                tail = fh.read()
        except OSError as exc:
            raise StoreError(f"cannot read the end of {points}: {exc}") from exc
        if not tail or tail.endswith(b"\n"):
            return []
        if log.torn_line is None:
            try:
                with open(points, "ab") as fh:
                    fh.write(b"\n")
                    fh.flush()
                    os.fsync(fh.fileno())
            except OSError as exc:
                raise StoreError(f"cannot end the last line of {points}: {exc}") from exc
            return [
                f"ended the last line of {POINTS} with its missing newline (the point on it is "
                "complete and kept)"
            ]
        start = size - len(tail)
        cut = start + tail.rfind(b"\n") + 1 if b"\n" in tail else start
        if cut == start and start > 0:  # pragma: no cover - a torn line is short
            raise StoreError(f"the torn last line of {points} is too long to repair safely.")
        torn = tail[cut - start :]
        stamp = _dt.datetime.now(_dt.timezone.utc).strftime("%Y%m%dT%H%M%S%f")
        aside = self.path / f"{_TORN}{stamp}"
        try:
            with open(aside, "wb") as fh:
                fh.write(torn)
                fh.flush()
                os.fsync(fh.fileno())
            with open(points, "r+b") as fh:
                fh.truncate(cut)
                fh.flush()
                os.fsync(fh.fileno())
            _fsync_dir(self.path)
        except OSError as exc:
            raise StoreError(f"cannot repair the torn last line of {points}: {exc}") from exc
        return [
            f"moved a torn last line of {POINTS} ({len(torn)} bytes, the point in flight when "
            f"the sweep stopped) to {aside.name}; that point will be measured again"
        ]
