"""Tests of sweetspot.io.azure: the Azure LLM inference traces (2023).

Synthetic traces are written to tmp_path; the real traces are read at run time through the
fixture of conftest.py (skips without ../shared/data) and never copied here.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sweetspot.exceptions import MeasurementError
from sweetspot.io import read_azure_trace


def write_csv(path, text: str, encoding: str = "utf-8") -> str:
    path.write_bytes(text.encode(encoding))
    return str(path)


@pytest.mark.parametrize(
    ("name", "rows", "p10_p50"),
    [("code", 8819, (147, 1469, 7, 13)), ("conv", 19366, (207, 1020, 54, 129))],
)
def test_azure_real_traces(azure_dir, name, rows, p10_p50) -> None:
    df = read_azure_trace(azure_dir / f"AzureLLMInferenceTrace_{name}.csv")
    assert len(df) == rows  # SOURCE.md
    assert list(df.columns) == ["n_in", "n_out", "timestamp"]
    assert df["n_in"].dtype == df["n_out"].dtype == np.int64
    assert pd.api.types.is_datetime64_any_dtype(df["timestamp"])
    assert df["timestamp"].is_monotonic_increasing
    assert (df["n_in"] >= 1).all() and (df["n_out"] >= 1).all()  # no zero-length requests
    quantiles = (*np.quantile(df["n_in"], [0.1, 0.5]), *np.quantile(df["n_out"], [0.1, 0.5]))
    assert quantiles == p10_p50  # SOURCE.md quantiles
    assert df.attrs["source"].endswith(f"{name}.csv")


AZURE_HEADER = "TIMESTAMP,ContextTokens,GeneratedTokens\n"


def test_azure_synthetic(tmp_path) -> None:
    body = "2024-02-03 04:05:06.1234567,100,10\n2024-02-03 04:05:07.0000000,5,1\n"
    df = read_azure_trace(write_csv(tmp_path / "t.csv", AZURE_HEADER + body))
    assert df["n_in"].tolist() == [100, 5]
    assert df["timestamp"].iloc[0] == pd.Timestamp("2024-02-03 04:05:06.1234567")
    assert "n_in <- 'ContextTokens'" in df.attrs["notes"][0]


def test_azure_zero_length_requests_are_errors(tmp_path) -> None:
    body = "2024-02-03 04:05:03.9,100,10\n2024-02-03 04:05:04.0,5,0\n2024-02-03 04:05:05.0,5,0\n"
    path = write_csv(tmp_path / "t.csv", AZURE_HEADER + body)
    with pytest.raises(
        MeasurementError, match=r"n_out \(column 'GeneratedTokens'\).*got 0 in row 1 .*2 bad rows"
    ):
        read_azure_trace(path)


def test_azure_errors(tmp_path) -> None:
    path = write_csv(tmp_path / "a.csv", "TIMESTAMP,ContextTokens\n2024-02-03 04:05:03.9,1\n")
    with pytest.raises(
        MeasurementError, match=r"missing the Azure trace column.*'GeneratedTokens'"
    ):
        read_azure_trace(path)
    path = write_csv(tmp_path / "b.csv", AZURE_HEADER + "yesterday,1,1\n")
    with pytest.raises(
        MeasurementError, match=r"timestamp \(column 'TIMESTAMP'\).*'yesterday'.*row 0"
    ):
        read_azure_trace(path)
    path = write_csv(tmp_path / "c.csv", AZURE_HEADER)
    with pytest.raises(MeasurementError, match="no data rows"):
        read_azure_trace(path)
    with pytest.raises(MeasurementError, match=r"is a directory.*'a\.csv', 'b\.csv', 'c\.csv'"):
        read_azure_trace(tmp_path)
    with pytest.raises(MeasurementError, match="expects a path"):
        read_azure_trace(123)  # type: ignore[arg-type]
