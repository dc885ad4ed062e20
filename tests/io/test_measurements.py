"""Tests of sweetspot.io.measurements and the schema: read_measurements, validate_measurements.

Synthetic files are written to tmp_path; every error path has its message checked.
"""

from __future__ import annotations

import errno
import re
import sys

import numpy as np
import pandas as pd
import pytest
from grids import assert_schema_frame, write_csv
from hypothesis import given, settings
from hypothesis import strategies as st

from sweetspot.exceptions import DependencyError, MeasurementError
from sweetspot.io import (
    SCHEMA_OPTIONAL,
    SCHEMA_REQUIRED,
    read_azure_trace,
    read_measurements,
    read_wilkins,
    validate_measurements,
)


def grid(n: int = 4) -> pd.DataFrame:
    """A small valid measurement frame with a few optional columns and one extra column."""
    rng = np.random.default_rng(0)
    return pd.DataFrame(
        {
            "n_in": 64 * np.arange(1, n + 1),
            "n_out": 32 * np.arange(1, n + 1),
            "energy_j": rng.uniform(10.0, 500.0, n),
            "model": ["opt-1.3b"] * n,
            "time_s": rng.uniform(1.0, 5.0, n),
            "note": [f"cell {i}" for i in range(n)],
        }
    )


# --------------------------------------------------------------------------- round trips


def test_frame_round_trip_is_a_fresh_copy() -> None:
    raw = grid()
    before = raw.copy()
    df = read_measurements(raw)
    assert_schema_frame(df)
    pd.testing.assert_frame_equal(raw, before)  # input untouched
    assert list(df.columns) == [
        "n_in",
        "n_out",
        "energy_j",
        "n_requests",
        "time_s",
        "model",
        "note",
    ]
    np.testing.assert_array_equal(df["energy_j"], raw["energy_j"])
    df.loc[0, "energy_j"] = -1.0
    assert raw.loc[0, "energy_j"] > 0
    assert df.attrs["source"] == "DataFrame"


def test_validate_is_idempotent_and_keeps_source() -> None:
    once = read_measurements(grid())
    once.attrs["source"] = "lab.csv"
    twice = validate_measurements(once)
    pd.testing.assert_frame_equal(once, twice)
    assert twice.attrs == once.attrs
    assert validate_measurements(grid(), source="mine").attrs["source"] == "mine"
    assert validate_measurements(grid()).attrs["source"] == "data"


def test_csv_round_trip(tmp_path) -> None:
    raw = grid()
    path = tmp_path / "m.csv"
    raw.to_csv(path, index=False)
    df = read_measurements(path)
    assert_schema_frame(df)
    assert df.attrs["source"] == str(path)
    pd.testing.assert_frame_equal(df, read_measurements(raw), check_exact=False, rtol=1e-14)


def test_tsv_txt_and_gzip(tmp_path) -> None:
    raw = grid()
    expected = read_measurements(raw)
    raw.to_csv(tmp_path / "m.tsv", sep="\t", index=False)
    raw.to_csv(tmp_path / "m.txt", index=False)
    raw.to_csv(tmp_path / "m.csv.gz", index=False)
    for name in ("m.tsv", "m.txt", "m.csv.gz"):
        df = read_measurements(tmp_path / name)
        pd.testing.assert_frame_equal(df, expected, check_exact=False, rtol=1e-14)


def test_parquet_round_trip(tmp_path) -> None:
    raw = grid()
    raw["kv_cache"] = True
    raw["repeat"] = [0, 1, 0, 1]
    raw.to_parquet(tmp_path / "m.parquet")
    raw.to_parquet(tmp_path / "m.pq")
    expected = read_measurements(raw)
    for name in ("m.parquet", "m.pq"):
        df = read_measurements(tmp_path / name)
        pd.testing.assert_frame_equal(df, expected, check_dtype=False)
        assert df["kv_cache"].dtype == bool


@settings(max_examples=25, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(1, 1 << 20),
            st.integers(1, 1 << 20),
            st.floats(1e-6, 1e9, allow_nan=False, allow_infinity=False),
            st.integers(1, 512),
        ),
        min_size=1,
        max_size=20,
    )
)
def test_frame_round_trip_is_exact(rows) -> None:
    raw = pd.DataFrame(rows, columns=["n_in", "n_out", "energy_j", "n_requests"])
    df = validate_measurements(raw)
    for name in raw.columns:
        np.testing.assert_array_equal(df[name].to_numpy(), raw[name].to_numpy())


