"""Figures: what is drawn equals what the library computes (not just "it runs")."""

from __future__ import annotations

import subprocess
import sys
import warnings

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.colors import LogNorm
from matplotlib.figure import Figure

import sweetspot as ss
from sweetspot import plot as sp
from sweetspot.exceptions import SpecError

THETA = np.array([1e-6, 2e-5, 3e-3, 4e-5, 5.0, 0.2])  # n_out* from 360 (n_in 64) to 923 (4096)
LEVELS = 2 ** np.arange(6, 13)
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def data() -> pd.DataFrame:
    ni, no = np.meshgrid(LEVELS, LEVELS)
    rng = np.random.default_rng(0)
    e = ss.energy(THETA, ni.ravel(), no.ravel()) * (1 + 0.02 * rng.standard_normal(ni.size))
    return pd.DataFrame({"n_in": ni.ravel(), "n_out": no.ravel(), "energy_j": e})


@pytest.fixture(scope="module")
def result(data: pd.DataFrame) -> ss.FitResult:
    return ss.fit(data)


@pytest.fixture(scope="module")
def linear(data: pd.DataFrame) -> ss.FitResult:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return ss.fit(data, "linear")


def artists(fig: Figure, gid: str) -> list:
    return [a for ax in fig.axes for a in ax.get_children() if a.get_gid() == gid]


def one(fig: Figure, gid: str):
    found = artists(fig, gid)
    assert len(found) == 1, f"expected one artist {gid!r}, found {len(found)}"
    return found[0]


def legend_texts(ax) -> list[str]:
    return [t.get_text() for t in ax.get_legend().get_texts()]


def per_request(df: pd.DataFrame) -> np.ndarray:
    return df["energy_j"].to_numpy(float) / df.get("n_requests", 1)


