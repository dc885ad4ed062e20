"""The crash-safe store writer: atomic appends, torn tails, corruption and foreign files reported.

The rules of reading a store (and json_ready) are tested in tests/io/test_store_format.py.
"""

from __future__ import annotations

import json
import math

import pytest

from sweetspot.exceptions import StoreError
from sweetspot.harness.store import MANIFEST, POINTS, MeasurementStore, read_manifest

IDENTITY = {"model": "m", "n_in": [1, 2]}
MANIFEST_IN = {"sweep": {"identity": IDENTITY}}


def row(key: str, **extra) -> dict:
    return {"point_key": key, "n_in": 1, "n_out": 1, "energy_j": 1.0, **extra}


def test_create_append_reopen(tmp_path) -> None:
    out = tmp_path / "store"
    with MeasurementStore.create(out, MANIFEST_IN) as store:
        store.append(row("a", value=math.nan))
        store.append(row("b"))
        assert len(store) == 2
        assert store.manifest["format"] == "sweetspot-measurement-store"
        store.update_manifest(extra={"x": (1, 2)})
    lines = (out / POINTS).read_text().splitlines()
    assert [json.loads(line)["point_key"] for line in lines] == ["a", "b"]
    assert json.loads(lines[0])["value"] is None  # NaN stored as null, valid JSON
    with MeasurementStore.open(out) as store:
        assert store.completed_keys() == {"a", "b"}
        assert store.manifest["extra"] == {"x": [1, 2]}
        assert store.notes == []
        with pytest.raises(StoreError, match="already in the store"):
            store.append(row("a"))
        with pytest.raises(StoreError, match="point_key"):
            store.append({"n_in": 1})


def test_torn_last_line_is_moved_aside_not_lost(tmp_path) -> None:
    out = tmp_path / "store"
    with MeasurementStore.create(out, MANIFEST_IN) as store:
        store.append(row("a"))
    with open(out / POINTS, "ab") as fh:
        fh.write(b'{"point_key": "b", "n_in": 1, "ener')  # killed mid-write
    with MeasurementStore.open(out) as store:
        assert store.completed_keys() == {"a"}
        assert "torn last line" in store.notes[0]
        store.append(row("b"))
    torn = list(out.glob(POINTS + ".torn-*"))
    assert len(torn) == 1 and torn[0].read_bytes().startswith(b'{"point_key": "b"')
    assert [json.loads(x)["point_key"] for x in (out / POINTS).read_text().splitlines()] == [
        "a",
        "b",
    ]


def test_corrupted_line_is_reported_and_untouched(tmp_path) -> None:
    out = tmp_path / "store"
    MeasurementStore.create(out, MANIFEST_IN).close()
    content = b'{"point_key": "a"}\nnot json at all\n{"point_key": "c"}\n'
    (out / POINTS).write_bytes(content)
    with pytest.raises(StoreError, match=r"line 2 of .*corrupted.*does not overwrite"):
        MeasurementStore.open(out)
    assert (out / POINTS).read_bytes() == content
    (out / POINTS).write_bytes(b'{"n_in": 1}\n')
    with pytest.raises(StoreError, match="not a sweetspot point"):
        MeasurementStore.open(out)
    (out / POINTS).write_bytes(b'{"point_key": "a"}\n{"point_key": "a"}\n')
    with pytest.raises(StoreError, match=r"stored twice.*lines 1 and 2"):
        MeasurementStore.open(out)


def test_foreign_or_corrupted_manifest_is_not_overwritten(tmp_path) -> None:
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / MANIFEST).write_text('{"format": "something-else"}')
    (foreign / POINTS).write_text("")
    with pytest.raises(StoreError, match="not written by sweetspot"):
        MeasurementStore.open_for_sweep(foreign, MANIFEST_IN, resume=True, identity=IDENTITY)
    with pytest.raises(StoreError, match="already holds a measurement store"):
        MeasurementStore.open_for_sweep(foreign, MANIFEST_IN, resume=False, identity=IDENTITY)
    assert (foreign / MANIFEST).read_text() == '{"format": "something-else"}'
    (foreign / MANIFEST).write_text("{broken")
    with pytest.raises(StoreError, match="corrupted"):
        read_manifest(foreign)
    (foreign / MANIFEST).write_text('{"format": "sweetspot-measurement-store", "version": 99}')
    with pytest.raises(StoreError, match="store version 99"):
        read_manifest(foreign)
    with pytest.raises(StoreError, match=r"has no manifest\.json"):
        read_manifest(tmp_path)


def test_non_empty_directory_is_refused(tmp_path) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(StoreError, match=r"not empty and is not a sweetspot.*notes\.txt"):
        MeasurementStore.create(tmp_path, MANIFEST_IN)
    assert (tmp_path / "notes.txt").read_text() == "mine"
    file = tmp_path / "file"
    file.write_text("x")
    with pytest.raises(StoreError, match="not a directory"):
        MeasurementStore.create(file, MANIFEST_IN)


def test_resume_checks_the_sweep_identity(tmp_path) -> None:
    out = tmp_path / "s"
    MeasurementStore.open_for_sweep(out, MANIFEST_IN, resume=True, identity=IDENTITY).close()
    store = MeasurementStore.open_for_sweep(out, MANIFEST_IN, resume=True, identity=IDENTITY)
    store.close()
    other = {"model": "m", "n_in": [1, 2, 3]}
    with pytest.raises(StoreError, match=r"different sweep: n_in was \[1, 2\] and is now"):
        MeasurementStore.open_for_sweep(out, MANIFEST_IN, resume=True, identity=other)


