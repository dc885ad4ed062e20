"""No silently wrong answers: each finding of the trust review, tested as a user meets it."""

from __future__ import annotations

import json
import warnings

import matplotlib
import numpy as np
import pandas as pd
import pytest
from grids import grid_frame, with_energy
from test_evaluate import synthetic

import sweetspot as ss
from sweetspot.cli import main
from sweetspot.exceptions import (
    ExtrapolationWarning,
    NegativeCoefficientWarning,
    NonPhysicalWarning,
    SimulatedDataWarning,
    SpecError,
)

matplotlib.use("Agg")

THETA = [1e-6, 2e-5, 3e-3, 4e-5, 5.0, 0.2]


# 1. what the data says about the engine is used -------------------------------------------
def test_fit_takes_the_cache_from_the_data() -> None:
    data = synthetic(noise=0.01)  # kv_cache=False, engine=hf-transformers, as the Wilkins rows
    one = data[data.model == "Llama-2-7b-chat-hf"]
    res = ss.fit(one, "memory_flops", architecture="llama-2-7b")
    assert res.spec.kv_cache is False and res.spec.logits == "all"
    assert res.mape < 5
    with pytest.raises(SpecError, match="kv_cache column says the engine recomputes the prefix"):
        ss.fit(one, ss.ModelSpec(name="flops"), architecture="llama-2-7b")
    with pytest.raises(SpecError, match="kv_cache column"):
        ss.fit(one, "flops", architecture="llama-2-7b", kv_cache=True)
    with pytest.raises(SpecError, match="mixes n_gpus"):
        ss.fit(data.assign(n_gpus=[1, 2] * (len(data) // 2)), "flops")


def test_cli_fit_takes_the_cache_from_the_data(tmp_path, capsys) -> None:
    path = tmp_path / "grid.csv"
    synthetic(noise=0.01).query("model == 'Mistral-7B-v0.1'").to_csv(path, index=False)
    assert main(["fit", str(path), "--model", "flops", "--json"]) == 0
    spec = json.loads(capsys.readouterr().out)["spec"]
    assert spec["kv_cache"] is False and spec["logits"] == "all"


# 2. a non-physical fit is flagged, never recommended, its energies never printed -----------
def test_free_quadratic_on_cache_off_data_is_flagged() -> None:
    one = synthetic(noise=0.01).query("model == 'falcon-7b'")
    with pytest.warns(NonPhysicalWarning, match="cubic terms"):
        res = ss.fit(one, "sweetspot")
    assert any("cubic terms" in w for w in res.fit_warnings)


def test_published_tables_recommend_only_physical_families_and_hide_negative_energies(
    capsys,
) -> None:
    from sweetspot.tables import read_table

    for f in read_table()["fits"]:
        if f["recommended"]:
            assert not f.get("non_physical"), f["model"]
            res = ss.FitResult.from_dict(f["fit"])
            assert res.non_physical() is None, f["model"]
    assert main(["report", "--family", "sweetspot", "--gpu", "a100"]) == 0
    out = capsys.readouterr().out
    rows = [line.split() for line in out.splitlines() if line.strip()[:1].isdigit()]
    for row in rows:
        if row[2] != "non-physical":
            assert float(row[2]) > 0 and float(row[4]) > 0, row


# 3. extrapolation is marked everywhere -----------------------------------------------------
def _short_grid_fit(model: str = "sweetspot") -> ss.FitResult:
    df = grid_frame([64, 128, 256, 512, 1024], [64, 128, 256])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ss.SweetspotWarning)
        return ss.fit(with_energy(df, ss.energy(THETA, df.n_in, df.n_out)), model)


def test_sweet_spot_outside_the_fitted_n_out_is_marked() -> None:
    res = _short_grid_fit()
    with pytest.warns(ExtrapolationWarning, match="n_out\\* 360..478 outside the fitted 64..256"):
        sp = ss.sweet_spot(res, [64, 1024])
    assert sp.extrapolated.tolist() == [True, True]
    assert "extrapolated: outside the fitted n_out 64..256" in res.report()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert not ss.sweet_spot(THETA, [64, 1024]).extrapolated.any()  # a bare theta
        ss.sweet_spot(res, [64], warn=False)


def test_boundary_answers_say_so() -> None:
    res = _short_grid_fit("linear")
    text = res.report()
    assert "boundary: n_out_max = 1048576, no interior sweet spot" in text
    sp = ss.sweet_spot(res, [64], n_out_max=2.0**20, warn=False)
    assert not sp.interior[0] and sp.extrapolated[0]


def test_plan_warns_past_the_fitted_range(capsys) -> None:
    res = _short_grid_fit()
    with pytest.warns(ExtrapolationWarning):
        ss.recommend_max_tokens(res, 3000)
    assert main(["plan", "--params", "llama-3.1-8b", "--gpu", "h100", "--n-in", "6000"]) == 0
    assert "extrapolated" in capsys.readouterr().out


# 4. several batch sizes: never a silent batch 1 --------------------------------------------
def test_a_fit_over_several_batch_sizes_needs_a_batch_size() -> None:
    spec = ss.ModelSpec(name="memory_flops")
    coef = np.array([0.4e-12, 1.1e-12, 30e-12, 8.0])
    arch = ss.get_architecture("llama-2-7b")
    frames = []
    for batch in (1, 8, 128):
        df = grid_frame([64, 512, 2048], [32, 256, 1024]).assign(batch_size=batch)
        X = spec.design(df.n_in, df.n_out, architecture=arch, batch_size=batch)
        frames.append(with_energy(df, X @ coef))
    res = ss.fit(pd.concat(frames, ignore_index=True), spec, architecture=arch)
    assert res.several_batch_sizes and res.batch_range == (1.0, 128.0)
    assert res.theta is None
    with pytest.raises(SpecError, match=r"batch sizes 1\.\.128"):
        res.predict(512, 256)
    with pytest.raises(SpecError, match=r"batch_size=\.\.\."):
        ss.optimal_n_out(res, 512)
    expected = spec.design([512.0], [256.0], architecture=arch, batch_size=128) @ coef
    np.testing.assert_allclose(res.predict(512, 256, batch_size=128), expected, rtol=1e-8)
    with pytest.warns(ExtrapolationWarning, match="batch size 512"):
        res.predict(512, 256, batch_size=512)
    back = ss.FitResult.from_dict(json.loads(res.to_json()))
    assert back.several_batch_sizes and back.batch_range == res.batch_range


# 5. the report lists every warning; a zero coefficient is not negative -------------------
def test_report_lists_data_warnings_and_ignores_rounding_negatives(tmp_path) -> None:
    df = grid_frame()
    path = tmp_path / "simulated.csv"
    with_energy(df, ss.energy(THETA, df.n_in, df.n_out)).assign(simulated=True).to_csv(path)
    with pytest.warns(SimulatedDataWarning):
        res = ss.fit(path)
    assert any("simulated" in w for w in res.fit_warnings)
    assert "simulated" in res.report().split("[[Warnings]]")[1]
    exact = [1e-6, 2e-5, 3e-3, 4e-5, 0.0, 0.2]  # t5 = 0: fits to about -1e-15
    df = grid_frame()
    with warnings.catch_warnings():
        warnings.simplefilter("error", NegativeCoefficientWarning)
        res = ss.fit(with_energy(df, ss.energy(exact, df.n_in, df.n_out)))
    assert not any("negative" in w for w in res.fit_warnings)


# 6. the documented entry points accept what the docs say -----------------------------------
def test_optimum_reads_group_files_and_published_names(tmp_path, capsys) -> None:
    path = tmp_path / "g.csv"
    frames = []
    for name, scale in (("a", 1.0), ("b", 2.0)):
        df = grid_frame()
        frames.append(
            with_energy(df, scale * ss.energy(THETA, df.n_in, df.n_out)).assign(model=name)
        )
    pd.concat(frames).to_csv(path, index=False)
    saved = tmp_path / "fits.json"
    assert (
        main(["fit", str(path), "--model", "sweetspot", "--group", "model", "--save", str(saved)])
        == 0
    )
    capsys.readouterr()
    assert main(["optimum", f"{saved}#b", "--n-in", "64,1024"]) == 0
    assert "1024" in capsys.readouterr().out
    assert main(["optimum", str(saved)]) == 1
    assert f"pick one with '{saved}#a'" in capsys.readouterr().err
    assert main(["optimum", "llama-3.1-8b", "--gpu", "h100", "--n-in", "64"]) == 0
    assert ss.SimulatedDataWarning is SimulatedDataWarning


# 7. legends say what the quantity does ----------------------------------------------------
def test_legend_direction_is_read_off_the_energy() -> None:
    import matplotlib.pyplot as plt

    from sweetspot import plot as sp

    res = ss.load_params("llama-2-13b", gpu="a100")
    fig = sp.efficiency_heatmap(res)
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    for text in labels:
        if "keeps falling" in text:  # then it must fall at twice the plotted top
            pytest.fail(
                f"legend says 'keeps falling' for a fit whose sweet spot is n_out = 1: {text}"
            )
    assert any("rises with n_out" in t for t in labels)
    plt.close("all")


# 8. command-line messages name flags -------------------------------------------------------
def test_cli_messages_name_flags(tmp_path, capsys) -> None:
    path = tmp_path / "fit.json"
    theta_falling = [1e-6, 2e-5, 3e-3, -1e-8, 5.0, 0.2]  # t4 < 0: no interior sweet spot
    df = grid_frame()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ss.fit(with_energy(df, ss.energy(theta_falling, df.n_in, df.n_out)), "sweetspot").to_json(
            str(path)
        )
    assert main(["plan", "--params", str(path), "--n-in", "512"]) == 1
    err = capsys.readouterr().err
    assert "--n-max" in err and "n_max=" not in err
    two = tmp_path / "two.csv"
    pd.concat(
        [with_energy(df, ss.energy(THETA, df.n_in, df.n_out)).assign(model=m) for m in "ab"]
    ).to_csv(two, index=False)
    assert main(["fit", str(two), "--model", "sweetspot"]) == 1
    err = capsys.readouterr().err
    assert "--group model" in err and "data[data.model" not in err
