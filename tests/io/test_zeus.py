"""Tests of sweetspot.io.zeus: the log CSV of Zeus' ZeusMonitor(log_file=...)."""

from __future__ import annotations

from pathlib import Path

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
    with pytest.raises(MeasurementError, match="missing, infinite or not positive"):
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


def _log(tmp_path, window: str, energy: str = "100.0", start: str = "1.5"):
    path = tmp_path / "zeus.csv"
    path.write_text(
        f'start_time,window_name,elapsed_time,gpu0_energy\n{start},"{window}",2.0,{energy}\n'
    )
    return path


@pytest.mark.parametrize(
    ("window", "match"),
    [
        ("n_in=512 n_out=1k", r"n_out must be a whole number .* got '1k' in the window_name"),
        ("n_in=512.7 n_out=5", r"n_in .* got '512\.7'"),
        ("n_in=5e2 n_out=5", r"n_in .* got '5e2'"),
        ("n_in=-5 n_out=5", r"n_in .* got '-5'"),
        ("n_in=+5 n_out=5", r"n_in .* got '\+5'"),
        ("n_in=５ n_out=5", r"n_in .* got '５'"),
        ("n_in=512n_out=5", r"n_in .* got '512n_out'"),
        ("n_out=5 n_in=", r"n_in has no value in the window_name 'n_out=5 n_in='"),
        ("n_in=0 n_out=5", r"n_in must be a positive integer; got 0"),
        ("n_in=512 n_out=5 n_in=256", r"gives n_in 2 times with different values \(512, 256\)"),
        ("my_n_in=512 n_out=5", r"cannot tell n_in of row 0"),
    ],
)
def test_window_names_are_parsed_strictly(tmp_path, window, match) -> None:
    with pytest.raises(MeasurementError, match=match):
        read_zeus(_log(tmp_path, window))


@pytest.mark.parametrize(
    ("window", "lengths"),
    [
        ("n_in=512 n_out=5 n_in=512", (512, 5, 1)),
        ("N_IN : 007, n_out:5", (7, 5, 1)),
        ("x n_in=64|n_out=32|n_requests=4", (64, 32, 4)),
        ("my_n_in=1 n_in=2 n_out=3", (2, 3, 1)),
    ],
)
def test_window_names_that_are_clear(tmp_path, window, lengths) -> None:
    df = read_zeus(_log(tmp_path, window))
    assert tuple(int(df[c].iloc[0]) for c in ("n_in", "n_out", "n_requests")) == lengths


def test_window_patterns_capture_whole_numbers(tmp_path) -> None:
    path = _log(tmp_path, "in=512.7,out=5")
    with pytest.raises(MeasurementError, match=r"not a whole token: the pattern captured '512'"):
        read_zeus(path, window_pattern=r"in=(?P<n_in>\d+).*out=(?P<n_out>\d+)")
    path = _log(tmp_path, "in=5x out=5")
    with pytest.raises(MeasurementError, match=r"n_in .* got '5x'"):
        read_zeus(path, window_pattern=r"in=(?P<n_in>\S+) out=(?P<n_out>\d+)")
    path = _log(tmp_path, "512x128 256x128")
    with pytest.raises(
        MeasurementError, match=r"several places with different n_in \(512 and 256\)"
    ):
        read_zeus(path, window_pattern=r"(?P<n_in>\d+)x(?P<n_out>\d+)")
    path = _log(tmp_path, "run 1k: 512x128")
    with pytest.raises(MeasurementError, match="not a valid regular expression"):
        read_zeus(path, window_pattern=r"(?P<n_in>\d+")
    df = read_zeus(
        _log(tmp_path, "prefill-1024-decode-256"),
        window_pattern=r"prefill-(?P<n_in>\d+)-decode-(?P<n_out>\d+)",
    )
    assert (df["n_in"].iloc[0], df["n_out"].iloc[0]) == (1024, 256)


def test_length_constants_must_be_whole(tmp_path) -> None:
    path = _log(tmp_path, "anything")
    with pytest.raises(
        MeasurementError, match=r"n_in must be a whole number of tokens; got 512\.7"
    ):
        read_zeus(path, n_in=512.7, n_out=5)
    with pytest.raises(MeasurementError, match=r"n_out must be a whole number .* got str '5'"):
        read_zeus(path, n_in=5, n_out="5")  # type: ignore[arg-type]
    assert read_zeus(path, n_in=512.0, n_out=5)["n_in"].tolist() == [512]


def test_energies_and_start_times_are_numbers(tmp_path) -> None:
    with pytest.raises(MeasurementError, match=r"gpu0_energy .*Booleans are not numbers"):
        read_zeus(_log(tmp_path, "n_in=1 n_out=1", energy="True"))
    with pytest.raises(MeasurementError, match=r"gpu0_energy .*got the text 'x'"):
        read_zeus(_log(tmp_path, "n_in=1 n_out=1", energy="x"))
    with pytest.raises(MeasurementError, match="missing, infinite or not positive"):
        read_zeus(_log(tmp_path, "n_in=1 n_out=1", energy="inf"))
    with pytest.raises(MeasurementError, match=r"start_time must be unix seconds between"):
        read_zeus(_log(tmp_path, "n_in=1 n_out=1", start="1e300"))
    with pytest.raises(MeasurementError, match=r"start_time .*got the text 'yesterday'"):
        read_zeus(_log(tmp_path, "n_in=1 n_out=1", start="yesterday"))
    df = read_zeus(_log(tmp_path, "n_in=1 n_out=1", start=""))
    assert df["timestamp"].isna().all()  # a missing start time stays missing


# ------------------------------------------------------------------ issue 15, finding 4

FIXTURE = Path(__file__).parent / "fixtures" / "zeus" / "zeus_log.csv"


def test_finding_4_real_zeus_logs_with_unquoted_names_are_read() -> None:
    """Zeus writes ``f"{start_time},{key},{elapsed},..."``: a name with commas is not quoted."""
    assert '"' not in FIXTURE.read_text()  # as ZeusMonitor writes it
    df = read_zeus(FIXTURE)
    assert df["window_name"].tolist() == [
        "n_in=512,n_out=128,n_requests=10",
        "n_in=64,n_out=64,n_requests=10",
        "prefill n_in=1024 n_out=1",
    ]
    assert df[["n_in", "n_out", "n_requests"]].values.tolist() == [
        [512, 128, 10],
        [64, 64, 10],
        [1024, 1, 1],
    ]
    assert df["energy_j"].iloc[0] == pytest.approx(1603.2869999999966 + 1588.9500000000044)
    assert df["time_s"].iloc[0] == pytest.approx(5.213004112243652)
    assert any("rebuilt" in n for n in df.attrs["notes"])


def test_zeus_rows_quoted_by_a_csv_tool_still_read(tmp_path) -> None:
    path = tmp_path / "z.csv"
    path.write_text(ZEUS)  # the first row's name is quoted (re-saved by a CSV tool)
    assert read_zeus(path)["n_in"].tolist() == [512, 64]
    gz = tmp_path / "z.csv.gz"
    import gzip

    gz.write_bytes(gzip.compress(FIXTURE.read_bytes()))
    assert read_zeus(gz)["n_out"].tolist() == [128, 64, 1]
