"""Published parameter tables: loading, validation, and the rebuild from the shared data."""

from __future__ import annotations

import json
import math
import warnings

import numpy as np
import pandas as pd
import pytest

import sweetspot as ss
from sweetspot.exceptions import TableError
from sweetspot.tables import (
    build_tables,
    list_params,
    load_params,
    load_pooled,
    read_table,
    resolve_params,
    write_tables,
)


def _close(a, b, path="$"):
    """Structural equality with a relative tolerance on floats (BLAS may differ in the
    last bits between machines)."""
    if isinstance(a, dict):
        assert isinstance(b, dict) and a.keys() == b.keys(), path
        for k in a:
            _close(a[k], b[k], f"{path}.{k}")
    elif isinstance(a, list):
        assert isinstance(b, list) and len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _close(x, y, f"{path}[{i}]")
    elif isinstance(a, float) and isinstance(b, (int, float)):
        assert math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-12), (path, a, b)
    else:
        assert a == b, (path, a, b)


def test_rebuild_matches_shipped_tables(wilkins_csv) -> None:
    shared = wilkins_csv.parent.parent
    rebuilt = json.loads(json.dumps(build_tables(shared)))
    shipped = read_table()
    # the version of the building sweetspot may move on; everything else must match
    rebuilt.pop("built_with")
    shipped = dict(shipped)
    shipped.pop("built_with")
    _close(rebuilt, shipped)


def test_shipped_table_loads_as_fits() -> None:
    frame = list_params()
    assert len(frame) >= 7 * 3
    assert frame.groupby(["model", "n_gpus"])["recommended"].sum().eq(1).all()
    res = load_params("meta-llama/Llama-2-7b-chat-hf", family="sweetspot")
    assert isinstance(res, ss.FitResult) and res.theta is not None
    assert res.models == ("Llama-2-7b-chat-hf",)
    assert "KV cache OFF" in res.meta["conditions"]
    rec = load_params("llama-2-7b")  # the recommended family
    assert rec.spec.is_physical and not rec.spec.kv_cache
    n = ss.optimal_n_out(rec, [64, 512])
    assert np.all(n >= 1)


def test_published_sweet_spots_match_the_fits() -> None:
    table = read_table()
    for entry in table["fits"][:20]:
        res = ss.FitResult.from_dict(entry["fit"])
        for n_in, sp in entry["sweet_spot"].items():
            if sp["n_out"] is None:
                continue
            got = float(ss.sweet_spot(res, float(n_in)).n_out)
            assert got == pytest.approx(sp["n_out"], rel=1e-6)


def test_pooled_constants_predict_unmeasured_architecture() -> None:
    pooled = load_pooled("A100", n_gpus=1)
    assert pooled.is_pooled
    e = pooled.predict(512, 256, architecture="llama-3.1-8b")
    assert np.isfinite(e) and e > 0


def test_lookup_errors() -> None:
    with pytest.raises(TableError, match=r"no published fit.*Available"):
        load_params("gpt-5")
    with pytest.raises(TableError, match="Families"):
        load_params("llama-2-7b", family="nonsense")


def test_tampered_tables_are_rejected(tmp_path) -> None:
    table = read_table()
    bad = tmp_path / "t.json"
    bad.write_text(json.dumps({**table, "version": 99}))
    with pytest.raises(TableError, match="version"):
        read_table(bad)
    bad.write_text(json.dumps({**table, "format": "pickle"}))
    with pytest.raises(TableError, match="not a sweetspot parameter table"):
        read_table(bad)
    bad.write_text(json.dumps(table)[:5000])
    with pytest.raises(TableError, match="not valid JSON"):
        read_table(bad)
    bad.write_text(json.dumps({**table, "fits": [{"model": "x"}]}))
    with pytest.raises(TableError, match="lacks"):
        read_table(bad)
    with pytest.raises(TableError, match="cannot read"):
        read_table(tmp_path / "missing.json")