# ---------------------------------------------------------------------------------------
def test_package_import_does_not_import_plot_or_matplotlib() -> None:
    code = (
        "import sys, sweetspot; "
        "assert 'sweetspot.plot' not in sys.modules; assert 'matplotlib' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# ---------------------------------------------------------------------------------------
# efficiency_heatmap
# ---------------------------------------------------------------------------------------
def test_heatmap_values_labels_and_log_colour_scale(result: ss.FitResult) -> None:
    ni = np.array([64, 128, 512, 4096])
    no = np.array([64, 256, 1024, 2048, 4096])
    fig = sp.efficiency_heatmap(result, n_in=ni, n_out=no)
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    mesh = one(fig, "efficiency")
    NI, NO = np.meshgrid(ni, no)
    np.testing.assert_allclose(
        np.asarray(mesh.get_array()).reshape(NI.shape), ss.tokens_per_joule(result, NI, NO)
    )
    assert isinstance(mesh.norm, LogNorm)
    assert ax.get_xlabel() == "input length n_in [tokens]"
    assert ax.get_ylabel() == "output length n_out [tokens]"
    assert fig.axes[1].get_ylabel() == "output tokens per joule [tokens/J]"
    assert ax.get_title() == "sweetspot"
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
    assert not isinstance(sp.efficiency_heatmap(result, log=False).axes[0].collections[0].norm,
                          LogNorm)  # fmt: skip


def test_heatmap_sweet_spot_curve_is_the_closed_form(result: ss.FitResult) -> None:
    fig = sp.efficiency_heatmap(result)
    line = one(fig, "sweet-spot")
    x, y = np.asarray(line.get_xdata()), np.asarray(line.get_ydata())
    assert x[0] == pytest.approx(64) and x[-1] == pytest.approx(4096)
    assert np.all(np.isfinite(y))  # the whole optimum curve lies inside 64..4096
    np.testing.assert_allclose(y, ss.optimal_n_out(result, x), rtol=1e-12)
    t1, _, t3, t4, t5, _ = result.theta
    np.testing.assert_allclose(y, np.sqrt((t1 * x**2 + t3 * x + t5) / t4), rtol=1e-12)
    assert artists(fig, "sweet-spot-clipped") == []
    assert artists(fig, "fitted-range") == []  # the map does not leave the fitted range
    assert "sweet spot n_out*(n_in)" in legend_texts(fig.axes[0])


def test_heatmap_default_ticks_are_powers_of_two(result: ss.FitResult) -> None:
    fig = sp.efficiency_heatmap(result)
    fig.canvas.draw()
    ax = fig.axes[0]
    for axis in (ax.xaxis, ax.yaxis):
        ticks = axis.get_majorticklocs()
        np.testing.assert_array_equal(ticks, 2.0 ** np.arange(6, 13))
        assert [t.get_text() for t in axis.get_ticklabels()] == [f"{2**k}" for k in range(6, 13)]


def test_heatmap_clips_the_curve_above_the_plotted_range() -> None:
    no = 2.0 ** np.arange(6, 10)  # 64..512; n_out* exceeds 512 at long prompts
    fig = sp.efficiency_heatmap(THETA, n_out=no)
    x = np.asarray(one(fig, "sweet-spot").get_xdata())
    y = np.asarray(one(fig, "sweet-spot").get_ydata())
    n_star = ss.optimal_n_out(THETA, x)
    inside = n_star <= 512
    assert inside.any() and not inside.all()
    np.testing.assert_allclose(y[inside], n_star[inside], rtol=1e-12)
    assert np.all(np.isnan(y[~inside]))
    clipped = one(fig, "sweet-spot-clipped")
    np.testing.assert_array_equal(clipped.get_ydata(), 512.0)
    assert any("above the plot" in t for t in legend_texts(fig.axes[0]))
    assert fig.axes[0].get_title() == "theta model"


@pytest.mark.parametrize(
    ("theta", "text"),
    [
        ([1e-6, 2e-5, 3e-3, 0.0, 5.0, 0.2], "keeps falling"),  # t4 = 0: longer is better
        ([0.0, 2e-5, -1e-3, 4e-5, 0.0, 0.2], "rises with n_out"),  # A < 0: n_out* = 1
    ],
)
def test_heatmap_without_interior_optimum_is_annotated(theta: list[float], text: str) -> None:
    with pytest.raises(ss.NoOptimumError):
        ss.optimal_n_out(theta, [64, 4096])
    fig = sp.efficiency_heatmap(theta)
    assert np.all(np.isnan(one(fig, "sweet-spot").get_ydata()))
    assert len(artists(fig, "sweet-spot-clipped")) >= 1
    assert any(text in t and "no interior optimum" in t for t in legend_texts(fig.axes[0]))


def test_heatmap_greys_out_non_positive_energy() -> None:
    theta = [0.0, 0.0, -0.01, 2e-5, 5.0, 0.2]  # E < 0 at long prompts, short outputs
    fig = sp.efficiency_heatmap(theta)
    arr = one(fig, "efficiency").get_array()
    assert np.ma.count_masked(arr) > 0
    assert np.all(arr.compressed() > 0)
    assert any("energy <= 0" in t for t in legend_texts(fig.axes[0]))


def test_heatmap_draws_on_a_given_axes_and_outlines_the_fitted_range(
    result: ss.FitResult,
) -> None:
    fig, (a, b) = plt.subplots(1, 2)
    out = sp.efficiency_heatmap(result, n_in=2.0 ** np.arange(4, 14), ax=b)
    assert out is fig
    assert a.get_title() == "" and b.get_title() == "sweetspot"
    rect = one(fig, "fitted-range")
    assert (rect.get_x(), rect.get_y()) == (64, 64)
    assert (rect.get_width(), rect.get_height()) == (4096 - 64, 4096 - 64)


def test_bad_grid_raises() -> None:
    with pytest.raises(SpecError, match="at least 2 distinct"):
        sp.efficiency_heatmap(THETA, n_in=[64])


# ---------------------------------------------------------------------------------------
# efficiency_vs_n_out
# ---------------------------------------------------------------------------------------
def test_efficiency_curves_and_their_optima(result: ss.FitResult) -> None:
    fig = sp.efficiency_vs_n_out(result)
    ax = fig.axes[0]
    assert ax.get_xlabel() == "output length n_out [tokens]"
    assert ax.get_ylabel() == "output tokens per joule [tokens/J]"
    assert ax.get_xscale() == "log"
    labels = legend_texts(ax)
    for ni in (64, 256, 1024, 4096):
        line = one(fig, f"efficiency-n_in-{ni}")
        x = np.asarray(line.get_xdata())
        np.testing.assert_allclose(line.get_ydata(), ss.tokens_per_joule(result, ni, x))
        mark = one(fig, f"optimum-n_in-{ni}")
        n_star = float(ss.optimal_n_out(result, ni))
        assert mark.get_marker() == "o"
        assert mark.get_xdata()[0] == pytest.approx(n_star, rel=1e-12)
        assert mark.get_ydata()[0] == pytest.approx(
            1 / float(ss.min_energy_per_token(result, ni)), rel=1e-12
        )
        # the marked point is the top of its curve
        assert mark.get_ydata()[0] >= np.max(line.get_ydata()) * (1 - 1e-12)
        assert any(t.startswith(f"n_in = {ni}: n_out* = {n_star:.0f}") for t in labels)


def test_efficiency_optimum_off_the_plot_is_an_edge_triangle() -> None:
    fig = sp.efficiency_vs_n_out(THETA, n_in=[64, 4096], n_out=2.0 ** np.arange(6, 10))
    assert one(fig, "optimum-n_in-64").get_marker() == "o"  # 360 is inside 64..512
    far = one(fig, "optimum-n_in-4096")  # 923 is beyond 512
    assert far.get_marker() == ">" and far.get_xdata()[0] == 512
    assert any("off the plot" in t for t in legend_texts(fig.axes[0]))


def test_efficiency_marks_extrapolation_of_a_fit() -> None:
    ni, no = np.meshgrid(LEVELS[:4], LEVELS[:4])  # fitted on 64..512 only
    df = pd.DataFrame(
        {"n_in": ni.ravel(), "n_out": no.ravel(), "energy_j": ss.energy(THETA, ni, no).ravel()}
    )
    fig = sp.efficiency_vs_n_out(ss.fit(df), n_in=[64, 4096], n_out=LEVELS)
    assert one(fig, "efficiency-n_in-64").get_linestyle() == "-"
    assert one(fig, "efficiency-n_in-4096").get_linestyle() == "--"
    assert "outside fitted n_out range" in legend_texts(fig.axes[0])


# ---------------------------------------------------------------------------------------
# parity and residuals
# ---------------------------------------------------------------------------------------
def test_parity_points_band_and_title(data: pd.DataFrame, result: ss.FitResult) -> None:
    fig = sp.parity(data, result)
    ax = fig.axes[0]
    pts = one(fig, "points").get_offsets()
    meas = per_request(data)
    np.testing.assert_allclose(pts[:, 0], meas)
    np.testing.assert_allclose(pts[:, 1], result.predict(data.n_in, data.n_out, warn=False))
    verts = one(fig, "band").get_paths()[0].vertices
    ratio = verts[:, 1] / verts[:, 0]
    assert np.all(np.isclose(ratio, 0.95) | np.isclose(ratio, 1.05))
    assert np.isclose(ratio, 0.95).any() and np.isclose(ratio, 1.05).any()
    identity = one(fig, "identity")
    np.testing.assert_allclose(identity.get_xdata(), identity.get_ydata())
    assert f"MAPE {result.mape:.2f} %" in ax.get_title()
    assert "sweetspot" in ax.get_title()
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
    assert ax.get_xlabel() == "measured energy per request [J]"
    assert ax.get_ylabel() == "predicted energy per request [J]"


def test_parity_accepts_arrays_and_cv_results(data: pd.DataFrame) -> None:
    cv = ss.cross_validate(data, "sweetspot", k=5, seed=0)
    fig = sp.parity(data, cv)
    np.testing.assert_allclose(one(fig, "points").get_offsets()[:, 1], cv.predicted_j)
    assert f"MAPE {cv.mape:.2f} %" in fig.axes[0].get_title()
    fig = sp.parity(data, cv.predicted_j, band=0.1, label="my model")
    verts = one(fig, "band").get_paths()[0].vertices
    assert np.isclose(verts[:, 1] / verts[:, 0], 1.1).any()
    assert fig.axes[0].get_title().startswith("my model")
    with pytest.raises(SpecError, match="one energy per data row"):
        sp.parity(data, cv.predicted_j[:-1])
    with pytest.raises(SpecError, match="band must be"):
        sp.parity(data, cv.predicted_j, band=5)


def test_parity_uses_energy_per_request(data: pd.DataFrame, result: ss.FitResult) -> None:
    batched = data.assign(n_requests=4, energy_j=data.energy_j * 4)
    pts = one(sp.parity(batched, result), "points").get_offsets()
    np.testing.assert_allclose(pts[:, 0], data.energy_j)


def test_residual_values(data: pd.DataFrame, result: ss.FitResult) -> None:
    pred = result.predict(data.n_in, data.n_out, warn=False)
    meas = per_request(data)
    fig = sp.residuals(data, result)
    want = (pred - meas) / meas * 100.0
    for name in ("n_in", "n_out"):
        off = one(fig, f"residuals-vs-{name}").get_offsets()
        np.testing.assert_allclose(off[:, 0], data[name])
        np.testing.assert_allclose(off[:, 1], want)
    ax_in, ax_out = fig.axes[0], fig.axes[1]
    assert ax_in.get_xlabel() == "input length n_in [tokens]"
    assert ax_out.get_xlabel() == "output length n_out [tokens]"
    assert ax_in.get_ylabel().endswith("[%]")
    assert ax_in.get_xscale() == "log" and ax_in.xaxis.get_transform().base == 2
    assert "sweetspot" in fig.get_suptitle() and f"{result.mape:.2f} %" in fig.get_suptitle()
    # the same from an array of predictions, on caller's axes
    fig2, axes = plt.subplots(1, 2)
    assert sp.residuals(data, pred, axes=axes) is fig2
    np.testing.assert_allclose(one(fig2, "residuals-vs-n_in").get_offsets()[:, 1], want)
    assert axes[1].get_ylabel().endswith("[%]")
    with pytest.raises(SpecError, match="two Axes"):
        sp.residuals(data, pred, axes=[axes[0]])


# ---------------------------------------------------------------------------------------
# energy_vs_linear
# ---------------------------------------------------------------------------------------
def test_energy_vs_linear(data: pd.DataFrame, result: ss.FitResult, linear: ss.FitResult) -> None:
    fig = sp.energy_vs_linear(data, result, linear)
    ax = fig.axes[0]
    assert ax.get_xlabel() == "output length n_out [tokens]"
    assert ax.get_ylabel() == "energy per request [J]"
    for ni in (64, 256, 1024, 4096):  # 4 of the 7 levels, spread evenly
        model = one(fig, f"model-n_in-{ni}")
        x = np.asarray(model.get_xdata())
        np.testing.assert_allclose(model.get_ydata(), result.predict(ni, x, warn=False))
        lin = one(fig, f"linear-n_in-{ni}")
        np.testing.assert_allclose(
            lin.get_ydata(), linear.predict(ni, np.asarray(lin.get_xdata()), warn=False)
        )
        pts = one(fig, f"measured-n_in-{ni}").get_offsets()
        rows = data.n_in == ni
        np.testing.assert_allclose(pts[:, 0], data.n_out[rows])
        np.testing.assert_allclose(pts[:, 1], data.energy_j[rows])
    texts = [t.get_text() for leg in ax.findobj(matplotlib.legend.Legend) for t in leg.get_texts()]
    assert f"linear (MAPE {linear.mape:.1f} %)" in texts
    assert f"sweetspot (MAPE {result.mape:.1f} %)" in texts


def test_energy_vs_linear_wants_one_model(data: pd.DataFrame, result, linear) -> None:
    two = pd.concat([data.assign(model="a"), data.assign(model="b")], ignore_index=True)
    with pytest.raises(SpecError, match="one LLM"):
        sp.energy_vs_linear(two, result, linear)
    with pytest.raises(SpecError, match="must be a FitResult"):
        sp.energy_vs_linear(data, result, THETA)


# ---------------------------------------------------------------------------------------
# physical models: pooled predictions and the report
# ---------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def pooled() -> tuple[ss.FitResult, pd.DataFrame]:
    spec = ss.ModelSpec(name="flops")
    ni, no = (a.ravel().astype(float) for a in np.meshgrid(LEVELS, LEVELS))
    rows = []
    for name in ("llama-2-7b", "falcon-7b"):
        X = spec.design(ni, no, architecture=ss.get_architecture(name), batch_size=1.0)
        e = X @ np.array([*np.linspace(1e-12, 3e-12, X.shape[1] - 1), 30.0])
        rows.append(pd.DataFrame({"n_in": ni, "n_out": no, "energy_j": e, "model": name}))
    df = pd.concat(rows, ignore_index=True)
    return ss.fit(df, spec, architecture={"llama-2-7b": "llama-2-7b", "falcon-7b": "falcon-7b"}), df


def test_parity_of_a_pooled_fit_predicts_each_rows_architecture(pooled) -> None:
    res, df = pooled
    pts = one(sp.parity(df, res), "points").get_offsets()
    for name in ("llama-2-7b", "falcon-7b"):
        rows = (df.model == name).to_numpy()
        want = res.predict(df.n_in[rows], df.n_out[rows], architecture=name, warn=False)
        np.testing.assert_allclose(pts[rows, 1], want)
    np.testing.assert_allclose(pts[:, 1], pts[:, 0], rtol=1e-6)  # noise-free: exact fit


def test_save_report_figures(tmp_path, data, result, pooled) -> None:
    before = plt.get_fignums()
    res_pooled, df_pooled = pooled
    paths = sp.save_report_figures(
        {"H100/sweetspot": result, "h100 sweetspot": result, "pooled": res_pooled},
        tmp_path / "figs",
        data={"H100/sweetspot": data, "pooled": df_pooled},
    )
    names = [p.name for p in paths]
    assert names == [
        "h100-sweetspot-heatmap.png",
        "h100-sweetspot-efficiency.png",
        "h100-sweetspot-parity.png",
        "h100-sweetspot-residuals.png",
        "h100-sweetspot-vs-linear.png",
        "h100-sweetspot-2-heatmap.png",  # same slug: made unique, no data given
        "h100-sweetspot-2-efficiency.png",
        "pooled-falcon-7b-heatmap.png",  # a pooled fit: efficiency per architecture
        "pooled-falcon-7b-efficiency.png",
        "pooled-llama-2-7b-heatmap.png",
        "pooled-llama-2-7b-efficiency.png",
        "pooled-parity.png",
        "pooled-residuals.png",  # several LLMs: no single linear baseline
    ]
    for p in paths:
        assert p.parent == tmp_path / "figs"
        blob = p.read_bytes()
        assert len(blob) > 10_000 and blob.startswith(PNG_MAGIC)
    assert plt.get_fignums() == before  # nothing left open in pyplot


def test_save_report_figures_rejects_bad_input(tmp_path, result) -> None:
    with pytest.raises(SpecError, match="mapping"):
        sp.save_report_figures([result], tmp_path)
    with pytest.raises(SpecError, match="must be a FitResult"):
        sp.save_report_figures({"x": THETA}, tmp_path)


# ---------------------------------------------------------------------------------------
# real data: the Wilkins et al. A100 grid, KV cache off
# ---------------------------------------------------------------------------------------
@pytest.mark.shared_data
def test_wilkins_cache_off_physical_fit(wilkins_csv, tmp_path) -> None:
    df = ss.read_measurements(wilkins_csv, format="wilkins")
    group = df[df.model == "falcon-7b"].reset_index(drop=True)
    spec = ss.ModelSpec(name="flops", kv_cache=False, per_pass=True)
    res = ss.fit(group, spec, architecture="falcon-7b")
    assert res.theta is None  # cubic: the optimum is numerical

    fig = sp.efficiency_heatmap(res)
    ax = fig.axes[0]
    assert ax.get_xlim()[0] < 8 and ax.get_xlim()[1] > 4096  # 8..2048 data and 64..4096
    line = one(fig, "sweet-spot")
    x, y = np.asarray(line.get_xdata()), np.asarray(line.get_ydata())
    shown = np.isfinite(y)
    assert shown.sum() > 10
    np.testing.assert_allclose(y[shown], ss.optimal_n_out(res, x[shown]), rtol=1e-6)
    # long prompts have no interior optimum in this model: drawn clipped and said so
    assert artists(fig, "sweet-spot-clipped")
    assert any("no interior optimum" in t for t in legend_texts(ax))
    assert one(fig, "fitted-range").get_width() == 2048 - 8
    assert "falcon-7b" in ax.get_title() and "cache=off" in ax.get_title()

    fig = sp.efficiency_vs_n_out(res)
    mark = one(fig, "optimum-n_in-64")
    assert mark.get_xdata()[0] == pytest.approx(float(ss.optimal_n_out(res, 64)), rel=1e-6)

    fig = sp.parity(group, res)
    assert f"MAPE {res.mape:.2f} %" in fig.axes[0].get_title()

    paths = sp.save_report_figures({"falcon-7b": res}, tmp_path, data={"falcon-7b": group})
    assert [p.name.removeprefix("falcon-7b-") for p in paths] == [
        "heatmap.png", "efficiency.png", "parity.png", "residuals.png", "vs-linear.png",
    ]  # fmt: skip
    assert all(p.stat().st_size > 10_000 for p in paths)


# -------------------------------------------------- several LLMs: the paper's Figures 2, 3 ---
PAPER_THETAS = {  # two H100 entries of the SweetSpot paper's Table 5, in t1..t6 order
    "Llama 3.2 (1B)": [
        1.079941e-07,
        6.825240e-06,
        2.611042e-03,
        3.852659e-06,
        0.5406443,
        5.005153e-03,
    ],
    "OPT (1.3B)": [1.666292e-07, 4.388860e-05, 2.915735e-03, 2.342971e-05, 0.3187084, 5.969229e-03],
    "Gemma 2 (9B)": [
        5.981696e-07,
        1.110917e-04,
        1.901597e-02,
        7.408055e-05,
        2.558409,
        1.749322e-02,
    ],
}
GROUPS = {"Llama 3.2 (1B)": "XS", "OPT (1.3B)": "XS", "Gemma 2 (9B)": "M"}


def test_efficiency_by_group_draws_one_panel_per_group_and_marks_optima() -> None:
    fig = sp.efficiency_by_group(PAPER_THETAS, GROUPS, n_in=64)
    axes = fig.axes
    assert [a.get_title() for a in axes] == ["XS", "M"]
    lines = {ln.get_gid(): ln for a in axes for ln in a.get_lines() if ln.get_gid()}
    assert set(lines) == {
        "efficiency-llama-3.2-1b",
        "efficiency-opt-1.3b",
        "efficiency-gemma-2-9b",
    }
    for label, theta in PAPER_THETAS.items():
        line = next(ln for ln in lines.values() if ln.get_label().startswith(label))
        x, y = line.get_data()
        e = ss.energy(theta, 64, x)
        np.testing.assert_allclose(y, x / e)
        n_star = float(ss.optimal_n_out(theta, 64))
        assert f"n_out* = {n_star:.0f}" in line.get_label()
    plt.close("all")
    with pytest.raises(SpecError, match="groups has no entry"):
        sp.efficiency_by_group(PAPER_THETAS, {"OPT (1.3B)": "XS"})


def test_normalised_heatmap_is_the_mean_of_min_max_normalised_grids() -> None:
    fig = sp.normalised_efficiency_heatmap(PAPER_THETAS)
    ax = fig.axes[0]
    (image,) = [i for i in ax.get_images() if i.get_gid() == "normalised-efficiency"]
    levels = 2.0 ** np.arange(6, 13)
    ni, no = np.meshgrid(levels, levels, indexing="ij")
    expected = []
    for theta in PAPER_THETAS.values():
        eta = no / ss.energy(theta, ni, no)
        expected.append((eta - eta.min()) / (eta.max() - eta.min()))
    np.testing.assert_allclose(np.asarray(image.get_array()).T, np.mean(expected, axis=0))
    plt.close("all")
    with pytest.raises(SpecError, match="non-positive energy"):
        sp.normalised_efficiency_heatmap({"bad": [0, 0, 0, 0, -1.0, 1e-3]})


# -- batched serving: the paper's Figures 1 and 4 as predictions, parity by LLM ------------
def test_serving_efficiency_draws_one_curve_per_configuration() -> None:
    from sweetspot.serving import ServingConfig

    res = ss.load_pooled("H100")
    configs = {"mbs 64": ServingConfig(max_batch_size=64), "mbs 1024": ServingConfig()}
    quotes = [("mbs 64", "a peak", None, 40.0), ("mbs 1024", "a point", 256.0, 100.0)]
    fig = sp.serving_efficiency(res, "Llama 3.2 (1B)", configs, quotes=quotes, reference=THETA)
    ax = fig.axes[0]
    for label, cfg in configs.items():
        line = one(fig, f"serving-{label.replace(' ', '-')}")
        x, y = line.get_data()
        bound = res.bind("Llama 3.2 (1B)", serving=cfg)
        np.testing.assert_allclose(y, x / bound.predict(np.full_like(x, 64.0), x, warn=False))
    small, big = (one(fig, f"serving-mbs-{n}").get_data()[1] for n in (64, 1024))
    assert np.all(small < big)  # a smaller batch limit: less efficient everywhere
    assert one(fig, "quote-a-peak").get_ydata()[0] == 40.0
    assert list(one(fig, "quote-a-point").get_data()[0]) == [256.0]
    assert one(fig, "reference") is not None
    texts = legend_texts(ax)
    assert any(t.startswith("mbs 64: peak") for t in texts) and "paper: a peak" in texts
    with pytest.raises(SpecError, match="non-empty mapping"):
        sp.serving_efficiency(res, "Llama 3.2 (1B)", {})


def test_paper_figures_carry_the_quoted_points() -> None:
    fig = sp.paper_figure4()
    texts = legend_texts(fig.axes[0])
    assert "paper: 120.71 at n_out = 256 (max_batch_size 1024)" in texts
    assert "paper: peak 48.9 (max_batch_size 64)" in texts
    assert len([t for t in texts if t.startswith("max_batch_size")]) == 5
    fig = sp.paper_figure1()
    left, right = fig.axes[:2]
    assert len([t for t in legend_texts(left) if "requests per run" in t]) == 3
    bars = {n: one(fig, f"predicted-range-{n}") for n in (10, 100, 1000)}
    assert artists(fig, "paper-range-10") and artists(fig, "paper-range-1000")
    _, hi10 = bars[10].get_segments()[0][:, 1]
    _, hi1k = bars[1000].get_segments()[0][:, 1]
    assert hi10 < hi1k / 5 and right.get_yscale() == "log"
    with pytest.raises(SpecError, match="two Axes"):
        sp.paper_figure1(axes=[left])


def test_parity_by_model_colours_each_llm() -> None:
    rng = np.random.default_rng(1)
    ni, no = np.meshgrid(LEVELS, LEVELS)
    rows = []
    for m, scale in (("a", 1.0), ("b", 3.0)):
        e = ss.energy(THETA, ni.ravel(), no.ravel()) * scale
        rows.append(pd.DataFrame({"model": m, "n_in": ni.ravel(), "n_out": no.ravel(),
                                  "energy_j": e}))  # fmt: skip
    df = pd.concat(rows, ignore_index=True)
    pred = df["energy_j"].to_numpy() * (1 + 0.05 * rng.standard_normal(len(df)))
    fig = sp.parity_by_model(df, pred, title="toy")
    for m in ("a", "b"):
        pts = one(fig, f"points-{m}").get_offsets()
        sel = (df["model"] == m).to_numpy()
        np.testing.assert_allclose(pts[:, 1], pred[sel])
    ape = np.abs(pred - df["energy_j"]) / df["energy_j"] * 100
    texts = legend_texts(fig.axes[0])
    assert f"a: {ape[df['model'] == 'a'].mean():.1f} %" in texts
    assert fig.axes[0].get_title().startswith(f"toy\nMAPE {ape.mean():.2f} %")
    with pytest.raises(SpecError, match="needs a 'model' column"):
        sp.parity_by_model(df.drop(columns="model"), pred)
    with pytest.raises(SpecError, match="band must be a fraction"):
        sp.parity_by_model(df, pred, band=2.0)


def test_save_serving_figures_without_the_paper_data(tmp_path) -> None:
    written = sp.save_serving_figures(tmp_path)
    assert [p.name for p in written] == ["paper-figure1-requests.png", "paper-figure4-batch.png"]
    assert all(p.read_bytes()[:8] == PNG_MAGIC for p in written)


def test_a_bound_fit_draws_like_a_fit() -> None:
    bound = ss.tables.serving_model("llama-3.1-8b")
    fig = sp.efficiency_vs_n_out(bound, [64, 1024])
    assert "llama-3.1-8b".lower() in fig.axes[0].get_title().lower()
    assert "predicted from pooled constants" in fig.axes[0].get_title()