def test_every_optional_column_gets_its_dtype() -> None:
    values = {int: 2, float: 1.5, str: "x", bool: True}
    raw = pd.DataFrame(
        {"n_in": [8], "n_out": [8], "energy_j": [1.0]}
        | {name: [values[kind]] for name, kind in SCHEMA_OPTIONAL.items()}
    )
    df = validate_measurements(raw[list(raw.columns)[::-1]])  # any input order
    assert list(df.columns) == [*SCHEMA_REQUIRED, *SCHEMA_OPTIONAL]
    for name, kind in SCHEMA_OPTIONAL.items():
        dtype = df[name].dtype
        if kind is int:
            assert dtype == np.int64, name
        elif kind is float:
            assert dtype == np.float64, name
        elif kind is bool:
            assert dtype.kind == "b", name
        else:
            assert pd.api.types.is_string_dtype(dtype), name
    assert any("simulated" in n for n in df.attrs["notes"])


def test_bool_columns_accept_common_spellings(tmp_path) -> None:
    raw = grid(4)
    raw["kv_cache"] = ["yes", "False", 1, 0]
    df = validate_measurements(raw)
    assert df["kv_cache"].tolist() == [True, False, True, False]


# --------------------------------------------------------------------------- defaults, names


def test_n_requests_defaults_to_one_with_a_note() -> None:
    df = read_measurements(grid())
    assert (df["n_requests"] == 1).all()
    assert any("n_requests" in n and "set to 1" in n for n in df.attrs["notes"])
    raw = grid()
    raw["n_requests"] = 8
    df = read_measurements(raw)
    assert (df["n_requests"] == 8).all()
    assert not any("n_requests" in n for n in df.attrs["notes"])


def test_headers_are_case_insensitive_and_stripped(tmp_path) -> None:
    path = write_csv(tmp_path / "m.csv", " N_In ,N_OUT,Energy_J, Model\n16,32,5.5,opt\n")
    df = read_measurements(path)
    assert list(df.columns) == ["n_in", "n_out", "energy_j", "n_requests", "model"]
    assert df.loc[0, "energy_j"] == 5.5
    notes = " ".join(df.attrs["notes"])
    assert "' N_In '" in notes and "'Energy_J'" in notes and "' Model'" in notes


def test_utf8_bom_is_handled(tmp_path) -> None:
    path = tmp_path / "bom.csv"
    path.write_bytes(b"\xef\xbb\xbfn_in,n_out,energy_j\n1,2,3\n")
    df = read_measurements(path)
    assert list(df.columns[:3]) == ["n_in", "n_out", "energy_j"]


def test_column_map() -> None:
    raw = grid().rename(columns={"n_in": "prompt_tokens", "n_out": "Completion Tokens"})
    df = read_measurements(raw, column_map={"prompt_tokens": "n_in", "completion tokens": "n_out"})
    np.testing.assert_array_equal(df["n_in"], grid()["n_in"])
    np.testing.assert_array_equal(df["n_out"], grid()["n_out"])
    assert "renamed column 'prompt_tokens' to 'n_in' (column_map)" in df.attrs["notes"]
    assert "prompt_tokens" not in df.columns


def test_column_map_names_the_source_column_in_errors() -> None:
    raw = pd.DataFrame({"tok_in": [4, 0], "n_out": [1, 1], "energy_j": [1.0, 1.0]})
    with pytest.raises(MeasurementError, match=r"n_in \(column 'tok_in'\).*row 1"):
        read_measurements(raw, column_map={"tok_in": "n_in"})


def test_column_map_errors() -> None:
    raw = grid()
    with pytest.raises(MeasurementError, match=r"'n_tokens'.*not a schema column"):
        read_measurements(raw, column_map={"note": "n_tokens"})
    with pytest.raises(MeasurementError, match=r"'nope'.*does not have.*found columns"):
        read_measurements(raw, column_map={"nope": "n_in"})
    with pytest.raises(MeasurementError, match="already has a column 'n_in'"):
        read_measurements(raw, column_map={"note": "n_in"})
    raw2 = raw.assign(a=1, b=2)
    with pytest.raises(MeasurementError, match="more than one column to 'repeat'"):
        read_measurements(raw2, column_map={"a": "repeat", "b": "repeat"})
    with pytest.raises(MeasurementError, match="column_map must map"):
        read_measurements(raw, column_map=[("note", "prompt")])  # type: ignore[arg-type]


