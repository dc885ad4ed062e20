"""Common checks run over every model family and option (scikit-learn's common-checks style).

A new row of :data:`sweetspot.models.TERMS` or a new family is checked here the day it is
added: the model is linear in its coefficients, its theta map agrees with its design, a fit
to its own noiseless output gives the model back and survives a JSON round trip exactly, and
its sweet spot beats the integer output lengths next to it.
"""

from __future__ import annotations

import itertools
import warnings
from dataclasses import fields

import numpy as np
import pandas as pd
import pytest
from archs import LLAMA2_7B

import sweetspot as ss
from sweetspot import FitResult, ModelSpec
from sweetspot.models import FREE_MODELS, MODEL_NAMES, TERMS

LEVELS = np.array([64, 128, 256, 512, 1024, 2048, 4096], dtype=float)


def _specs() -> list[ModelSpec]:
    """Every family; physical ones with each option flipped alone, both caches and logits."""
    options = [f.name for f in fields(ModelSpec) if isinstance(f.default, bool)]
    options = [o for o in options if o != "kv_cache"]
    out = []
    for name in MODEL_NAMES:
        if name in FREE_MODELS:
            out.append(ModelSpec(name=name))
            continue
        for kv, logits in itertools.product((True, False), ("last", "all")):
            base = {"name": name, "kv_cache": kv, "logits": logits}
            out.append(ModelSpec(**base))
            for opt in options:
                default = next(f.default for f in fields(ModelSpec) if f.name == opt)
                out.append(ModelSpec(**base, **{opt: not default}))
    return out


SPECS = _specs()


def _arch(spec: ModelSpec):
    return LLAMA2_7B if spec.is_physical else None


def _grid() -> tuple[np.ndarray, np.ndarray]:
    ni, no = np.meshgrid(LEVELS, LEVELS, indexing="ij")
    return ni.ravel(), no.ravel()


def _result(spec: ModelSpec, coef: np.ndarray) -> FitResult:
    arch = _arch(spec)
    return FitResult(
        spec=spec,
        loss="relative",
        param_names=spec.param_names,
        values=tuple(float(c) for c in coef),
        stderrs=(float("nan"),) * len(coef),
        units=spec.param_units,
        architectures=() if arch is None else (("llama-2-7b", arch),),
    )


def _true_coef(spec: ModelSpec) -> np.ndarray:
    """Positive coefficients giving each term a comparable share of the energy."""
    X = spec.design(*_grid(), architecture=_arch(spec))
    rng = np.random.default_rng(7)
    return rng.uniform(0.5, 2.0, X.shape[1]) * 100.0 / np.median(np.abs(X), axis=0)


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.label)
def test_linear_in_its_coefficients(spec: ModelSpec) -> None:
    rng = np.random.default_rng(0)
    k = len(spec.param_names)
    c1, c2 = rng.uniform(0.1, 1.0, k), rng.uniform(0.1, 1.0, k)
    ni, no = _grid()
    p1 = _result(spec, c1).predict(ni, no, warn=False)
    p2 = _result(spec, c2).predict(ni, no, warn=False)
    p12 = _result(spec, c1 + 2.5 * c2).predict(ni, no, warn=False)
    np.testing.assert_allclose(p12, p1 + 2.5 * p2, rtol=1e-12)
    X = spec.design(ni, no, architecture=_arch(spec))
    np.testing.assert_allclose(p1, X @ c1, rtol=1e-12)


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.label)
def test_theta_map_agrees_with_the_design(spec: ModelSpec) -> None:
    M = spec.theta_map(_arch(spec))
    if spec.is_physical and not spec.kv_cache:
        assert M is None  # cubic attention terms: no six-term form
        return
    if not spec.is_physical and any(t.theta is None for t in spec.terms):
        assert M is None  # a term that is not a monomial: no six-term form
        return
    assert M is not None and M.shape == (6, len(spec.param_names))
    ni, no = _grid()
    X = spec.design(ni, no, architecture=_arch(spec))
    monomials = np.column_stack([ni * ni, ni * no, ni, no * no, np.ones_like(ni), no])
    coef = _true_coef(spec)
    np.testing.assert_allclose(monomials @ (M @ coef), X @ coef, rtol=1e-9)


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.label)
def test_fit_gives_the_model_back_and_round_trips_exactly(spec: ModelSpec) -> None:
    ni, no = _grid()
    coef = _true_coef(spec)
    energy = spec.design(ni, no, architecture=_arch(spec)) @ coef
    data = pd.DataFrame({"n_in": ni.astype(int), "n_out": no.astype(int), "energy_j": energy})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ss.IllConditionedWarning)
        res = ss.fit(data, spec, architecture=_arch(spec))
    np.testing.assert_allclose(res.predict(ni, no, warn=False), energy, rtol=1e-8)
    assert res.mape < 1e-6
    back = FitResult.from_dict(res.to_dict())
    assert back == res or back.to_dict() == res.to_dict()
    assert back.values == res.values and back.report() == res.report()
    np.testing.assert_array_equal(back.predict(ni, no, warn=False), res.predict(ni, no, warn=False))


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.label)
def test_sweet_spot_beats_its_integer_neighbours(spec: ModelSpec) -> None:
    res = _result(spec, _true_coef(spec))
    n_in = np.array([64.0, 512.0, 4096.0])
    best = ss.optimal_n_out(res, n_in, integer=True, n_out_max=2.0**16)
    e = ss.energy_per_token(res, n_in, best)
    for step in (-1.0, 1.0):
        other = np.clip(best + step, 1.0, 2.0**16)
        assert np.all(e <= ss.energy_per_token(res, n_in, other) * (1 + 1e-12))


def test_every_option_of_the_term_table_is_a_spec_field() -> None:
    names = {f.name for f in fields(ModelSpec)}
    for term in TERMS.values():
        assert term.option is None or term.option in names, term.name
        assert set(term.models) <= set(MODEL_NAMES), term.name
