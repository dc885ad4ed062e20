"""Tests of sweetspot.io.parquet: Parquet datasets read batch by batch, validated.

The streamed fits built on it (and more error paths) are tested in tests/fitting/test_stream.py.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sweetspot.exceptions import MeasurementError
from sweetspot.io.parquet import (
    PARQUET_SUFFIXES,
    ParquetBatch,
    ParquetDataset,
    parquet_rows,
    should_stream,
)

pytest.importorskip("pyarrow")


def frame(n: int, start: int = 0) -> pd.DataFrame:
    i = np.arange(start, start + n)
    return pd.DataFrame(
        {"n_in": 16 + i, "n_out": 8 + i % 5, "energy_j": 1.0 + i, "note": [f"r{k}" for k in i]}
    )


def dataset(root: Path) -> Path:
    """Two hive partitions: 5 rows (row groups of 2) and 3 rows; bookkeeping files skipped."""
    (root / "model=a").mkdir(parents=True)
    (root / "model=b").mkdir()
    frame(5).to_parquet(root / "model=a" / "part-0.parquet", row_group_size=2)
    frame(3, 5).to_parquet(root / "model=b" / "part-0.pq")
    (root / "_SUCCESS").write_text("")
    return root


def test_open_reads_the_footers(tmp_path) -> None:
    root = dataset(tmp_path / "ds")
    data = ParquetDataset.open(root)
    assert data.label == str(root)
    assert [f.relative_to(root).as_posix() for f in data.files] == [
        "model=a/part-0.parquet",
        "model=b/part-0.pq",
    ]
    assert data.file_rows == (5, 3) and data.n_rows == 8 == parquet_rows(root)
    assert data.columns == ("n_in", "n_out", "energy_j", "note", "model")
    assert data.partitions == ({"model": "a"}, {"model": "b"})
    assert PARQUET_SUFFIXES == (".parquet", ".pq")
    assert should_stream(root)


def test_batches_are_numbered_within_file_and_dataset(tmp_path) -> None:
    data = ParquetDataset.open(dataset(tmp_path / "ds"))
    batches = list(data.batches(3))
    assert all(isinstance(b, ParquetBatch) for b in batches)
    # a batch never spans two files
    assert [(b.file.parent.name, b.first_row_in_file, b.first_row_in_dataset) for b in batches] == [
        ("model=a", 0, 0),
        ("model=a", 3, 3),
        ("model=b", 0, 5),
    ]
    assert [len(b.frame) for b in batches] == [3, 2, 3]
    whole = pd.concat([b.frame for b in batches], ignore_index=True)
    assert whole["n_in"].tolist() == list(range(16, 24))
    assert whole["n_in"].dtype == np.int64 and whole["n_requests"].tolist() == [1] * 8
    assert whole["model"].tolist() == ["a"] * 5 + ["b"] * 3
    file, first, start, df = batches[1]  # unpacks like a tuple
    assert (first, start, len(df)) == (3, 3, 2)
    assert df.attrs["source"] == str(file)


def test_batches_read_only_the_columns_asked_for(tmp_path) -> None:
    root = tmp_path / "ds"
    root.mkdir()
    raw = frame(4).rename(columns={"n_in": "Prompt Tokens", "energy_j": " Energy_J "})
    raw.to_parquet(root / "a.parquet")
    data = ParquetDataset.open(root)
    cmap = {"prompt tokens": "n_in", "note": "prompt"}
    full = next(iter(data.batches(10, column_map=cmap))).frame
    assert list(full.columns) == ["n_in", "n_out", "energy_j", "n_requests", "prompt"]
    some = next(iter(data.batches(10, column_map=cmap, columns={"n_in", "n_out", "energy_j"})))
    assert list(some.frame.columns) == ["n_in", "n_out", "energy_j", "n_requests"]
    pd.testing.assert_frame_equal(some.frame, full.drop(columns="prompt"))
    # a column asked for by its stored name
    by_name = next(
        iter(data.batches(10, column_map=cmap, columns={"n_in", "n_out", "energy_j", "note"}))
    )
    assert "prompt" in by_name.frame.columns


def test_a_bad_cell_names_the_file_and_its_row(tmp_path) -> None:
    root = tmp_path / "ds"
    root.mkdir()
    frame(4).to_parquet(root / "a.parquet")
    bad = frame(4, 4)
    bad.loc[2, "n_out"] = 0
    bad.to_parquet(root / "b.parquet")
    data = ParquetDataset.open(root)
    with pytest.raises(
        MeasurementError, match=r"n_out must be a positive whole number.*row 2 of .*b\.parquet"
    ):
        list(data.batches(3))


def test_open_errors(tmp_path) -> None:
    with pytest.raises(MeasurementError, match="No such file") as info:
        ParquetDataset.open(tmp_path / "missing")
    assert isinstance(info.value, FileNotFoundError)
    with pytest.raises(MeasurementError, match="given as a path"):
        ParquetDataset.open(frame(2))  # type: ignore[arg-type]
    (tmp_path / "store").mkdir()
    (tmp_path / "store" / "points.jsonl").write_text("{}\n")
    with pytest.raises(MeasurementError, match="is a sweetspot measurement store"):
        ParquetDataset.open(tmp_path / "store")
    assert not should_stream(tmp_path / "store")


def test_row_groups_too_large_for_a_batch_are_refused(tmp_path, monkeypatch) -> None:
    from sweetspot.io import parquet

    path = tmp_path / "a.parquet"
    pd.DataFrame({"n_in": [64] * 100, "n_out": [64] * 100, "energy_j": 1.0}).to_parquet(path)
    assert ParquetDataset.open(path).n_rows == 100
    monkeypatch.setattr(parquet, "MAX_PARQUET_BYTES", 10)
    with pytest.raises(MeasurementError, match=r"row group of .* GiB .*smaller row groups"):
        ParquetDataset.open(path)
