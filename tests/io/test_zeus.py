"""Tests of sweetspot.io.zeus: the log CSV of Zeus' ZeusMonitor(log_file=...)."""

from __future__ import annotations

import pytest

from sweetspot import read_measurements
from sweetspot.exceptions import MeasurementError
from sweetspot.io import read_zeus

ZEUS = (
    "start_time,window_name,elapsed_time,gpu0_energy,gpu1_energy\n"
    '1700000000.5,"n_in=512,n_out=128,n_requests=10",5.2,800.0,790.5\n'
    "1700000010.0,n_in=64;n_out=64,2.0,100.0,99.0\n"
)


def test_zeus_log(tmp_path) -> None:
    path = tmp_path / "zeus.csv"
    path.write_text(ZEUS)
    df = read_zeus(path)
    assert df[["n_in", "n_out", "n_requests"]].values.tolist() == [[512, 128, 10], [64, 64, 1]]
    assert df["energy_j"].tolist() == [1590.5, 199.0]
    assert df["time_s"].tolist() == [5.2, 2.0]
    assert (df["n_gpus"] == 2).all()
    assert str(df["timestamp"].iloc[0]) == "2023-11-14 22:13:20.500000+00:00"
    assert df["energy_per_gpu_j"].iloc[1] == [100.0, 99.0]
    fixed = read_zeus(path, n_in=32, n_out=16, n_requests=4)
    assert fixed[["n_in", "n_out", "n_requests"]].values.tolist() == [[32, 16, 4]] * 2
    custom = tmp_path / "custom.csv"
    custom.write_text(
        "start_time,window_name,elapsed_time,gpu0_energy\n1.0,prefill-1024-decode-256,3.0,500\n"
    )
    df = read_zeus(custom, window_pattern=r"prefill-(?P<n_in>\d+)-decode-(?P<n_out>\d+)")
    assert (df["n_in"].iloc[0], df["n_out"].iloc[0]) == (1024, 256)
    assert read_measurements(path, format="zeus")["energy_j"].sum() == pytest.approx(1789.5)


def test_zeus_errors(tmp_path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("start_time,window_name,elapsed_time,gpu0_energy\n1.0,training,3.0,500\n")
    with pytest.raises(MeasurementError, match=r"cannot tell n_in of row 0.*'training'"):
        read_zeus(bad)
    with pytest.raises(MeasurementError, match="named groups"):
        read_zeus(bad, window_pattern=r"(\d+)")
    zero = tmp_path / "zero.csv"
    zero.write_text("start_time,window_name,elapsed_time,gpu0_energy\n1.0,n_in=1 n_out=1,3.0,0\n")
    with pytest.raises(MeasurementError, match="missing or not positive"):
        read_zeus(zero)
    other = tmp_path / "other.csv"
    other.write_text("a,b\n1,2\n")
    with pytest.raises(MeasurementError, match="not a Zeus log"):
        read_zeus(other)
    # read as a plain CSV, a Zeus log gets a hint
    with pytest.raises(MeasurementError, match="format='zeus'"):
        read_measurements(bad)
    with pytest.raises(MeasurementError, match="column_map is not used"):
        read_measurements(bad, format="zeus", column_map={"a": "n_in"})
    with pytest.raises(MeasurementError, match="reads a file"):
        import pandas as pd

        read_measurements(pd.DataFrame({"n_in": [1]}), format="zeus")
