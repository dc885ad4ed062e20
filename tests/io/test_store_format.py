"""Tests of sweetspot.io.store: the store format and the rules of its one reader.

The same rules hold for read_measurements (a directory; errors re-raised as MeasurementError)
and for the harness writer (MeasurementStore, errors as StoreError); the writer's own tests
(locking, appends, torn-tail repair) are in tests/harness/test_harness_store.py.
"""

from __future__ import annotations

import json
import math

import pytest

from sweetspot.exceptions import MeasurementError, StoreError
from sweetspot.io import read_measurements
from sweetspot.io.store import (
    MANIFEST,
    POINTS,
    STORE_FORMAT,
    STORE_VERSION,
    StoreLog,
    json_ready,
    read_manifest,
    read_points,
)

# --------------------------------------------------------------------------- read_measurements


def test_store_directory_reads_points_jsonl(tmp_path) -> None:
    points = [{"n_in": 8 * i, "n_out": 16, "energy_j": 1.5 * i, "n_requests": 4} for i in (1, 2)]
    lines = [json.dumps(p) for p in points]
    (tmp_path / "points.jsonl").write_text(lines[0] + "\n\n" + lines[1] + "\n")
    df = read_measurements(tmp_path)
    assert df["n_in"].tolist() == [8, 16]
    assert df["n_requests"].tolist() == [4, 4]
    assert df.attrs["notes"][0].startswith("read 2 points from points.jsonl")


def test_store_errors(tmp_path) -> None:
    (tmp_path / "README.md").write_text("x")
    (tmp_path / "sub").mkdir()
    with pytest.raises(MeasurementError, match=r"not a sweetspot measurement store.*'README\.md'"):
        read_measurements(tmp_path)
    empty = tmp_path / "sub"
    with pytest.raises(MeasurementError, match="directory is empty"):
        read_measurements(empty)
    (empty / "points.jsonl").write_text("")
    with pytest.raises(MeasurementError, match="has no points yet"):
        read_measurements(empty)
    (empty / "points.jsonl").write_text('{"n_in": 1, "n_out": 1, "energy_j": 1}\n{"n_in": 2,\n')
    with pytest.raises(MeasurementError, match=r"line 2 of .*points.jsonl is not valid JSON"):
        read_measurements(empty)
    (empty / "points.jsonl").write_text("[1, 2, 3]\n")
    with pytest.raises(MeasurementError, match=r"line 1 .* is a JSON list, not an object"):
        read_measurements(empty)
    (empty / "points.jsonl").write_text('{"n_in": 1, "n_out": 1, "energy_j": 1}\n{"n_in": 2}\n')
    with pytest.raises(MeasurementError, match=r"n_out .*missing value.*row 1"):
        read_measurements(empty)


def test_store_torn_last_line_is_skipped_with_a_note(tmp_path) -> None:
    good = json.dumps({"n_in": 8, "n_out": 8, "energy_j": 2.0, "point_key": "a"})
    (tmp_path / "points.jsonl").write_text(good + "\n" + '{"n_in": 16, "n_o')
    df = read_measurements(tmp_path)
    assert df["n_in"].tolist() == [8]
    assert any("incomplete last line 2" in n for n in df.attrs["notes"])
    # a complete last object without a newline is a point (hand-written files)
    (tmp_path / "points.jsonl").write_text(good)
    assert len(read_measurements(tmp_path)) == 1


def test_store_duplicate_point_and_foreign_manifest(tmp_path) -> None:
    line = json.dumps({"n_in": 8, "n_out": 8, "energy_j": 2.0, "point_key": "a"})
    (tmp_path / "points.jsonl").write_text(line + "\n" + line + "\n")
    with pytest.raises(MeasurementError, match=r"point 'a' appears twice.*lines 1 and 2"):
        read_measurements(tmp_path)
    (tmp_path / "points.jsonl").write_text(line + "\n")
    (tmp_path / "manifest.json").write_text('{"format": "other-tool"}')
    with pytest.raises(MeasurementError, match="not written by sweetspot"):
        read_measurements(tmp_path)


