"""Tests of sweetspot.io.request_mix: the requests of a workload (Azure trace or CSV).

The `sweetspot workload` command reads its --trace with read_request_mix; its own tests
(output, policies, one-line errors) are in the CLI tests.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sweetspot.exceptions import MeasurementError
from sweetspot.io import read_azure_trace, read_request_mix


@pytest.fixture()
def trace_csv(tmp_path) -> str:
    rng = np.random.default_rng(0)
    path = tmp_path / "mix.csv"
    pd.DataFrame(
        {"n_in": rng.integers(16, 4000, 300), "n_out": rng.integers(16, 2000, 300)}
    ).to_csv(path, index=False)
    return str(path)


def test_csv(trace_csv) -> None:
    mix = read_request_mix(trace_csv)
    raw = pd.read_csv(trace_csv)
    assert list(mix.columns) == ["n_in", "n_out"]
    assert mix["n_in"].dtype == mix["n_out"].dtype == np.int64
    np.testing.assert_array_equal(mix["n_in"], raw["n_in"])
    np.testing.assert_array_equal(mix["n_out"], raw["n_out"])
    assert mix.attrs["source"] == trace_csv
    assert mix.attrs["notes"] == ["read 300 requests (n_in, n_out) from a CSV"]


def test_csv_lengths_first_other_columns_kept(tmp_path) -> None:
    path = tmp_path / "m.csv"
    path.write_text("user,n_out,n_in\nada,5.0,10\nbob,7,3\n")
    mix = read_request_mix(path)
    assert list(mix.columns) == ["n_in", "n_out", "user"]
    assert mix["n_out"].tolist() == [5, 7] and mix["n_out"].dtype == np.int64
    assert mix["user"].tolist() == ["ada", "bob"]


@pytest.mark.parametrize(
    ("content", "match"),
    [
        ("a,b\n1,2\n", "has no column(s) n_in, n_out"),
        ("n_in,n_out\n", "has no requests"),
        ("n_in,n_out\n10,5\n0,4\n", "n_in must be a whole number >= 1"),
        ("n_in,n_out\n10,5\n7,x\n", "got 'x' in row 1"),
    ],
)
def test_errors(tmp_path, content: str, match: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(content)
    with pytest.raises(MeasurementError) as info:
        read_request_mix(str(path))
    assert match in str(info.value)


def test_error_messages_in_full(tmp_path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("n_in,n_out\n10,5\nx,4\n,1\n")
    with pytest.raises(MeasurementError) as info:
        read_request_mix(str(path))
    assert str(info.value) == (
        f"n_in must be a whole number >= 1 in every row of {path}; got 'x' in row 1 "
        "(2 bad rows). Correct or remove those rows."
    )
    path.write_text("a,b\n1,2\n")
    with pytest.raises(MeasurementError) as info:
        read_request_mix(str(path))
    assert str(info.value) == (
        f"{path} has no column(s) n_in, n_out (found a, b). Expected an Azure trace "
        "(ContextTokens, GeneratedTokens) or a CSV with n_in and n_out."
    )


def test_missing_trace() -> None:
    with pytest.raises(MeasurementError) as info:
        read_request_mix("nope.csv")
    assert str(info.value) == (
        "trace file 'nope.csv' not found; pass an Azure LLM inference trace CSV or a CSV with "
        "columns n_in, n_out."
    )


def test_unparseable_csv(tmp_path) -> None:
    path = tmp_path / "e.csv"
    path.write_text("")
    with pytest.raises(MeasurementError, match=r"e\.csv is empty"):
        read_request_mix(path)


def test_boolean_lengths_are_not_token_counts(tmp_path) -> None:
    path = tmp_path / "b.csv"
    path.write_text("n_in,n_out\nTrue,True\n")
    with pytest.raises(ValueError, match="n_in must be a positive integer"):
        read_request_mix(path)


def test_azure_synthetic(tmp_path) -> None:
    path = tmp_path / "t.csv"
    path.write_text(
        "TIMESTAMP,ContextTokens,GeneratedTokens\n"
        "2024-02-03 04:05:06.1234567,100,10\n2024-02-03 04:05:07.0000000,5,1\n"
    )
    mix = read_request_mix(path)
    pd.testing.assert_frame_equal(mix, read_azure_trace(path))
    assert mix.attrs["source"] == str(path)
    assert "n_in <- 'ContextTokens'" in mix.attrs["notes"][0]


@pytest.mark.shared_data
@pytest.mark.parametrize(("name", "rows"), [("code", 8819), ("conv", 19366)])
def test_azure_real_traces(azure_dir, name: str, rows: int) -> None:
    mix = read_request_mix(azure_dir / f"AzureLLMInferenceTrace_{name}.csv")
    assert len(mix) == rows  # SOURCE.md
    assert list(mix.columns[:2]) == ["n_in", "n_out"]
    assert mix["n_in"].dtype == mix["n_out"].dtype == np.int64
    assert (mix["n_in"] >= 1).all() and (mix["n_out"] >= 1).all()


def test_hostile_request_mixes(tmp_path) -> None:
    path = tmp_path / "m.csv"
    path.write_text("n_in,n_out,user\n20000000,1,a\n")
    with pytest.raises(MeasurementError, match=r"n_in must be at most 10,000,000 tokens"):
        read_request_mix(path)
    path.write_text("n_in,n_out,user,run_id\n64,1,None,007\n")
    mix = read_request_mix(path)
    assert mix["user"].tolist() == ["None"] and mix["run_id"].tolist() == ["007"]
    path.write_text("TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:15:46,20000000,1\n")
    with pytest.raises(MeasurementError, match=r"ContextTokens.*no larger than 10,000,000"):
        read_request_mix(path)
    with pytest.raises(MeasurementError, match="expects a path"):
        read_request_mix(123)  # type: ignore[arg-type]
    gz = tmp_path / "m.csv.gz"
    import gzip

    gz.write_bytes(gzip.compress(b"n_in,n_out\n64,8\n"))
    assert read_request_mix(gz)["n_in"].tolist() == [64]
