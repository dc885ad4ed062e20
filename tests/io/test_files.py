"""Tests of the readers' file guards and of the schema's kinds and bounds (sweetspot.io._files,
sweetspot.io._schema): labels kept as written, compressed files, archives, pipes, bounds on
lines, streams, JSON and Parquet, wrong-kind columns, upper bounds on lengths."""

from __future__ import annotations

import bz2
import gzip
import lzma
import os
import subprocess
import sys
import tarfile
import threading
import zipfile

import numpy as np
import pandas as pd
import pytest

from sweetspot.exceptions import DependencyError, MeasurementError
from sweetspot.io import MAX_TOKENS, _files, read_measurements, validate_measurements

GRID = "n_in,n_out,energy_j\n64,64,10.5\n128,64,20.25\n"

# --------------------------------------------------------------------------- labels


def test_labels_are_read_as_written(tmp_path) -> None:
    path = tmp_path / "a.csv"
    path.write_text(
        "n_in,n_out,energy_j,model,gpu,engine,dtype,prompt\n"
        "1,1,1,1.1,100,1e3,16,007\n"
        "2,2,2,1.10,100.0,2,016,A\n"
    )
    df = read_measurements(path)
    assert df["model"].tolist() == ["1.1", "1.10"]
    assert df["gpu"].tolist() == ["100", "100.0"]
    assert df["engine"].tolist() == ["1e3", "2"]
    assert df["dtype"].tolist() == ["16", "016"]
    assert df["prompt"].tolist() == ["007", "A"]
    assert df.groupby("model").ngroups == 2  # 1.1 and 1.10 are two models


def test_labels_keep_spaces_and_na_text_but_not_empty_cells(tmp_path) -> None:
    path = tmp_path / "a.csv"
    path.write_text("n_in,n_out,energy_j,model\n1,1,1, llama \n2,2,2,NA\n3,3,3,None\n")
    assert read_measurements(path)["model"].tolist() == [" llama ", "NA", "None"]
    path.write_text("n_in,n_out,energy_j,model\n1,1,1,\n")
    with pytest.raises(MeasurementError, match="model must be a text label"):
        read_measurements(path)


def test_column_map_targets_and_identifier_columns_are_text(tmp_path) -> None:
    path = tmp_path / "a.csv"
    path.write_text("n_in,n_out,energy_j,llm,run_id,python_version,step\n1,1,1,1.10,007,3.10,7\n")
    df = read_measurements(path, column_map={"llm": "model"})
    assert df["model"].tolist() == ["1.10"]
    assert df["run_id"].tolist() == ["007"] and df["python_version"].tolist() == ["3.10"]
    assert df["step"].tolist() == [7]  # other extra columns: numbers stay numbers


def test_extra_columns_keep_none_and_na_text(tmp_path) -> None:
    path = tmp_path / "a.csv"
    path.write_text("n_in,n_out,energy_j,note,x\n1,1,1,None,\n2,2,2,NA,1.5\n3,3,3,null,2\n")
    df = read_measurements(path)
    assert df["note"].tolist() == ["None", "NA", "null"]
    assert np.isnan(df["x"].iloc[0]) and df["x"].tolist()[1:] == [1.5, 2.0]


def test_missing_spellings_in_numeric_schema_columns_are_missing(tmp_path) -> None:
    path = tmp_path / "a.csv"
    path.write_text("n_in,n_out,energy_j\n64,64,NA\n")
    with pytest.raises(MeasurementError, match=r"energy_j .*missing value.*row 0"):
        read_measurements(path)


def test_numbers_are_read_exactly(tmp_path) -> None:
    values = [
        "0.1",
        "2.2250738585072014e-308",
        "1e-320",
        "123456.78901234567",
        "1.7976931348623157e308",
    ]
    path = tmp_path / "a.csv"
    path.write_text("n_in,n_out,energy_j\n" + "".join(f"64,64,{v}\n" for v in values))
    assert read_measurements(path)["energy_j"].tolist() == [float(v) for v in values]


# --------------------------------------------------------------------------- compressed files


def _compressed(path, kind: str, data: bytes) -> None:
    if kind == "gz":
        path.write_bytes(gzip.compress(data))
    elif kind == "bz2":
        path.write_bytes(bz2.compress(data))
    elif kind == "xz":
        path.write_bytes(lzma.compress(data))
    elif kind == "zip":
        with zipfile.ZipFile(path, "w") as z:
            z.writestr("a.csv", data)
    else:
        inner = path.parent / "inner.csv"
        inner.write_bytes(data)
        with tarfile.open(path, "w:gz" if kind == "tar.gz" else "w") as t:
            t.add(inner, arcname="a.csv")
        inner.unlink()


@pytest.mark.parametrize("kind", ["gz", "bz2", "xz", "zip", "tar", "tar.gz"])
def test_compressed_files_are_read(tmp_path, kind: str) -> None:
    path = tmp_path / f"a.csv.{kind}"
    _compressed(path, kind, GRID.encode())
    df = read_measurements(path)
    assert df["energy_j"].tolist() == [10.5, 20.25]