# ---------------------------------------------------------------------------------------
# resolve_params: a saved fit, FILE#GROUP, or a published name
# ---------------------------------------------------------------------------------------
def _toy_fit(theta) -> ss.FitResult:
    ni, no = np.meshgrid([16, 64, 256, 1024], [16, 64, 256, 1024])
    data = {"n_in": ni.ravel(), "n_out": no.ravel()}
    data["energy_j"] = ss.energy(theta, data["n_in"], data["n_out"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ss.SweetspotWarning)  # exact data: t2, t3 ~ -1e-20
        return ss.fit(pd.DataFrame(data))


@pytest.fixture(scope="module")
def saved_fits(tmp_path_factory):
    folder = tmp_path_factory.mktemp("fits")
    a = _toy_fit([1e-6, 2e-5, 3e-3, 4e-5, 5.0, 0.2])
    b = _toy_fit([0.0, 0.0, 0.0, 1e-3, 4.0, 0.1])
    single = folder / "one.json"
    a.to_json(str(single))
    groups = folder / "groups.json"
    groups.write_text(json.dumps({"a": a.to_dict(), "b": b.to_dict()}))
    return single, groups, a, b


def test_resolve_params_reads_a_saved_fit_and_a_group(saved_fits) -> None:
    single, groups, a, b = saved_fits
    np.testing.assert_array_equal(resolve_params(str(single)).theta, a.theta)
    np.testing.assert_array_equal(resolve_params(f"{groups}#b").theta, b.theta)
    np.testing.assert_array_equal(resolve_params(f"{groups}#a").theta, a.theta)


def test_resolve_params_falls_back_to_the_published_tables() -> None:
    got = resolve_params("llama-2-7b", family="sweetspot")
    want = load_params("llama-2-7b", family="sweetspot")
    assert got.models == want.models
    np.testing.assert_array_equal(got.theta, want.theta)
    assert resolve_params("llama-2-7b", gpu="A100").models == load_params("llama-2-7b").models


def test_resolve_params_errors(saved_fits, tmp_path) -> None:
    _, groups, _, _ = saved_fits
    with pytest.raises(TableError, match=r"holds 2 fits \(a, b\); pick one with .*#a"):
        resolve_params(str(groups))
    with pytest.raises(TableError, match="has no fit named 'c'; it holds a, b"):
        resolve_params(f"{groups}#c")
    with pytest.raises(TableError, match=r"saved fit 'nowhere/fit\.json' not found"):
        resolve_params("nowhere/fit.json")
    with pytest.raises(TableError, match=r"saved fit 'absent\.json' not found"):
        resolve_params("absent.json")
    broken = tmp_path / "broken.json"
    broken.write_text('{"spec": ')
    single, _, _, _ = saved_fits
    with pytest.raises(TableError, match=r"holds one fit, not a file of several; drop '#a'"):
        resolve_params(f"{single}#a")  # was silently ignored: the group named nothing
    nan = tmp_path / "nan.json"
    nan.write_text(groups.read_text().replace('"mape": ', '"mape": NaN, "x": ', 1))
    with pytest.raises(TableError, match="non-standard JSON number NaN"):
        resolve_params(f"{nan}#a")  # a file of groups is read as strictly as a single fit
    for name in (f"{broken}#a", str(broken)):  # the strict reader's message, either way
        with pytest.raises(TableError, match=r"saved fit .*broken\.json.* is not valid JSON"):
            resolve_params(name)
    with pytest.raises(TableError, match="no published fit for model='no-such-llm-xyz'"):
        resolve_params("no-such-llm-xyz")


def test_write_tables_defaults_to_the_shipped_folder(tmp_path, monkeypatch) -> None:
    table = read_table()
    folder = tmp_path / "given"
    assert write_tables(table, folder) == [folder / "params.json", folder / "params.csv"]
    assert read_table(folder / "params.json") == table
    # without out_dir: where read_table() reads the shipped table (redirected here)
    shipped = tmp_path / "data"
    shipped.mkdir()
    monkeypatch.setattr("sweetspot.tables._data_file", lambda name: shipped / name)
    assert write_tables(table) == [shipped / "params.json", shipped / "params.csv"]
    assert read_table() == table


# ------------------------------------------------- the reference setup: H100, TensorRT-LLM ---
PAPER_N_OUT_AT_64 = [429, 147, 433, 260, 157, 302, 180, 148, 431, 131, 280, 290, 226]


def _h100() -> list[dict]:
    return [f for f in read_table()["fits"] if f["source"] == "sweetspot-paper-h100"]


def test_h100_table_comes_first_and_is_marked_as_reported() -> None:
    table = read_table()
    assert next(iter(table["sources"])) == "sweetspot-paper-h100"
    assert table["fits"][0]["source"] == "sweetspot-paper-h100"
    source = table["sources"]["sweetspot-paper-h100"]
    for text in ("TensorRT-LLM 0.21", "max_batch_size 1024", "max_num_tokens 8192", "500 ms"):
        assert text in source["conditions"]
    assert "CC BY 4.0" in source["license_note"] and "arXiv:2602.05695" in source["citation"]
    fits = _h100()
    assert len(fits) == 13
    for f in fits:
        res = ss.FitResult.from_dict(f["fit"])
        assert f["reported"] and res.loss == "published" and "not refitted" in res.meta["reported"]
        assert res.meta["gpu"] == "H100" and res.meta["engine"] == "TensorRT-LLM 0.21.0"
        assert set(f["paper_mape"]) == {
            "per_token",
            "per_token_fixed",
            "per_token_context",
            "wilkins",
            "sweetspot_flops",
            "sweetspot",
        }


def test_h100_closed_form_gives_the_papers_sweet_spots_at_64() -> None:
    got = [round(float(ss.optimal_n_out(ss.FitResult.from_dict(f["fit"]), 64))) for f in _h100()]
    assert got == PAPER_N_OUT_AT_64
    assert got == [f["paper_sweet_spot"]["estimated_n_out_at_64"] for f in _h100()]


def test_h100_energies_are_positive_on_the_papers_grid() -> None:
    levels = 2.0 ** np.arange(6, 13)
    ni, no = np.meshgrid(levels, levels)
    for f in _h100():
        e = ss.energy(ss.FitResult.from_dict(f["fit"]), ni, no)
        assert np.all(e > 0), f["model"]


@pytest.mark.shared_data
def test_h100_theta_is_table5_in_this_librarys_order(wilkins_csv) -> None:
    import csv

    path = wilkins_csv.parent.parent / "sweetspot-paper-h100" / "table5_theta.csv"
    with open(path, encoding="utf-8") as fh:
        rows = {r["model"]: r for r in csv.DictReader(fh)}
    for f in _h100():
        row = rows[f["model"]]
        assert f["theta"] == [float(row[f"theta{i}"]) for i in (1, 2, 3, 4, 5, 0)]


def test_load_params_by_architecture_name_and_gpu() -> None:
    res = ss.load_params("llama-3.1-8b", gpu="h100")
    assert res.models == ("Llama 3.1 (8B)",)
    assert round(float(ss.optimal_n_out(res, 64))) == 290
    with pytest.raises(TableError, match="no published fit"):
        ss.load_params("llama-3.1-8b", gpu="a100")