def test_column_map_to_a_unit_alias_converts() -> None:
    raw = pd.DataFrame({"n_in": [1], "n_out": [1], "Energy (mJ)": [2500]})
    df = read_measurements(raw, column_map={"Energy (mJ)": "energy_mj"})
    assert df.loc[0, "energy_j"] == 2.5
    assert any("'Energy (mJ)' [mJ] to energy_j" in n for n in df.attrs["notes"])


@pytest.mark.parametrize(
    ("column", "value", "joules"),
    [("energy_mj", 1234.0, 1.234), ("energy_kj", 1.5, 1500.0), ("Energy_Wh", 2.0, 7200.0),
     ("energy_kwh", 0.001, 3600.0)],
)  # fmt: skip
def test_energy_unit_columns_are_converted_with_a_note(column, value, joules) -> None:
    df = read_measurements(pd.DataFrame({"n_in": [1], "n_out": [2], column: [value]}))
    assert df["energy_j"].iloc[0] == pytest.approx(joules, rel=1e-15)
    assert column.lower() not in df.columns
    assert any(f"to energy_j [J] (energy_j = {column.lower()}" in n for n in df.attrs["notes"])


def test_time_ms_is_converted_and_energy_j_wins_over_aliases() -> None:
    raw = pd.DataFrame({"n_in": [1], "n_out": [2], "energy_j": [3.0], "energy_mj": [1.0]})
    raw["time_ms"] = 2500
    df = read_measurements(raw)
    assert df["time_s"].iloc[0] == 2.5
    assert df["energy_j"].iloc[0] == 3.0
    assert df["energy_mj"].iloc[0] == 1.0  # kept as an extra column, with a note
    assert any("'energy_mj'" in n and "not used" in n for n in df.attrs["notes"])
    assert any("time_s = time_ms / 1000" in n for n in df.attrs["notes"])


def test_several_energy_units_are_ambiguous() -> None:
    raw = pd.DataFrame({"n_in": [1], "n_out": [2], "energy_mj": [1.0], "energy_kj": [1.0]})
    with pytest.raises(MeasurementError, match=r"no energy_j.*'energy_mj', 'energy_kj'"):
        read_measurements(raw)


def test_bad_unit_column_is_named() -> None:
    raw = pd.DataFrame({"n_in": [1, 2], "n_out": [2, 2], "energy_mj": [1.0, -5.0]})
    with pytest.raises(MeasurementError, match=r"energy_mj must be a positive.*\[mJ\].*row 1"):
        read_measurements(raw)


# --------------------------------------------------------------------------- bad cells


def frame_with(column: str, values: list) -> pd.DataFrame:
    raw = grid(len(values))
    raw[column] = pd.Series(
        values, dtype=object if any(isinstance(v, str) for v in values) else None
    )
    return raw


@pytest.mark.parametrize(
    ("column", "values", "pattern"),
    [
        ("n_in", [1, 2, np.nan, 4], r"n_in must be a positive whole number \[tokens\]; got a "
         r"missing value \(NaN/None\) in row 2 of DataFrame \(1 bad row in total\)"),
        ("n_out", [1, None, None, 4], r"n_out .*missing value.* in row 1 .*\(2 bad rows in "
         r"total\)"),
        ("energy_j", [1.0, np.inf, 2.0, 3.0], r"energy_j must be a positive finite number \[J\]; "
         r"got inf in row 1"),
        ("n_in", [1, 2, 3.5, 4], r"n_in must be a positive whole number.*got 3\.5 in row 2"),
        ("n_out", [1, 0, 2, -3], r"n_out .*got 0 in row 1 .*\(2 bad rows in total\).*at least one"),
        ("n_in", [-1, 2, 3, 4], r"n_in .*got -1 in row 0"),
        ("energy_j", [1.0, 2.0, 0.0, 3.0], r"energy_j .*got 0\.0 in row 2.*meter was not read"),
        ("energy_j", [1.0, 2.0, 3.0, -1e-3], r"energy_j .*got -0\.001 in row 3"),
        ("n_in", [1, "12", "abc", "x"], r"n_in .*got the text 'abc' in row 2 .*\(2 bad rows.*plain "
         r"numbers"),
        ("energy_j", [1.0, True, 2.0, 3.0], r"energy_j .*got the boolean True in row 1"),
        ("n_requests", [1, 0, 1, 1], r"n_requests must be a positive whole number.*row 1"),
        ("time_s", [1.0, 2.0, -1.0, 1.0], r"time_s must be a positive finite number \[s\].*row 2"),
        ("repeat", [0, 1, -1, 2], r"repeat must be a non-negative whole number.*row 2"),
        ("model", ["a", None, "b", "c"], r"model must be a text label.*missing value.*row 1"),
        ("kv_cache", [True, "maybe", False, True], r"kv_cache must be a boolean.*'maybe'.*row 1"),
        ("n_in", [1, 2, 1e300, 4], r"n_in must be a positive whole number.*row 2"),
    ],
)  # fmt: skip
def test_bad_cells_name_column_row_and_count(column, values, pattern) -> None:
    with pytest.raises(MeasurementError, match=pattern):
        read_measurements(frame_with(column, values))