@pytest.mark.parametrize("kind", ["gz", "bz2", "xz", "zip", "tar"])
def test_long_lines_inside_compressed_files_are_refused(tmp_path, kind, monkeypatch) -> None:
    monkeypatch.setattr(_files, "MAX_LINE_BYTES", 1000)
    path = tmp_path / f"a.csv.{kind}"
    _compressed(path, kind, b"n_in,n_out,energy_j\n64,64," + b"9" * 5000 + b"\n")
    with pytest.raises(MeasurementError, match=r"line 2 is longer than"):
        read_measurements(path)


def test_line_guard_counts_lines_across_chunks() -> None:
    guard = _files._LineGuard("f", 10)
    for chunk in (b"abc\nabcdefg", b"hij\n", b"x\r\ny\n", b"0123456789"):
        guard.feed(chunk)
    assert guard.line == 5
    with pytest.raises(MeasurementError, match="line 5 is longer"):
        guard.feed(b"a")


def test_decompression_bombs_and_huge_streams_are_refused(tmp_path, monkeypatch) -> None:
    path = tmp_path / "a.csv.gz"
    path.write_bytes(gzip.compress(b"n_in,n_out,energy_j\n" + b"64,64,1\n" * 200_000))
    monkeypatch.setattr(_files, "_EXPANSION_FLOOR", 1 << 16)
    with pytest.raises(MeasurementError, match=r"expands more than 100 times.*bomb"):
        read_measurements(path)
    monkeypatch.setattr(_files, "_EXPANSION_FLOOR", 1 << 30)
    monkeypatch.setattr(_files, "MAX_STREAM_BYTES", 1 << 16)
    with pytest.raises(MeasurementError, match=r"more than 0.0625 MiB of text once decompressed"):
        read_measurements(path)


@pytest.mark.parametrize(
    ("name", "content", "error", "match"),
    [
        ("a.csv.zip", b"PK\x03\x04garbage", MeasurementError, r"corrupt zip file"),
        ("a.csv.gz", gzip.compress(GRID.encode())[:25], MeasurementError, r"corrupt gzip"),
        ("a.csv.bz2", b"BZh9garbage", MeasurementError, r"corrupt bz2"),
        ("a.csv.xz", b"garbage", MeasurementError, r"corrupt xz"),
        ("a.csv.tar", b"garbage" * 100, MeasurementError, r"corrupt tar"),
        ("a.csv.zst", b"(\xb5/\xfd", DependencyError, r"pip install zstandard"),
    ],
)
def test_corrupt_archives_are_library_errors(tmp_path, name, content, error, match) -> None:
    try:
        import zstandard  # noqa: F401
    except ImportError:
        pass
    else:
        if name.endswith(".zst"):
            error, match = MeasurementError, "corrupt zstd"
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(error, match=match):
        read_measurements(path)


def test_an_archive_must_hold_one_file(tmp_path) -> None:
    path = tmp_path / "a.csv.zip"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("a.csv", GRID)
        z.writestr("b.csv", GRID)
        z.writestr("__MACOSX/._a.csv", "x")  # bookkeeping of macOS, ignored
    with pytest.raises(MeasurementError, match=r"zip archive holding 2 files \('a.csv', 'b.csv'\)"):
        read_measurements(path)


# --------------------------------------------------------------------------- pipes


def test_a_pipe_is_read_whole(tmp_path) -> None:
    code = (
        "import warnings, sweetspot as ss; warnings.simplefilter('ignore'); "
        "print(ss.read_measurements('/dev/stdin', format='csv')['energy_j'].tolist())"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], input=GRID.encode(), capture_output=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.decode().strip() == "[10.5, 20.25]"


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are POSIX")
def test_a_named_pipe_is_read_once(tmp_path) -> None:
    fifo = tmp_path / "data.csv"
    os.mkfifo(fifo)

    def writer() -> None:
        with open(fifo, "wb") as fh:
            fh.write(GRID.encode())

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        df = read_measurements(fifo)
    finally:
        thread.join(timeout=30)
    assert df["n_in"].tolist() == [64, 128]


# --------------------------------------------------------------------------- paths, JSON, Parquet


def test_paths_the_system_cannot_look_up(tmp_path) -> None:
    with pytest.raises(MeasurementError, match="cannot look up the path"):
        read_measurements(tmp_path / ("a" * 5000 + ".csv"))
    with pytest.raises(MeasurementError, match=r"No such file|cannot look up"):
        read_measurements(str(tmp_path / "a\x00b.csv"))


