"""Bad-input catalogue: malformed files through read_measurements, fit and the CLI.

Every malformed input must raise the library's own error (a SweetspotError subclass) whose
message names the problem; the CLI must exit non-zero with exactly one line on stderr and no
traceback. Cases that expose a bug in a module owned elsewhere are kept as
``xfail(strict=True)`` with the reason, so the suite stays green until the fix lands (and
fails loudly when it does, so the marker gets removed).

The hostile inputs of issue 14 (seven classes: point identity, labels, window names, column
kinds, memory, bounds, tracebacks) are the catalogue of ``tests/hostile.py``, run case by case
at the end of this module; ``benchmarks/hostile_inputs.py`` runs it with the fuzz of every
reader and prints the totals.
"""

from __future__ import annotations

import gzip
import os
import subprocess
import sys
import tempfile
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import sweetspot as ss
from sweetspot.cli import main
from sweetspot.exceptions import (
    FitError,
    MeasurementError,
    SpecError,
    SweetspotError,
)

GOOD = "n_in,n_out,energy_j\n64,64,10.5\n128,64,20.25\n"
THETA = np.array([2.0e-6, 3.0e-5, 4.0e-3, 5.0e-5, 30.0, 0.35])


@dataclass(frozen=True)
class Case:
    """A malformed input file: its name, bytes, and the error its message must match."""

    id: str
    name: str
    content: bytes | Callable[[Path], None]
    error: type[SweetspotError]
    match: str
    bug: str = ""  # why the case fails today (xfail strict), when it exposes a bug elsewhere

    def write(self, root: Path) -> Path:
        path = root / self.name
        path.parent.mkdir(parents=True, exist_ok=True)
        if callable(self.content):
            self.content(path)
        else:
            path.write_bytes(self.content)
        return path


def _csv(text: str) -> bytes:
    return text.encode("utf-8")