def test_boolean_length_column_is_rejected() -> None:
    raw = grid(2)
    raw["n_in"] = [True, True]
    with pytest.raises(MeasurementError, match=r"n_in .*boolean True in row 0 .*2 bad rows"):
        read_measurements(raw)


def test_nullable_integer_column_with_na() -> None:
    raw = grid(3)
    raw["n_in"] = pd.array([1, pd.NA, 3], dtype="Int64")
    with pytest.raises(MeasurementError, match=r"n_in .*missing value.*row 1"):
        read_measurements(raw)
    raw["n_in"] = pd.array([1, 2, 3], dtype="Int64")
    assert read_measurements(raw)["n_in"].dtype == np.int64


def test_non_default_index_label_is_reported() -> None:
    raw = grid(3).set_index(pd.Index(["a", "b", "c"]))
    raw.loc["b", "energy_j"] = np.nan
    with pytest.raises(MeasurementError, match=r"row 1 \(index label 'b'\)"):
        read_measurements(raw)
    raw = grid(3).set_index(pd.Index([5, 5, 6]))  # duplicated labels are fine
    assert read_measurements(raw).index.tolist() == [5, 5, 6]
    raw.iloc[2, 0] = 0
    with pytest.raises(MeasurementError, match=r"n_in .*row 2 \(index label 6\)"):
        read_measurements(raw)


def test_text_in_csv_numeric_column(tmp_path) -> None:
    path = write_csv(tmp_path / "m.csv", "n_in,n_out,energy_j\n1,2,3.0\n4,5,6 J\n")
    with pytest.raises(MeasurementError, match=r"energy_j .*the text '6 J' in row 1 of .*m\.csv"):
        read_measurements(path)


def test_missing_cell_in_csv(tmp_path) -> None:
    path = write_csv(tmp_path / "m.csv", "n_in,n_out,energy_j\n1,2,3.0\n4,,6\n7,8,9\n")
    with pytest.raises(MeasurementError, match=r"n_out .*missing value.*row 1 "):
        read_measurements(path)


# --------------------------------------------------------------------------- bad frames, files


def test_missing_required_columns_list_found_and_suggest_column_map() -> None:
    raw = pd.DataFrame({"prompt_tokens": [1], "n_out": [2], "Energy (J)": [3.0]})
    pattern = (
        r"missing the required column\(s\) 'n_in', 'energy_j'; found columns "
        r"\['prompt_tokens', 'n_out', 'Energy \(J\)'\].*column_map=\{'prompt_tokens': 'n_in', "
        r"'Energy \(J\)': 'energy_j'\}"
    )
    with pytest.raises(MeasurementError, match=pattern):
        read_measurements(raw)


def test_duplicated_column_names(tmp_path) -> None:
    raw = pd.DataFrame([[1, 2, 3.0, 4]], columns=["n_in", "n_out", "energy_j", "n_out"])
    with pytest.raises(MeasurementError, match="column name 'n_out' appears 2 times"):
        read_measurements(raw)
    path = write_csv(tmp_path / "d.csv", "n_in,n_out,energy_j,energy_j\n1,2,3,4\n")
    with pytest.raises(MeasurementError, match="column name 'energy_j' appears 2 times"):
        read_measurements(path)
    path = write_csv(tmp_path / "c.csv", "n_in,N_IN,n_out,energy_j\n1,1,2,3\n")
    with pytest.raises(MeasurementError, match=r"'n_in', 'N_IN' .*all name 'n_in'"):
        read_measurements(path)


def test_zero_rows(tmp_path) -> None:
    with pytest.raises(MeasurementError, match="no data rows"):
        read_measurements(grid().iloc[:0])
    path = write_csv(tmp_path / "h.csv", "n_in,n_out,energy_j\n")
    with pytest.raises(MeasurementError, match=r"h\.csv has no data rows"):
        read_measurements(path)


