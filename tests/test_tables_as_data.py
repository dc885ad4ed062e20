"""Saved fits and published tables are data, not code: validated JSON, never pickle or eval.

What is refused today is tested as such; each gap found (a tampered file that loads, or an
error that is not a TableError) is an ``xfail(strict=True)`` test naming the fix, so the
suite stays green until result.py / tables.py close it.
"""

from __future__ import annotations

import ast
import contextlib
import copy
import json
import pickle
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import sweetspot as ss
from sweetspot import FitResult
from sweetspot.cli import main
from sweetspot.exceptions import TableError

PACKAGE = Path(ss.__file__).parent
THETA = np.array([2.0e-6, 3.0e-5, 4.0e-3, 5.0e-5, 30.0, 0.35])


@pytest.fixture(scope="module")
def saved() -> dict[str, Any]:
    ni, no = np.meshgrid([64, 256, 1024, 4096], [64, 256, 1024, 4096])
    df = pd.DataFrame({"n_in": ni.ravel(), "n_out": no.ravel()})
    rng = np.random.default_rng(0)
    df["energy_j"] = ss.energy(THETA, df.n_in, df.n_out) * (1 + 0.01 * rng.standard_normal(16))
    return ss.fit(df).to_dict()


def tampered(d: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """Copy of d with the key at a dotted path set to value (or deleted for DELETE)."""
    out = copy.deepcopy(d)
    *parents, last = path.split(".")
    node = out
    for key in parents:
        node = node[key]
    if value is DELETE:
        del node[last]
    else:
        node[last] = value
    return out


DELETE = object()


# ------------------------------------------------------------------- no code paths ---
def test_loaders_never_import_pickle_or_evaluate_code() -> None:
    banned_modules = {"pickle", "cPickle", "dill", "marshal", "shelve", "joblib", "yaml"}
    banned_calls = {"eval", "exec", "compile", "__import__"}
    loaders = ["result.py", "tables.py", "models.py", "architecture.py"]
    loaders += [str(p.relative_to(PACKAGE)) for p in sorted((PACKAGE / "io").glob("*.py"))]
    for module in loaders:
        tree = ast.parse((PACKAGE / module).read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                assert not {a.name.split(".")[0] for a in node.names} & banned_modules, module
            elif isinstance(node, ast.ImportFrom):
                assert (node.module or "").split(".")[0] not in banned_modules, module
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                assert node.func.id not in banned_calls, (module, node.func.id)


def test_round_trip_is_exact(saved) -> None:
    res = FitResult.from_dict(saved)
    assert res.to_dict() == saved
    text = json.dumps(saved)
    assert FitResult.from_json(text).to_dict() == saved


def test_code_in_a_value_is_never_run(saved, tmp_path) -> None:
    marker = tmp_path / "pwned"
    payload = f"__import__('pathlib').Path({str(marker)!r}).touch()"
    for path in ("params.t1", "loss", "spec.name", "mape"):
        with contextlib.suppress(TableError):
            FitResult.from_dict(tampered(saved, path, payload))
    assert not marker.exists()


# ------------------------------------------------------------ tampering refused ---
@pytest.mark.parametrize(
    ("path", "value", "match"),
    [
        ("format", DELETE, "not a saved sweetspot fit"),
        ("format", "sweetspot.Other", "not a saved sweetspot fit"),
        ("version", 2, "format version 2"),
        ("version", "1", "format version '1'"),
        ("version", DELETE, "format version None"),
        ("spec", [1, 2], "'spec' must be an object"),
        ("spec.name", "cubic", "model must be one of"),
        ("spec.evil", 1, "unexpected keyword"),
        ("spec.kv_cache", "yes", "kv_cache must be True or False"),
        ("params.t1", None, "'params.t1' must be a number"),
        ("params.t1", [1.0], "'params.t1' must be a number"),
        ("params.t1", {"v": 1}, "'params.t1' must be a number"),
        ("params.t1", "one", "'params.t1' must be a number"),
        ("params.t7", 1.0, "do not match model"),
        ("params", {}, "do not match model"),
        ("stderr", DELETE, "lacks \\['stderr'\\]"),
        ("stderr.t3", DELETE, "'stderr' keys"),
        ("units", [], "'units' must be an object"),
        ("n_rows", DELETE, "lacks \\['n_rows'\\]"),
        ("n_rows", "many", "non-negative integer"),
        ("n_in_range", [1.0], "must hold 2 numbers"),
        ("n_in_range", None, "must be a list"),
        ("architectures", [["x", {"name": "x"}]], "architectures\\[0\\] is invalid"),
        ("architectures", "llama", "must be a list"),
    ],
)
def test_tampered_fields_raise_table_error(saved, path, value, match) -> None:
    with pytest.raises(TableError, match=match):
        FitResult.from_dict(tampered(saved, path, value))


@pytest.mark.parametrize("junk", [None, [], "fit", 3.0, [{"format": "sweetspot.FitResult"}]])
def test_not_an_object(junk) -> None:
    with pytest.raises(TableError):
        FitResult.from_dict(junk)  # type: ignore[arg-type]


def test_truncated_and_invalid_json(saved, tmp_path) -> None:
    text = json.dumps(saved, indent=2)
    for cut in (1, len(text) // 3, len(text) - 2):
        with pytest.raises(TableError, match=r"not valid JSON.*truncated"):
            FitResult.from_json(text[:cut] if text[:cut].lstrip().startswith("{") else "{")
    path = tmp_path / "fit.json"
    path.write_text(text[: len(text) // 2], encoding="utf-8")
    with pytest.raises(TableError, match="not valid JSON"):
        FitResult.from_json(str(path))
    with pytest.raises(TableError, match="cannot read saved fit"):
        FitResult.from_json(str(tmp_path / "missing.json"))
    with pytest.raises(TableError, match="cannot read saved fit"):
        FitResult.from_json(str(tmp_path))  # a directory


def test_meta_is_free_form_but_stays_data(saved) -> None:
    nested = {"a": [[[{"b": [1, 2, {"c": None}]}]]], "note": "x" * 1000}
    res = FitResult.from_dict(tampered(saved, "meta", nested))
    assert res.to_dict()["meta"] == nested


def test_cli_refuses_a_tampered_fit_in_one_line(saved, tmp_path, capsys) -> None:
    path = tmp_path / "fit.json"
    path.write_text(json.dumps(tampered(saved, "version", 99)), encoding="utf-8")
    assert main(["optimum", str(path)]) == 1
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    assert "format version 99" in err


# ------------------------------------------------------------ published tables ---
def test_shipped_table_loads_and_every_fit_round_trips() -> None:
    from sweetspot.tables import read_table

    table = read_table()
    assert table["format"] == "sweetspot.ParamTable" and table["version"] == 1
    for entry in [*table["fits"], *table["pooled"]]:
        res = FitResult.from_dict(entry["fit"])
        assert res.to_dict() == entry["fit"]


def _shipped() -> dict[str, Any]:
    return json.loads((PACKAGE / "data" / "params.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    ("mutate", "match"),
    [
        (lambda t: t.update(version=2), "table version 2"),
        (lambda t: t.update(format="other"), "not a sweetspot parameter table"),
        (lambda t: t.update(fits={}), "'fits' must be a list"),
        (lambda t: t.pop("sources"), "'sources' must be a dict"),
        (lambda t: t["fits"][0].pop("gpu"), r"fits\[0\] lacks \[.gpu.\]"),
    ],
)
def test_tampered_table_raises_table_error(tmp_path, mutate, match) -> None:
    from sweetspot.tables import read_table

    table = _shipped()
    mutate(table)
    path = tmp_path / "params.json"
    path.write_text(json.dumps(table), encoding="utf-8")
    with pytest.raises(TableError, match=match):
        read_table(path)


def test_tampered_fit_inside_a_table(tmp_path) -> None:
    from sweetspot.tables import load_params

    table = _shipped()
    entry = next(f for f in table["fits"] if f["family"] == "sweetspot")
    entry["fit"]["params"]["t1"] = "nonsense"
    path = tmp_path / "params.json"
    path.write_text(json.dumps(table), encoding="utf-8")
    with pytest.raises(TableError, match="must be a number"):
        load_params(entry["model"], family="sweetspot", gpu=entry["gpu"], path=path)


def test_truncated_table(tmp_path) -> None:
    from sweetspot.tables import read_table

    text = (PACKAGE / "data" / "params.json").read_text(encoding="utf-8")
    path = tmp_path / "params.json"
    path.write_text(text[: len(text) // 2], encoding="utf-8")
    with pytest.raises(TableError, match=r"not valid JSON.*truncated"):
        read_table(path)


# ------------------------------------------------- types, numbers, nesting, binary ---
@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("params.t1", "2e-6"),  # a number as a string
        ("params.t1", "NaN"),  # NaN as a string: the model then predicts NaN
        ("params.t1", "inf"),
        ("params.t1", True),  # a boolean as 1.0
        ("mape", "NaN"),
        ("mape", -1.0),
        ("loss", 123),
        ("loss", "huber"),
        ("n_rows", 3.7),  # silently truncated to 3
        ("n_rows", -5),
        ("n_rows", "16"),
        ("batch_size", -4),
        ("models", "abc"),  # split into ('a', 'b', 'c')
        ("n_in_range", "12"),  # split into (1.0, 2.0)
        ("version", True),  # True == 1
        ("version", 1.0),
    ],
)
def test_wrong_types_are_refused(saved, path, value) -> None:
    with pytest.raises(TableError):
        FitResult.from_dict(tampered(saved, path, value))


def test_huge_integer(saved) -> None:
    with pytest.raises(TableError):
        FitResult.from_dict(tampered(saved, "params.t1", 10**400))


@pytest.mark.parametrize(
    ("path", "value"), [("evil", "x"), ("theta", [1.0, 2.0, 3.0, 4.0, 5.0, 6.0])]
)
def test_unknown_keys_and_stale_theta(saved, path, value) -> None:
    with pytest.raises(TableError):
        FitResult.from_dict(tampered(saved, path, value))


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity", "1e999"])
def test_non_standard_json_numbers(saved, literal) -> None:
    text = json.dumps(saved).replace('"rmse": ', f'"rmse": {literal}, "_": ', 1)
    with pytest.raises(TableError):
        FitResult.from_json(text)


def test_deeply_nested_json(tmp_path) -> None:
    from sweetspot.tables import read_table

    text = '{"format": "sweetspot.FitResult", "meta": ' + "[" * 100_000 + "]" * 100_000 + "}"
    with pytest.raises(TableError):
        FitResult.from_json(text)
    path = tmp_path / "params.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(TableError):
        read_table(path)


def test_binary_file_gives_table_error(saved, tmp_path) -> None:
    from sweetspot.tables import read_table

    path = tmp_path / "fit.pkl"
    path.write_bytes(pickle.dumps(saved))
    with pytest.raises(TableError):
        FitResult.from_json(str(path))
    with pytest.raises(TableError):
        read_table(path)


@pytest.mark.parametrize("entry", ["model gpu n_gpus family fit", 7])
def test_table_entries_must_be_objects(tmp_path, entry) -> None:
    from sweetspot.tables import read_table

    table = _shipped()
    table["fits"][0] = entry
    path = tmp_path / "params.json"
    path.write_text(json.dumps(table), encoding="utf-8")
    with pytest.raises(TableError):
        read_table(path)
