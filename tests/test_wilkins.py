"""The real Wilkins et al. A100 grid (skips without ../shared/data).

Reference figures come from ../shared/data/wilkins-grid/SOURCE.md (in-sample MAPE of the
six-term quadratic with relative least squares, per (model, GPU count) group); they are
the golden results this test checks against, with their provenance.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import sweetspot as ss

# SOURCE.md "Reference figures": group -> (quadratic MAPE %, linear MAPE %)
SOURCE_MD = {
    ("Llama-2-7b-chat-hf", 1): (5.46, 45.21),
    ("Llama-2-13b-chat-hf", 1): (6.23, 47.27),
    ("Llama-2-70b-chat-hf", 4): (6.21, 42.90),
    ("Mistral-7B-v0.1", 1): (4.59, 45.38),
    ("Mixtral-8x7B-v0.1", 3): (5.26, 28.10),
    ("falcon-7b", 1): (10.77, 48.30),
    ("falcon-40b", 3): (6.69, 44.83),
}
FAMILIES = ["linear", "wilkins", "sweetspot"]


@pytest.fixture(scope="module")
def groups(wilkins_csv):
    data = ss.read_measurements(wilkins_csv, format="wilkins")
    return {key: g for key, g in data.groupby(["model", "n_gpus"])}


def test_wilkins_table(groups, capsys) -> None:
    assert set(groups) == set(SOURCE_MD)
    rows = []
    for key, g in sorted(groups.items()):
        for family in FAMILIES:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ss.SweetspotWarning)
                res = ss.fit(g, family)
                cv = ss.cross_validate(g, family, k=5, seed=0)
            rows.append((key, family, res.mape, cv.mape))
    with capsys.disabled():
        print("\nWilkins A100 grid: in-sample and 5-fold CV MAPE [%] (relative loss)")
        print(f"{'model':<22}{'gpus':>5}  {'family':<10}{'in-sample':>10}{'5-fold CV':>11}")
        for (model, gpus), family, m, c in rows:
            print(f"{model:<22}{gpus:>5}  {family:<10}{m:>10.2f}{c:>11.2f}")
    by = {(k, f): (m, c) for k, f, m, c in rows}
    for key, (quad_ref, lin_ref) in SOURCE_MD.items():
        quad, _ = by[(key, "sweetspot")]
        lin, _ = by[(key, "linear")]
        assert abs(quad - quad_ref) <= 0.5, (key, quad, quad_ref)
        assert abs(lin - lin_ref) <= 0.5, (key, lin, lin_ref)
        assert lin >= 3 * quad, (key, lin, quad)
    cv_quad = [by[(k, "sweetspot")][1] for k in SOURCE_MD]
    # SOURCE.md: 5-fold CV (default_rng(0)) of the quadratic gives 4.9 % .. 11.7 %, 7.0 % mean
    assert min(cv_quad) == pytest.approx(4.9, abs=0.1)
    assert max(cv_quad) == pytest.approx(11.7, abs=0.1)
    assert np.mean(cv_quad) == pytest.approx(7.0, abs=0.1)


def test_wilkins_knowing_the_cache_is_off_matters(groups) -> None:
    # The data was taken with use_cache=False (SOURCE.md): a physical model that recomputes
    # the prefix at every step must predict it far better than one that assumes a cache.
    for key, g in sorted(groups.items()):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ss.SweetspotWarning)
            on = ss.cross_validate(g, ss.ModelSpec(name="memory_flops", per_pass=True))
            off = ss.cross_validate(
                g, ss.ModelSpec(name="memory_flops", kv_cache=False, per_pass=True)
            )
        assert off.mape < on.mape / 2, (key, off.mape, on.mape)