def test_json_guards(tmp_path, monkeypatch) -> None:
    path = tmp_path / "a.json"
    path.write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(MeasurementError, match="nested too deeply"):
        _files._read_json(path, "a.json", what="a report")
    path.write_text('{"a": NaN}')
    with pytest.raises(MeasurementError, match="NaN is not valid JSON"):
        _files._read_json(path, "a.json", what="a report")
    path.write_text('{"a": ' + "9" * 5000 + "}")
    with pytest.raises(MeasurementError, match="not valid JSON"):
        _files._read_json(path, "a.json", what="a report")
    path.write_text('{"a": 1}')
    assert _files._read_json(path, "a.json", what="a report", limit=8) == {"a": 1}
    with pytest.raises(MeasurementError, match=r"larger than .* not read it whole"):
        _files._read_json(path, "a.json", what="a report", limit=4)


def test_parquet_footer_bound(tmp_path, monkeypatch) -> None:
    path = tmp_path / "a.parquet"
    pd.DataFrame({"n_in": [64] * 100, "n_out": [64] * 100, "energy_j": 1.0}).to_parquet(path)
    assert len(read_measurements(path)) == 100
    monkeypatch.setattr(_files, "MAX_PARQUET_BYTES", 10)
    with pytest.raises(MeasurementError, match=r"uncompressed data \(100 rows.*Stream it"):
        read_measurements(path)


# --------------------------------------------------------------------------- kinds and bounds


@pytest.mark.parametrize(
    ("column", "match"),
    [
        (pd.to_datetime([1, 2]), r"dtype datetime64\[ns\] holding dates and times"),
        (pd.to_datetime([1, 2]).tz_localize("UTC"), r"holding dates and times"),
        (pd.to_timedelta([1, 2]), r"holding durations"),
        (pd.period_range("2000", periods=2, freq="D"), r"holding periods"),
        (pd.interval_range(0, 2), r"holding intervals"),
        (pd.Categorical([64, 128]), r"holding categories"),
        (np.array([1 + 0j, 2]), r"holding complex numbers"),
        (np.array([64, pd.Timestamp("2024-01-01")], dtype=object), r"Timestamp.*in row 1"),
        (np.array([64, pd.Timedelta(1)], dtype=object), r"Timedelta.*in row 1"),
        (np.array([64, 1 + 0j], dtype=object), r"\(1\+0j\) in row 1"),
        (np.array([64, b"64"], dtype=object), r"b'64' in row 1"),
        (np.array([64, [64]], dtype=object), r"\[64\] in row 1"),
        (np.array([64, True], dtype=object), r"boolean True in row 1"),
    ],
)
def test_wrong_kind_length_columns_are_refused(column, match) -> None:
    frame = pd.DataFrame({"n_in": column, "n_out": [1, 2], "energy_j": [1.0, 2.0]})
    with pytest.raises(MeasurementError, match=r"n_in must be a positive whole number.*" + match):
        validate_measurements(frame)


def test_real_number_kinds_are_accepted() -> None:
    from decimal import Decimal
    from fractions import Fraction

    frame = pd.DataFrame(
        {
            "n_in": np.array([64, 128], dtype=np.uint16),
            "n_out": pd.array([1, 2], dtype="Int64"),
            "energy_j": np.array([Decimal("1.5"), Fraction(5, 2)], dtype=object),
            "time_s": np.array([1, 2], dtype=np.float32),
        }
    )
    df = validate_measurements(frame)
    assert df["n_in"].tolist() == [64, 128] and df["energy_j"].tolist() == [1.5, 2.5]


def test_labels_that_are_not_text_are_refused() -> None:
    frame = pd.DataFrame({"n_in": [64], "n_out": [1], "energy_j": [1.0], "model": [b"llama"]})
    with pytest.raises(MeasurementError, match=r"model must be a text label.*b'llama'"):
        validate_measurements(frame)
    frame["model"] = [7]  # a number as a label is its text
    assert validate_measurements(frame)["model"].tolist() == ["7"]


def test_lengths_above_max_tokens_are_refused(tmp_path) -> None:
    frame = pd.DataFrame({"n_in": [MAX_TOKENS, MAX_TOKENS + 1], "n_out": 1, "energy_j": 1.0})
    with pytest.raises(
        MeasurementError,
        match=r"n_in must be a positive whole number \[tokens\] no larger than 10,000,000; got "
        r"10000001 in row 1",
    ):
        validate_measurements(frame)
    assert len(validate_measurements(frame.iloc[:1])) == 1


def test_integers_from_two_to_the_53_are_refused(tmp_path) -> None:
    # 2**53 + 1 reads as 2**53 in float64: refused, never silently rounded
    path = tmp_path / "a.csv"
    path.write_text("n_in,n_out,energy_j,batch_size\n64,64,1,9007199254740993\n")
    with pytest.raises(MeasurementError, match=r"batch_size .*below 2\*\*53; got 9007199254740993"):
        read_measurements(path)
    frame = pd.DataFrame({"n_in": [64], "n_out": [64], "energy_j": [1.0], "n_requests": [2**53]})
    with pytest.raises(MeasurementError, match="n_requests"):
        validate_measurements(frame)