def test_store_manifest_and_simulated_rows_warn(tmp_path) -> None:
    from sweetspot.exceptions import SimulatedDataWarning

    manifest = {"format": "sweetspot-measurement-store", "version": 1, "simulated": True}
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    row = {"n_in": 8, "n_out": 8, "energy_j": 2.0, "simulated": True, "point_key": "a"}
    (tmp_path / "points.jsonl").write_text(json.dumps(row) + "\n")
    with pytest.warns(SimulatedDataWarning, match="1 row .* simulated"):
        df = read_measurements(tmp_path)
    assert df.attrs["manifest"]["simulated"] is True
    assert any("manifest says the sweep was simulated" in n for n in df.attrs["notes"])


# --------------------------------------------------------------------------- the one reader

MANIFEST_OK = {"format": STORE_FORMAT, "version": STORE_VERSION}


def point(key: str | None = None, **extra) -> str:
    row = {"n_in": 8, "n_out": 8, "energy_j": 2.0, **extra}
    if key is not None:
        row["point_key"] = key
    return json.dumps(row)


def store(tmp_path, content: str | bytes, *, manifest: bool = False):
    """A store directory holding ``content`` as its log (and a valid manifest if asked)."""
    root = tmp_path / "store"
    root.mkdir(exist_ok=True)
    data = content.encode() if isinstance(content, str) else content
    (root / POINTS).write_bytes(data)
    if manifest:
        (root / MANIFEST).write_text(json.dumps(MANIFEST_OK))
    return root


def test_read_points_blank_lines_and_optional_keys(tmp_path) -> None:
    root = store(tmp_path, f"{point()}\n\n   \n{point('b')}\n")
    log = read_points(root)
    assert isinstance(log, StoreLog)
    assert log.path == root / POINTS
    assert [p.get("point_key") for p in log.points] == [None, "b"]
    assert log.torn_line is None


def test_read_points_torn_last_line(tmp_path) -> None:
    root = store(tmp_path, f"{point('a')}\n\n{point('b')[:15]}")
    log = read_points(root)
    assert [p["point_key"] for p in log.points] == ["a"]
    assert log.torn_line == 3
    # a complete last object without its newline is a point, not a torn line
    root = store(tmp_path, f"{point('a')}\n{point('b')}")
    log = read_points(root)
    assert [p["point_key"] for p in log.points] == ["a", "b"] and log.torn_line is None
    # bytes cut inside a UTF-8 character are torn too
    root = store(tmp_path, point("a").encode() + b'\n{"model": "\xc3')
    assert read_points(root).torn_line == 2


@pytest.mark.parametrize("manifest", [False, True])
@pytest.mark.parametrize(
    ("content", "pattern"),
    [
        (
            '{"point_key": "a"}\nnot json at all\n{"point_key": "c"}\n',
            r"line 2 of .*points\.jsonl is not valid JSON.*corrupted.*does not overwrite",
        ),
        (b'{"point_key": "a"}\n\xff\n', r"line 2 of .*is not valid JSON"),
        ('{"point_key": "a"}\n[1, 2, 3]\n', r"line 2 of .* is a JSON list, not an object"),
        ('{"point_key": "a"}\n7', r"line 2 of .* is a JSON int, not an object"),
        (
            '{"point_key": "a"}\n\n{"point_key": "a"}\n',
            r"point 'a' appears twice.*stored twice, at lines 1 and 3",
        ),
    ],
)
def test_read_points_errors_with_or_without_manifest(tmp_path, content, pattern, manifest) -> None:
    root = store(tmp_path, content, manifest=manifest)
    before = (root / POINTS).read_bytes()
    with pytest.raises(StoreError, match=pattern) as info:
        read_points(root)
    assert (root / POINTS).read_bytes() == before  # never modified
    # read_measurements applies the same rules, with the same message
    with pytest.raises(MeasurementError) as same:
        read_measurements(root)
    assert str(same.value) == str(info.value)


def test_point_key_is_required_only_with_a_manifest(tmp_path) -> None:
    content = f"{point('a')}\n{point()}\n{point(key=None, point_key=3)}\n"
    root = store(tmp_path, content)
    assert len(read_points(root).points) == 3  # a bare log: keys are optional
    (root / MANIFEST).write_text(json.dumps(MANIFEST_OK))
    with pytest.raises(
        StoreError, match=r"line 2 of .* is not a sweetspot point \(no 'point_key'\)"
    ):
        read_points(root)