def test_empty_file(tmp_path) -> None:
    path = write_csv(tmp_path / "e.csv", "")
    with pytest.raises(MeasurementError, match=r"e\.csv is empty"):
        read_measurements(path)


def test_missing_file_is_also_file_not_found(tmp_path) -> None:
    path = tmp_path / "nope.csv"
    with pytest.raises(MeasurementError, match=r"No such file or directory: .*nope\.csv") as info:
        read_measurements(path)
    assert isinstance(info.value, FileNotFoundError)
    assert info.value.errno == errno.ENOENT
    with pytest.raises(FileNotFoundError):
        read_azure_trace(path)
    with pytest.raises(FileNotFoundError):
        read_wilkins(path)


def test_argument_errors(tmp_path) -> None:
    raw = grid()
    with pytest.raises(MeasurementError, match=r"format must be one of.*got 'xlsx'"):
        read_measurements(raw, format="xlsx")  # type: ignore[arg-type]
    with pytest.raises(MeasurementError, match="format='csv' reads a file, but a DataFrame"):
        read_measurements(raw, format="csv")
    path = tmp_path / "m.csv"
    raw.to_csv(path, index=False)
    with pytest.raises(MeasurementError, match=r"format='frame' expects a pandas.DataFrame"):
        read_measurements(path, format="frame")
    with pytest.raises(
        MeasurementError, match=r"expects a path .* or a pandas.DataFrame; got list"
    ):
        read_measurements([1, 2, 3])  # type: ignore[arg-type]
    with pytest.raises(MeasurementError, match=r"expects a pandas.DataFrame; got dict"):
        validate_measurements({"n_in": [1]})  # type: ignore[arg-type]
    with pytest.raises(MeasurementError, match="is a directory, but format='csv'"):
        read_measurements(tmp_path, format="csv")
    other = tmp_path / "m.xlsx"
    other.write_bytes(b"x")
    with pytest.raises(MeasurementError, match=r"suffix \(\.xlsx\).*format='csv'"):
        read_measurements(other)
    assert read_measurements(other.with_suffix(".csv"), format="csv").shape[0] == len(raw)


def test_explicit_csv_format_on_unknown_suffix(tmp_path) -> None:
    path = tmp_path / "m.dat"
    grid().to_csv(path, index=False)
    assert len(read_measurements(path, format="csv")) == 4


def test_wrong_delimiter_is_explained(tmp_path) -> None:
    path = write_csv(tmp_path / "semi.csv", "n_in;n_out;energy_j\n1;2;3,5\n")
    with pytest.raises(MeasurementError, match=r"single column.*semicolon.*delimiter ','"):
        read_measurements(path)
    path = write_csv(tmp_path / "comma.tsv", "n_in,n_out,energy_j\n1,2,3\n")
    with pytest.raises(MeasurementError, match=r"comma-delimited .*delimiter '\\t'"):
        read_measurements(path)


def test_non_utf8_file(tmp_path) -> None:
    path = write_csv(tmp_path / "l1.csv", "n_in,n_out,energy_j,model\n1,2,3,café\n", "latin-1")
    with pytest.raises(MeasurementError, match=r"not UTF-8 text \(byte 0xe9"):
        read_measurements(path)


def test_ragged_rows(tmp_path) -> None:
    path = write_csv(tmp_path / "r.csv", "n_in,n_out,energy_j\n1,2,3\n4,5,6,7,8\n")
    with pytest.raises(MeasurementError, match=r"not a well-formed comma-delimited file"):
        read_measurements(path)


def test_parquet_without_pyarrow(tmp_path, monkeypatch) -> None:
    path = tmp_path / "m.parquet"
    grid().to_parquet(path)
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    with pytest.raises(DependencyError, match=re.escape('pip install "sweetspot[parquet]"')):
        read_measurements(path)


def test_corrupt_parquet(tmp_path) -> None:
    path = tmp_path / "bad.parquet"
    path.write_bytes(b"this is not parquet")
    with pytest.raises(MeasurementError, match=r"bad\.parquet cannot be read as Parquet"):
        read_measurements(path)


def test_importer_formats_are_listed() -> None:
    with pytest.raises(MeasurementError, match="'trtllm-bench', 'zeus', 'codecarbon'"):
        read_measurements("x.csv", format="nope")  # type: ignore[arg-type]