def _truncated_parquet(path: Path) -> None:
    df = pd.DataFrame({"n_in": [64, 128] * 50, "n_out": [64] * 100, "energy_j": 1.0})
    df.to_parquet(path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _parquet(df: pd.DataFrame) -> Callable[[Path], None]:
    def write(path: Path) -> None:
        df.to_parquet(path)

    return write


def _foreign_dir(path: Path) -> None:
    path.mkdir()
    (path / "notes.txt").write_text("not data")
    (path / "part-0.parquet").write_bytes(b"PAR1")


def _nested_zip(path: Path) -> None:
    path.write_bytes(gzip.compress(_csv(GOOD))[:20])  # truncated gzip stream


M = MeasurementError
CASES: list[Case] = [
    # --- structure ---------------------------------------------------------------------
    Case("empty-file", "a.csv", b"", M, r"a\.csv is empty \(no header, no rows\)"),
    Case("whitespace-only", "a.csv", b"  \n\n \n", M, "is empty"),
    Case("bom-only", "a.csv", b"\xef\xbb\xbf", M, "is empty"),
    Case("header-only", "a.csv", _csv("n_in,n_out,energy_j\n"), M, "has no data rows"),
    Case("bom-header-only", "a.csv", b"\xef\xbb\xbfn_in,n_out,energy_j\n", M, "has no data rows"),
    Case(
        "semicolon-delimited",
        "a.csv",
        _csv("n_in;n_out;energy_j\n64;64;10,5\n"),
        M,
        "looks semicolon-delimited",
    ),
    Case("tab-in-csv", "a.csv", _csv("n_in\tn_out\tenergy_j\n64\t64\t10\n"), M, "tab"),
    Case("pipe-delimited", "a.csv", _csv("n_in|n_out|energy_j\n64|64|10\n"), M, "pipe"),
    Case("unclosed-quote", "a.csv", _csv('n_in,n_out,energy_j\n"64,64,10\n'), M, "well-formed"),
    Case(
        "comment-line-first",
        "a.csv",
        _csv("# H100\n" + GOOD),
        M,
        "more fields than the header",
    ),
    Case("json-not-csv", "a.csv", _csv('{"n_in": 64, "n_out": 64}\n'), M, "no data rows"),
    Case("unknown-suffix", "a.xlsx", b"PK\x03\x04", M, "cannot tell the format"),
    Case("missing-column", "a.csv", _csv("n_in,energy_j\n64,10\n"), M, "missing.*'n_out'"),
    Case(
        "misspelled-column",
        "a.csv",
        _csv("n_input,n_out,energy_j\n64,64,10\n"),
        M,
        r"missing.*'n_in'.*column_map=\{'n_input': 'n_in'\}",
    ),
    Case("empty-column-name", "a.csv", _csv(",n_out,energy_j\n64,64,1\n"), M, "Unnamed: 0"),
    Case(
        "duplicated-columns",
        "a.csv",
        _csv("n_in,n_out,energy_j,n_in\n64,64,10,64\n"),
        M,
        "'n_in' appears 2 times",
    ),
    Case(
        "case-duplicated-columns",
        "a.csv",
        _csv("n_in,N_IN,n_out,energy_j\n64,64,64,10\n"),
        M,
        "all name 'n_in'",
    ),
    # --- units -------------------------------------------------------------------------
    Case(
        "energy-in-kw",
        "a.csv",
        _csv("n_in,n_out,energy_kw\n64,64,10\n"),
        M,
        "missing.*'energy_j'.*energy_kwh",
    ),
    Case(
        "energy-with-unit-in-parentheses",
        "a.csv",
        _csv("n_in,n_out,Energy (kWh)\n64,64,10\n"),
        M,
        r"missing.*'energy_j'.*column_map=\{'Energy \(kWh\)': 'energy_j'\}",
    ),
    Case(
        "two-energy-units",
        "a.csv",
        _csv("n_in,n_out,energy_kwh,energy_mj\n64,64,1,2\n"),
        M,
        "several unit-suffixed",
    ),
    Case("unit-in-cell", "a.csv", _csv("n_in,n_out,energy_j\n64,64,12 J\n"), M, "text '12 J'"),
    # --- cell values -------------------------------------------------------------------
    Case("text-length", "a.csv", _csv("n_in,n_out,energy_j\nabc,64,10\n"), M, "text 'abc'"),
    Case("thousands-sep", "a.csv", _csv('n_in,n_out,energy_j\n"1,024",64,1\n'), M, "'1,024'"),
    Case("hex-number", "a.csv", _csv("n_in,n_out,energy_j\n0x40,64,10\n"), M, "'0x40'"),
    Case("fullwidth-digits", "a.csv", _csv("n_in,n_out,energy_j\n６４,64,1\n"), M, "text"),
    Case("booleans", "a.csv", _csv("n_in,n_out,energy_j\nTrue,64,1\n"), M, "Booleans"),
    Case("missing-cell", "a.csv", _csv("n_in,n_out,energy_j\n64,64,\n"), M, "missing value"),
    Case("nan-text", "a.csv", _csv("n_in,n_out,energy_j\nnan,64,10\n"), M, "n_in.*missing"),
    Case("short-row", "a.csv", _csv("n_in,n_out,energy_j\n64,64\n"), M, "missing value"),
    Case("inf", "a.csv", _csv("n_in,n_out,energy_j\n64,64,inf\n"), M, "got inf in row 0"),
    Case("minus-infinity", "a.csv", _csv("n_in,n_out,energy_j\n64,64,-Infinity\n"), M, "-inf"),
    Case("overflow-1e309", "a.csv", _csv("n_in,n_out,energy_j\n64,64,1e309\n"), M, "got inf"),
    Case("negative-energy", "a.csv", _csv(GOOD + "64,64,-3\n"), M, r"positive.*-3\.0 in row 2"),
    Case("zero-energy", "a.csv", _csv(GOOD + "64,64,0\n"), M, "energy_j must be a positive"),
    Case("negative-zero", "a.csv", _csv("n_in,n_out,energy_j\n64,64,-0.0\n"), M, "-0.0"),
    Case("zero-n-out", "a.csv", _csv("n_in,n_out,energy_j\n64,0,1\n"), M, "n_out.*got 0 in row"),
    Case("negative-n-in", "a.csv", _csv("n_in,n_out,energy_j\n-64,64,1\n"), M, "n_in.*-64"),
    Case("fractional-n-in", "a.csv", _csv("n_in,n_out,energy_j\n64.5,64,1\n"), M, "64.5"),
    Case("huge-n-in", "a.csv", _csv("n_in,n_out,energy_j\n1e300,64,1\n"), M, "1e\\+300"),
    Case("n-in-2^64", "a.csv", _csv("n_in,n_out,energy_j\n18446744073709551616,64,1\n"), M, "n_in"),
    Case(
        "zero-requests",
        "a.csv",
        _csv("n_in,n_out,energy_j,n_requests\n64,64,1,0\n"),
        M,
        "n_requests must be a positive",
    ),
    Case(
        "bad-boolean",
        "a.csv",
        _csv("n_in,n_out,energy_j,kv_cache\n64,64,1,maybe\n"),
        M,
        "kv_cache must be a boolean",
    ),
    Case(
        "missing-model-label",
        "a.csv",
        _csv("n_in,n_out,energy_j,model\n64,64,1,\n"),
        M,
        "model must be a text label",
    ),
    Case("nul-byte", "a.csv", _csv("n_in,n_out,energy_j\n64,6\x004,1\n"), M, "n_out"),
    # --- encodings ---------------------------------------------------------------------
    Case(
        "latin-1",
        "a.csv",
        "n_in,n_out,energy_j,model\n64,64,1,café\n".encode("latin-1"),
        M,
        "not UTF-8 text \\(byte 0xe9",
    ),
    Case("utf-16", "a.csv", GOOD.encode("utf-16"), M, "not UTF-8"),
    Case("random-bytes", "a.csv", bytes(range(128, 256)), M, "not UTF-8"),
    # --- parquet and directories -------------------------------------------------------
    Case("truncated-parquet", "a.parquet", _truncated_parquet, M, "cannot be read as Parquet"),
    Case("csv-named-parquet", "a.parquet", _csv(GOOD), M, "cannot be read as Parquet"),
    Case(
        "parquet-text-cell",
        "a.parquet",
        _parquet(pd.DataFrame({"n_in": ["64", "x"], "n_out": [64, 64], "energy_j": [1.0, 2.0]})),
        M,
        "text 'x' in row 1",
    ),
    Case(
        "parquet-null",
        "a.parquet",
        _parquet(pd.DataFrame({"n_in": [64.0, None], "n_out": [64, 64], "energy_j": [1.0, 2]})),
        M,
        "n_in.*missing value.*row 1",
    ),
    Case(
        "parquet-no-rows",
        "a.parquet",
        _parquet(pd.DataFrame({"n_in": [], "n_out": [], "energy_j": []})),
        M,
        "no data rows",
    ),
    Case(
        "directory-of-foreign-files",
        "d",
        _foreign_dir,
        M,
        "not a sweetspot measurement store|not Parquet",
    ),
    Case("missing-file", "nowhere.csv", lambda p: None, M, "No such file"),
]
assert len({c.id for c in CASES}) == len(CASES) >= 30


def params(strict_warnings: bool) -> list:
    """CASES as pytest params; a case with a known bug is xfail(strict) where it shows."""
    return [
        pytest.param(
            c,
            id=c.id,
            marks=[pytest.mark.xfail(strict=True, reason=c.bug)]
            if c.bug and strict_warnings
            else [],
        )
        for c in CASES
    ]


@pytest.mark.parametrize("case", params(strict_warnings=True))
def test_read_measurements_refuses(case: Case, tmp_path) -> None:
    path = case.write(tmp_path)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no pandas warning instead of an error
        with pytest.raises(case.error, match=case.match):
            ss.read_measurements(path)


@pytest.mark.parametrize("case", params(strict_warnings=False))
def test_fit_refuses(case: Case, tmp_path) -> None:
    with pytest.raises(case.error, match=case.match):
        ss.fit(case.write(tmp_path))


def assert_one_line_error(rc: int, err: str, match: str) -> None:
    assert rc == 1
    assert "Traceback" not in err
    lines = err.splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("sweetspot fit: error: ")
    import re

    assert re.search(match, lines[0]), lines[0]


@pytest.mark.parametrize("case", params(strict_warnings=True))
def test_cli_one_line_error(case: Case, tmp_path, capsys) -> None:
    rc = main(["fit", str(case.write(tmp_path))])
    captured = capsys.readouterr()
    assert captured.out == ""
    assert_one_line_error(rc, captured.err, case.match)


SUBPROCESS_CASES = ["empty-file", "latin-1", "truncated-parquet", "negative-energy", "missing-file"]


@pytest.mark.parametrize("case_id", SUBPROCESS_CASES)
def test_cli_subprocess(case_id: str, tmp_path) -> None:
    case = next(c for c in CASES if c.id == case_id)
    path = case.write(tmp_path)
    proc = subprocess.run(
        [sys.executable, "-m", "sweetspot", "fit", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.stdout == ""
    assert_one_line_error(proc.returncode, proc.stderr, case.match)


# ------------------------------------------------------------------- accepted quirks ---
@pytest.mark.parametrize(
    ("content", "note"),
    [
        (b"\xef\xbb\xbf" + _csv(GOOD), "byte-order mark"),
        (_csv(GOOD.replace("\n", "\r\n")), "CRLF line ends"),
        (_csv(GOOD.replace("\n", "\r")), "old Mac line ends"),
        (_csv(" N_In , n_out ,Energy_J\n 64 ,64,10.5\n128,64,20.25\n"), "case and spaces"),
        (_csv("n_in,n_out,energy_kwh\n64,64,2.916666666666667e-06\n128,64,5.625e-06\n"), "kWh"),
        (_csv("n_in,n_out,energy_mj\n64,64,10500\n128,64,20250\n"), "mJ"),
        (_csv(GOOD + "\n\n"), "trailing blank lines"),
    ],
)
def test_quirks_that_are_read_correctly(content, note, tmp_path) -> None:
    path = tmp_path / "a.csv"
    path.write_bytes(content)
    df = ss.read_measurements(path)
    assert df["n_in"].tolist() == [64, 128], note
    assert df["energy_j"].to_numpy() == pytest.approx([10.5, 20.25], rel=1e-12), note


# ------------------------------------------------------------------------ fit level ---
def grid(energy_scale: float = 1.0) -> pd.DataFrame:
    ni, no = np.meshgrid([64, 256, 1024, 4096], [64, 256, 1024, 4096])
    df = pd.DataFrame({"n_in": ni.ravel(), "n_out": no.ravel()})
    rng = np.random.default_rng(0)
    noise = 1 + 0.01 * rng.standard_normal(len(df))
    df["energy_j"] = ss.energy(THETA, df.n_in, df.n_out) * noise * energy_scale
    return df


def one_level() -> pd.DataFrame:
    no = np.array([64, 128, 256, 512, 1024, 2048, 4096])
    return pd.DataFrame({"n_in": 512, "n_out": no, "energy_j": ss.energy(THETA, 512, no)})


@pytest.mark.parametrize(
    ("data", "kwargs", "error", "match"),
    [
        (grid().iloc[:3], {}, FitError, "6 coefficients but the data has only 3"),
        (one_level(), {}, FitError, "rank deficient.*1 distinct n_in"),
        (grid().assign(model=["a", "b"] * 8), {}, SpecError, "holds 2 models"),
        (grid(), {"model": "flops"}, SpecError, "needs the LLM's architecture"),
        (grid(), {"model": "cubic"}, SpecError, "model must be one of"),
        (grid(), {"loss": "huber"}, SpecError, "loss must be one of"),
        (grid(), {"architecture": "llama-2-7b"}, SpecError, "takes no architecture"),
        (grid(), {"model": "flops", "architecture": "gpt-9"}, SweetspotError, "gpt-9"),
        (12345, {}, MeasurementError, "expects a path"),
        (grid().astype({"n_in": object}).assign(n_in=["64"] * 15 + ["x"]), {}, M, "text 'x'"),
    ],
    ids=[
        "too-few-rows",
        "one-n_in-level",
        "two-models-free-fit",
        "physical-without-arch",
        "unknown-model",
        "unknown-loss",
        "arch-for-free-model",
        "unknown-arch",
        "not-data",
        "object-column",
    ],
)
def test_fit_errors(data, kwargs, error, match) -> None:
    with pytest.raises(error, match=match):
        ss.fit(data, **kwargs)


def test_huge_but_finite_energies_fit_relative_loss() -> None:
    # 1e300 J is absurd but finite: relative least squares is scale-invariant, so the fit
    # must either work (coefficients scaled) or say why; never return NaN silently
    ref = ss.fit(grid())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        try:
            res = ss.fit(grid(1e300))
        except SweetspotError:
            return
    assert np.all(np.isfinite(res.coef)), res.coef
    np.testing.assert_allclose(res.coef / 1e300, ref.coef, rtol=1e-9)


def test_subnormal_energies_give_a_library_error_or_a_fit() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        try:
            res = ss.fit(grid(1e-320))
        except SweetspotError:
            return
    assert np.all(np.isfinite(res.coef))


def test_one_energy_near_float_max_absolute_loss() -> None:
    df = grid()
    df.loc[0, "energy_j"] = 1e308
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        try:
            res = ss.fit(df, loss="absolute")
        except SweetspotError:
            return
    assert np.all(np.isfinite(res.coef)) and np.isfinite(res.rmse)


# ------------------------------------------------------------- known bugs in io.py ---
def test_row_with_an_extra_field_is_refused(tmp_path) -> None:
    path = tmp_path / "a.csv"
    path.write_text("n_in,n_out,energy_j\n64,64,10,99\n128,64,20\n")
    with pytest.raises(MeasurementError, match="field"):
        ss.read_measurements(path)


def test_truncated_gzip(tmp_path) -> None:
    path = tmp_path / "a.csv.gz"
    _nested_zip(path)
    with pytest.raises(MeasurementError, match=r"truncated|cannot read"):
        ss.read_measurements(path)


def test_megajoule_column_is_not_read_as_millijoules(tmp_path) -> None:
    path = tmp_path / "a.csv"
    path.write_text("n_in,n_out,energy_MJ\n64,64,2\n")
    try:
        df = ss.read_measurements(path)
    except MeasurementError as exc:
        assert "energy_MJ" in str(exc)
        return
    assert df["energy_j"].iloc[0] == pytest.approx(2e6)


def test_error_messages_stay_short(tmp_path) -> None:
    path = tmp_path / "a.csv"
    path.write_text("n_in,n_out,energy_j\n64,64," + "x" * 200_000 + "\n")
    with pytest.raises(MeasurementError) as info:
        ss.read_measurements(path)
    assert len(str(info.value)) < 2000


# ------------------------------------------------------------------ huge lines ---
_CAP = 2 * 2**30  # address-space cap of the child, so a runaway reader cannot hurt the host
_PEAK_MB = 700  # the child's peak RSS must stay near its import baseline (~150 MB)

_CHILD = """
import resource, sys
from sweetspot.cli import main
try:
    rc = main(["fit", sys.argv[1]])
finally:
    with open(sys.argv[2], "w") as fh:
        fh.write(str(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024))
sys.exit(rc)
"""


def _limited() -> None:  # pragma: no cover - runs in the child
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (_CAP, _CAP))


def _run_capped(path: Path) -> tuple[subprocess.CompletedProcess[str], int]:
    """Run `sweetspot fit path` in a capped child; return it and its peak RSS [MB]."""
    peak_file = path.with_suffix(".peak")
    proc = subprocess.run(
        [sys.executable, "-c", _CHILD, str(path), str(peak_file)],
        capture_output=True,
        text=True,
        timeout=300,
        preexec_fn=_limited,
    )
    peak = int(peak_file.read_text()) if peak_file.exists() else -1
    return proc, peak


def _write_lazily(path: Path, head: bytes, chunk: bytes, total: int, tail: bytes) -> None:
    with path.open("wb") as fh:
        fh.write(head)
        for _ in range(total // len(chunk)):
            fh.write(chunk)
        fh.write(tail)


def _assert_long_line_refused(proc: subprocess.CompletedProcess[str], peak_mb: int) -> None:
    import re

    assert proc.returncode == 1, proc.stderr[-500:]
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and len(lines[0]) < 2000, proc.stderr[:500]
    message = lines[0].split(".csv", 1)[-1]  # the path itself may contain "line"
    assert re.search(r"line \d+", message) and "out of memory" not in message, lines[0]
    assert 0 < peak_mb < _PEAK_MB, f"peak RSS {peak_mb} MB"


@pytest.mark.skipif(sys.platform != "linux", reason="RLIMIT_AS cap is Linux-only here")
def test_one_gigabyte_line(tmp_path) -> None:
    path = tmp_path / "huge.csv"
    try:
        # written in 1 MiB chunks: the test never holds the line in memory itself
        _write_lazily(path, b"n_in,n_out,energy_j\n64,64,", b"9" * 2**20, 2**30, b"\n")
        proc, peak = _run_capped(path)
    finally:
        path.unlink(missing_ok=True)
    _assert_long_line_refused(proc, peak)


@pytest.mark.skipif(sys.platform != "linux", reason="RLIMIT_AS cap is Linux-only here")
def test_ten_megabyte_line_of_fields(tmp_path) -> None:
    path = tmp_path / "fields.csv"
    _write_lazily(path, b"n_in,n_out,energy_j\n", b"1,2,3;" * 1000, 10_000_000, b"\n")
    proc, peak = _run_capped(path)
    _assert_long_line_refused(proc, peak)


# --------------------------------------------------------------------- fuzzing ---
HEADER = st.sampled_from(
    [
        "n_in",
        "n_out",
        "energy_j",
        "energy_kwh",
        "energy_mj",
        "n_requests",
        "batch_size",
        "model",
        "kv_cache",
        "time_ms",
        " N_IN ",
        "x",
        "",
        "Unnamed: 0",
    ]
)
CELL = st.one_of(
    st.integers(-(2**70), 2**70).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from(["", "nan", "NaN", "inf", "-inf", "1e309", "True", "no", "0", "-0", "１"]),
    st.text(
        alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)),
        max_size=8,
    ),
)


@st.composite
def csv_files(draw: st.DrawFn) -> bytes:
    header = draw(st.lists(HEADER, min_size=1, max_size=6))
    n_rows = draw(st.integers(0, 6))
    width = len(header)
    rows = [draw(st.lists(CELL, min_size=max(width - 1, 0), max_size=width)) for _ in range(n_rows)]
    sep = draw(st.sampled_from([",", ",", ";", "\t"]))
    end = draw(st.sampled_from(["\n", "\r\n"]))
    text = end.join(sep.join(r) for r in [header, *rows]) + draw(st.sampled_from(["", end]))
    data = text.encode("utf-8")
    if draw(st.booleans()):
        data = b"\xef\xbb\xbf" + data
    if draw(st.integers(0, 9)) == 0:  # sometimes a byte that is not UTF-8
        pos = draw(st.integers(0, len(data)))
        data = data[:pos] + b"\xff" + data[pos:]
    return data


@given(data=csv_files())
@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
def test_fuzz_read_measurements_raises_only_library_errors(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "fuzz.csv")
        with open(path, "wb") as fh:
            fh.write(data)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                df = ss.read_measurements(path)
            except SweetspotError:
                return
    # what is accepted follows the schema
    assert len(df) >= 1
    assert (df["n_in"] >= 1).all() and (df["n_out"] >= 1).all()
    assert np.isfinite(df["energy_j"]).all() and (df["energy_j"] > 0).all()


# ------------------------------------------------------ issue 14: hostile inputs ---
from hostile import CliRun, catalogue, classify, cli  # noqa: E402

HOSTILE = [c for c in catalogue() if not c.heavy]


@pytest.mark.parametrize(
    "case",
    [
        pytest.param(
            c,
            id=c.id,
            marks=[pytest.mark.xfail(strict=True, reason=f"fixed in {c.bug}")] if c.bug else [],
        )
        for c in HOSTILE
    ],
)
def test_hostile_catalogue(case, tmp_path) -> None:
    outcome, detail = classify(case, tmp_path)
    expected = "accepted" if case.match is None else "library error"
    assert outcome == expected, detail


def test_every_class_has_cases() -> None:
    assert {c.cls for c in catalogue()} == {1, 2, 3, 4, 5, 6, 7}


def _one_error_line(run: CliRun, command: str, match: str) -> None:
    import re

    assert run.rc == 1, run
    assert "Traceback" not in run.err
    errors = [line for line in run.err.splitlines() if ": error: " in line]
    assert len(errors) == 1 and errors[0].startswith(f"sweetspot {command}: error: "), run.err
    assert re.search(match, errors[0]), errors[0]


def test_cli_os_errors_are_one_line(tmp_path) -> None:
    # written after the work is done: the fit is computed, then the save fails
    blocker = tmp_path / "file"
    blocker.write_text("a file, not a folder")
    data = tmp_path / "grid.csv"
    grid().to_csv(data, index=False)
    run = cli("fit", str(data), "--model", "sweetspot", "--save", str(blocker / "fit.json"))
    _one_error_line(run, "fit", r"Not a directory: '.*file/fit\.json' \(NotADirectoryError\)")
    run = cli("report", "--model", "llama-2-7b", "--plots", str(blocker / "plots"))
    _one_error_line(run, "report", r"Not a directory")


def test_cli_unknown_group_column_is_one_line(tmp_path) -> None:
    data = tmp_path / "grid.csv"
    grid().to_csv(data, index=False)
    _one_error_line(cli("fit", str(data), "--group", "nosuchcol"), "fit", "nosuchcol")


def test_cli_internal_errors_are_one_line_with_their_own_exit_code(monkeypatch) -> None:
    import sweetspot.cli as cli_module
    from sweetspot.cli import EXIT_INTERNAL

    def broken(args):
        raise KeyError("nosuchcol")

    parser = cli_module.build_parser()
    monkeypatch.setattr(cli_module, "build_parser", lambda: _with_func(parser, "archs", broken))
    run = cli("archs")
    assert run.rc == EXIT_INTERNAL
    lines = run.err.strip().splitlines()
    assert len(lines) == 1 and "internal error (KeyError: 'nosuchcol')" in lines[0], lines
    monkeypatch.setenv("SWEETSPOT_DEBUG", "1")
    with pytest.raises(KeyError):
        cli("archs")


def _with_func(parser, command: str, func):
    import argparse

    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            action.choices[command].set_defaults(func=func)
    return parser


def test_cli_multi_line_messages_become_one_line(monkeypatch) -> None:
    import sweetspot.cli as cli_module

    def noisy(args):
        raise MeasurementError("first line\nsecond   line")

    parser = cli_module.build_parser()
    monkeypatch.setattr(cli_module, "build_parser", lambda: _with_func(parser, "archs", noisy))
    run = cli("archs")
    assert run.err == "sweetspot archs: error: first line second line\n"


# Fixed in the library modules (strict xfails until they landed).
def test_fit_result_from_json_reads_a_path(tmp_path) -> None:
    res = ss.fit(grid(), "sweetspot")
    path = tmp_path / "fit.json"
    path.write_text(res.to_json())
    back = ss.FitResult.from_json(path)  # a pathlib.Path, not a str
    assert back.to_dict() == res.to_dict()


def test_load_params_refuses_a_model_that_is_not_text() -> None:
    with pytest.raises(SweetspotError, match=r"model.*str.*got int 123"):
        ss.load_params(123)  # type: ignore[arg-type]


def test_optimal_n_out_of_a_huge_n_in_is_an_error_or_finite() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        try:
            out = ss.optimal_n_out(THETA, 1e200)
        except SweetspotError as exc:
            assert "n_in" in str(exc)
            return
    assert np.all(np.isfinite(out)), out


def test_counts_of_huge_lengths_are_an_error_or_finite() -> None:
    arch = ss.get_architecture("llama-2-7b")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        try:
            values = [ss.flops(arch, 1e200, 1), ss.memory_bytes(arch, 1e200, 1e200)]
        except SweetspotError as exc:
            assert "n_in" in str(exc)
            return
    assert all(np.all(np.isfinite(v)) for v in values), values