def test_read_points_without_a_log(tmp_path) -> None:
    root = tmp_path / "d"
    root.mkdir()
    with pytest.raises(StoreError, match=r"not a sweetspot measurement store.*directory is empty"):
        read_points(root)
    (root / "notes.txt").write_text("x")
    with pytest.raises(StoreError, match=r"no points\.jsonl \(found \['notes\.txt'\]\)"):
        read_points(root)
    (root / MANIFEST).write_text(json.dumps(MANIFEST_OK))
    with pytest.raises(StoreError, match=r"has a manifest but no points\.jsonl; it is damaged"):
        read_points(root)
    with pytest.raises(MeasurementError, match="it is damaged"):
        read_measurements(root)


def test_read_manifest(tmp_path) -> None:
    with pytest.raises(StoreError, match=r"has no manifest\.json"):
        read_manifest(tmp_path)
    (tmp_path / MANIFEST).write_text(json.dumps({**MANIFEST_OK, "sweep": {"n_in": [1]}}))
    assert read_manifest(tmp_path)["sweep"] == {"n_in": [1]}
    for text, pattern in [
        ("{broken", "is corrupted"),
        ("[1]", r"not written by sweetspot \(format 'list'"),
        ('{"format": "other-tool"}', "not written by sweetspot"),
        (json.dumps({**MANIFEST_OK, "version": 99}), "store version 99"),
    ]:
        (tmp_path / MANIFEST).write_text(text)
        with pytest.raises(StoreError, match=pattern):
            read_manifest(tmp_path)


def test_json_ready() -> None:
    import numpy as np

    assert json_ready({"a": (1.0, math.inf), "b": np.float64(2.5), 3: [math.nan]}) == {
        "a": [1.0, None],
        "b": 2.5,
        "3": [None],
    }


# --------------------------------------------------------------------------- hostile logs


def test_a_long_line_is_refused_without_reading_it_whole(tmp_path, monkeypatch) -> None:
    from sweetspot.io import store

    monkeypatch.setattr(store, "MAX_LINE_BYTES", 1000)
    (tmp_path / POINTS).write_text(
        '{"n_in": 1, "n_out": 1, "energy_j": 1}\n{"x": "' + "a" * 5000 + '"}\n'
    )
    with pytest.raises(StoreError, match=r"line 2 of .*longer than .* a point is a few kB"):
        read_points(tmp_path)
    with pytest.raises(MeasurementError, match=r"line 2 of .*longer than"):
        read_measurements(tmp_path)
    (tmp_path / POINTS).write_text('{"x": "' + "a" * 5000)  # also a torn one
    with pytest.raises(StoreError, match=r"line 1 of .*longer than"):
        read_points(tmp_path)


def test_deeply_nested_or_huge_numbers_are_corrupted_lines(tmp_path) -> None:
    (tmp_path / POINTS).write_text('{"x": ' + "[" * 100_000 + "]" * 100_000 + "}\n")
    with pytest.raises(StoreError, match=r"line 1 of .*not valid JSON \(nested thousands"):
        read_points(tmp_path)
    (tmp_path / POINTS).write_text('{"n_in": ' + "9" * 5000 + "}\n")
    with pytest.raises(StoreError, match=r"line 1 of .*not valid JSON \(Exceeds the limit"):
        read_points(tmp_path)


def test_hostile_manifests(tmp_path, monkeypatch) -> None:
    from sweetspot.io import store

    (tmp_path / POINTS).write_text("")
    (tmp_path / MANIFEST).write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(StoreError, match=r"manifest\.json is corrupted \(JSON nested"):
        read_manifest(tmp_path)
    (tmp_path / MANIFEST).write_text(json.dumps({"format": STORE_FORMAT, "version": 1}))
    monkeypatch.setattr(store, "MAX_MANIFEST_BYTES", 10)
    with pytest.raises(StoreError, match=r"corrupted \(larger than"):
        read_manifest(tmp_path)


def test_store_labels_and_values_are_what_the_log_says(tmp_path) -> None:
    points = [
        {"n_in": 64, "n_out": 8, "energy_j": 1.5, "model": "1.10", "note": "None"},
        {"n_in": 128, "n_out": 8, "energy_j": 2.5, "model": "007", "note": None},
    ]
    (tmp_path / POINTS).write_text("".join(json.dumps(p) + "\n" for p in points))
    df = read_measurements(tmp_path)
    assert df["model"].tolist() == ["1.10", "007"]
    assert df["note"].tolist()[0] == "None" and df["note"].isna().tolist() == [False, True]