def test_one_writer_at_a_time(tmp_path) -> None:
    store = MeasurementStore.create(tmp_path / "s", MANIFEST_IN)
    try:
        with pytest.raises(StoreError, match="another process"):
            MeasurementStore.open(tmp_path / "s")
    finally:
        store.close()
    MeasurementStore.open(tmp_path / "s").close()


def test_missing_log_is_damage(tmp_path) -> None:
    MeasurementStore.create(tmp_path / "s", MANIFEST_IN).close()
    (tmp_path / "s" / POINTS).unlink()
    with pytest.raises(StoreError, match="damaged"):
        MeasurementStore.open(tmp_path / "s")


def test_complete_last_point_without_newline_is_kept(tmp_path) -> None:
    # the rules of sweetspot.io.store: a last line that parses is a point, not a torn line
    out = tmp_path / "store"
    with MeasurementStore.create(out, MANIFEST_IN) as store:
        store.append(row("a"))
    with open(out / POINTS, "ab") as fh:
        fh.write(json.dumps(row("b")).encode())  # the newline alone was lost
    with MeasurementStore.open(out) as store:
        assert store.completed_keys() == {"a", "b"}
        assert "missing newline" in store.notes[0]
        store.append(row("c"))
        assert [p["point_key"] for p in store.points()] == ["a", "b", "c"]
    assert not list(out.glob(POINTS + ".torn-*"))


def test_open_reads_with_the_io_rules(tmp_path) -> None:
    from sweetspot.io.store import read_points

    out = tmp_path / "store"
    MeasurementStore.create(out, MANIFEST_IN).close()
    (out / POINTS).write_bytes(b'{"point_key": "a"}\n[1]\n')
    with pytest.raises(StoreError) as reader:
        read_points(out)
    with pytest.raises(StoreError) as writer:
        MeasurementStore.open(out)
    assert str(writer.value) == str(reader.value)
    assert "is a JSON list, not an object" in str(writer.value)


def test_discard_removes_only_an_empty_store(tmp_path) -> None:
    out = tmp_path / "s"
    store = MeasurementStore.create(out, MANIFEST_IN)
    store.discard(remove_directory=True)
    assert not out.exists()
    (tmp_path / "kept").mkdir()
    store = MeasurementStore.create(tmp_path / "kept", MANIFEST_IN)
    store.discard(remove_directory=False)
    assert (tmp_path / "kept").is_dir() and not list((tmp_path / "kept").iterdir())
    with MeasurementStore.create(tmp_path / "full", MANIFEST_IN) as store:
        store.append(row("a"))
        with pytest.raises(StoreError, match="holds points; it is not discarded"):
            store.discard(remove_directory=True)
    assert (tmp_path / "full" / POINTS).read_text().count("\n") == 1


def test_torn_tail_repair_reads_only_the_tail(tmp_path, monkeypatch) -> None:
    from pathlib import Path

    out = tmp_path / "store"
    with MeasurementStore.create(out, MANIFEST_IN) as store:
        for i in range(2000):
            store.append(row(f"k{i}", pad="x" * 500))
    with open(out / POINTS, "ab") as fh:
        fh.write(b'{"point_key": "torn", "n_in"')

    def whole(self):  # the repair must not read the log whole
        raise AssertionError(f"read_bytes({self})")

    monkeypatch.setattr(Path, "read_bytes", whole)
    with MeasurementStore.open(out) as store:
        assert len(store) == 2000 and "torn last line" in store.notes[0]
    monkeypatch.undo()
    assert (out / POINTS).read_bytes().endswith(b"\n")
    torn = list(out.glob(POINTS + ".torn-*"))
    assert torn[0].read_bytes() == b'{"point_key": "torn", "n_in"'


def test_a_full_disk_loses_no_completed_point(tmp_path, monkeypatch) -> None:
    import errno
    import os

    out = tmp_path / "store"
    with MeasurementStore.create(out, MANIFEST_IN) as store:
        store.append(row("a"))
        real_write = os.write

        def half_then_full(fd, data):  # the disk fills up in the middle of a line
            real_write(fd, data[: len(data) // 2])
            raise OSError(errno.ENOSPC, "No space left on device")

        monkeypatch.setattr(os, "write", half_then_full)
        with pytest.raises(StoreError, match=r"cannot append a point .*No space left on device"):
            store.append(row("b"))
        monkeypatch.undo()
        assert store.completed_keys() == {"a"}
    with MeasurementStore.open(out) as store:  # the half line is a torn tail: moved aside
        assert store.completed_keys() == {"a"} and "torn last line" in store.notes[0]
        store.append(row("b"))
    assert [json.loads(x)["point_key"] for x in (out / POINTS).read_text().splitlines()] == [
        "a",
        "b",
    ]


def test_a_second_process_cannot_write_the_store(tmp_path) -> None:
    import subprocess
    import sys
    import time

    out = tmp_path / "store"
    MeasurementStore.create(out, MANIFEST_IN).close()
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from sweetspot.harness.store import MeasurementStore; "
            f"s = MeasurementStore.open({str(out)!r}); print('open', flush=True); time.sleep(60)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "open"
        with pytest.raises(StoreError, match=rf"another process \(pid {holder.pid}\)"):
            MeasurementStore.open(out)
    finally:
        holder.kill()
        holder.wait(timeout=30)
    time.sleep(0.05)
    MeasurementStore.open(out).close()  # free again once the holder is gone
