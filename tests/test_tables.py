"""Published parameter tables: loading, validation, and the rebuild from the shared data."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

import sweetspot as ss
from sweetspot.cli import main
from sweetspot.exceptions import TableError
from sweetspot.tables import build_tables, list_params, load_params, load_pooled, read_table


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


def test_report_runs_from_shipped_tables(capsys) -> None:
    assert main(["report"]) == 0
    out = capsys.readouterr().out
    assert "n_out*" in out and "Llama-2-7b-chat-hf" in out
    assert (
        main(["report", "--model", "mistral", "--family", "sweetspot", "--n-in", "100,1000"]) == 0
    )
    out = capsys.readouterr().out
    assert "Mistral" in out and "Llama" not in out
    assert main(["report", "--model", "nothing-like-this"]) == 1
    assert main(["tables", "list"]) == 0
    assert "recommended" in capsys.readouterr().out
