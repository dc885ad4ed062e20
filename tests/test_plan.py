"""Tests of sweetspot.plan: max_tokens, prompt limits, truncation, workloads and policies."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import sweetspot as ss
from sweetspot import plan
from sweetspot.exceptions import (
    ExtrapolationWarning,
    NegativeCoefficientWarning,
    NoOptimumError,
    SpecError,
)
from sweetspot.models import ModelSpec

THETA = np.array([1e-6, 2e-5, 3e-3, 4e-5, 5.0, 0.2])  # interior optimum everywhere
SIMPLE = [0.0, 0.0, 0.0, 1e-3, 4.0, 0.1]  # n_out* = sqrt(4000) = 63.2 for every n_in

# --------------------------------------------------------------------------- strategies ---
coef = st.floats(min_value=1e-9, max_value=1e-2, allow_nan=False)


@st.composite
def interior_thetas(draw: st.DrawFn) -> np.ndarray:
    """Thetas with t4 > 0 and t1 n^2 + t3 n + t5 > 0 for every n >= 1 (interior optimum)."""
    t1 = draw(st.one_of(st.just(0.0), st.floats(1e-10, 1e-4)))
    t2 = draw(st.floats(0.0, 1e-3))
    t3 = draw(st.floats(0.0, 1e-1))
    t4 = draw(st.floats(1e-7, 1e-2))
    t5 = draw(st.floats(1e-2, 1e3))
    t6 = draw(st.floats(0.0, 1.0))
    return np.array([t1, t2, t3, t4, t5, t6])


def signed(lo: float, hi: float, neg: float) -> st.SearchStrategy[float]:
    """0, or a magnitude in [lo, hi] (positive) or [lo, neg] (negative)."""
    return st.one_of(st.just(0.0), st.floats(lo, hi), st.floats(lo, neg).map(lambda x: -x))


@st.composite
def any_thetas(draw: st.DrawFn) -> np.ndarray:
    """Thetas with t1 >= 0 but any signs elsewhere (a fitted quadratic can have them)."""
    t1 = draw(st.one_of(st.just(0.0), st.floats(1e-10, 1e-4)))
    t2 = draw(signed(1e-8, 1e-3, 1e-4))
    t3 = draw(signed(1e-6, 1e-1, 1e-1))
    t4 = draw(signed(1e-8, 1e-2, 1e-4))
    t5 = draw(signed(1e-3, 1e3, 10.0))
    t6 = draw(signed(1e-6, 1.0, 0.1))
    return np.array([t1, t2, t3, t4, t5, t6])


def e_tok(theta: np.ndarray, n_in: float, n_out: float) -> float:
    return float(ss.energy_per_token(theta, n_in, n_out))


def closed_form_k(theta: np.ndarray, n_in: float, lo: int, hi: int | None) -> int:
    t1, _, t3, t4, t5, _ = theta
    n_star = math.sqrt((t1 * n_in * n_in + t3 * n_in + t5) / t4)
    down, up = max(math.floor(n_star), 1), max(math.ceil(n_star), 1)
    k = up if e_tok(theta, n_in, up) < e_tok(theta, n_in, down) else down
    k = max(k, lo)
    return int(k if hi is None else min(k, hi))


@pytest.fixture(scope="module")
def quad_fit() -> ss.FitResult:
    """A sweetspot fit on synthetic data from THETA (n_in, n_out in 16..4096)."""
    ni, no = np.meshgrid([16, 64, 256, 1024, 4096], [16, 64, 256, 1024, 4096])
    e = ss.energy(THETA, ni.ravel(), no.ravel())
    return ss.fit(pd.DataFrame({"n_in": ni.ravel(), "n_out": no.ravel(), "energy_j": e}))


@pytest.fixture(scope="module")
def cubic_fit() -> ss.FitResult:
    """A physical fit without KV cache (no theta: cubic energy) on synthetic data."""
    ni, no = np.meshgrid([16, 64, 256, 1024, 2048], [16, 64, 256, 1024, 2048])
    ni, no = ni.ravel(), no.ravel()
    flops = ss.flops(ss.get_architecture("llama-2-7b"), ni, no, kv_cache=False)
    e = 2e-12 * flops + 30.0 + 0.5 * no
    data = pd.DataFrame({"n_in": ni, "n_out": no, "energy_j": e})
    res = ss.fit(
        data, ModelSpec(name="flops", kv_cache=False, per_pass=True), architecture="llama-2-7b"
    )
    assert res.theta is None
    return res


# ------------------------------------------------------------------ recommend_max_tokens ---
@settings(max_examples=200, deadline=None)
@given(
    theta=interior_thetas(),
    n_in=st.integers(1, 100_000),
    lo=st.integers(1, 300),
    width=st.one_of(st.none(), st.integers(0, 3000)),
)
def test_recommend_equals_clamped_closed_form(
    theta: np.ndarray, n_in: int, lo: int, width: int | None
) -> None:
    hi = None if width is None else lo + width
    got = plan.recommend_max_tokens(theta, n_in, n_min=lo, n_max=hi)
    assert isinstance(got, int)
    assert got == closed_form_k(theta, n_in, lo, hi)
    # and it is the best integer inside the bounds: it beats its admissible neighbours
    for nb in (got - 1, got + 1):
        if nb >= lo and (hi is None or nb <= hi):
            assert e_tok(theta, n_in, got) <= e_tok(theta, n_in, nb) * (1 + 1e-12)


@settings(max_examples=200, deadline=None)
@given(
    theta=interior_thetas(),
    n_in=st.integers(1, 50_000),
    slack=st.floats(1e-4, 2.0),
    lo=st.integers(1, 50),
)
def test_slack_is_the_shortest_within_slack(
    theta: np.ndarray, n_in: int, slack: float, lo: int
) -> None:
    k = plan.recommend_max_tokens(theta, n_in, n_min=lo)
    m = plan.recommend_max_tokens(theta, n_in, n_min=lo, slack=slack)
    target = (1 + slack) * e_tok(theta, n_in, k)
    assert lo <= m <= k
    assert e_tok(theta, n_in, m) <= target
    assert m == lo or e_tok(theta, n_in, m - 1) > target


def test_recommend_vectorised_and_examples(quad_fit: ss.FitResult) -> None:
    got = plan.recommend_max_tokens(SIMPLE, [64, 512, 4096])
    assert got.dtype == np.int64 and got.tolist() == [63, 63, 63]
    grid = np.array([[64, 512], [1024, 4096]])
    out = plan.recommend_max_tokens(quad_fit, grid)
    assert out.shape == (2, 2)
    expect = [[closed_form_k(quad_fit.theta, n, 1, None) for n in row] for row in grid]
    assert out.tolist() == expect
    assert plan.recommend_max_tokens(SIMPLE, 512, n_max=32) == 32
    assert plan.recommend_max_tokens(SIMPLE, 512, n_min=100) == 100
    assert plan.recommend_max_tokens(SIMPLE, [7], slack=0.1).tolist() == [36]
    assert plan.recommend_max_tokens(SIMPLE, np.array([], dtype=int)).shape == (0,)


def test_recommend_boundary_with_n_max() -> None:
    # t4 < 0: energy per token keeps falling, so the best allowed answer is n_max
    theta = [0.0, 0.0, 0.0, -1e-4, 4.0, 0.5]
    assert plan.recommend_max_tokens(theta, 100, n_max=500) == 500
    with pytest.raises(NoOptimumError, match=r"n_max=") as info:
        plan.recommend_max_tokens(theta, 100)
    assert info.value.boundary == "n_out -> inf"
    # non-positive fixed part: energy per token rises from n_out = 1
    with pytest.raises(NoOptimumError, match=r"keeps rising"):
        plan.recommend_max_tokens([0.0, 0.0, 0.0, 1e-3, -4.0, 0.5], 100)
    assert plan.recommend_max_tokens([0.0, 0.0, 0.0, 1e-3, -4.0, 0.5], 100, n_max=64) == 1


def test_recommend_numeric_model(cubic_fit: ss.FitResult) -> None:
    got = plan.recommend_max_tokens(cubic_fit, [64, 1500])
    assert got.dtype == np.int64
    for ni, k in zip([64, 1500], got, strict=True):
        e = ss.energy_per_token(cubic_fit, ni, np.arange(max(k - 3, 1), k + 4))
        assert e.min() >= e_tok(cubic_fit, ni, k) * (1 - 1e-9)
    m = plan.recommend_max_tokens(cubic_fit, 1500, slack=0.2)
    k = int(got[1])
    target = 1.2 * e_tok(cubic_fit, 1500, k)
    assert m <= k and e_tok(cubic_fit, 1500, m) <= target < e_tok(cubic_fit, 1500, m - 1)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"n_min": 0}, r"n_min must be a positive whole number"),
        ({"n_min": 2.5}, r"n_min must be a positive whole number"),
        ({"n_min": True}, r"n_min must be a positive whole number"),
        ({"n_max": -3}, r"n_max must be a positive whole number"),
        ({"n_min": 64, "n_max": 32}, r"n_max must be at least n_min; got n_min=64, n_max=32"),
        ({"slack": -0.1}, r"slack must be a non-negative fraction"),
        ({"slack": float("nan")}, r"slack must be a non-negative fraction"),
        ({"slack": "5%"}, r"slack must be a non-negative fraction"),
    ],
)
def test_recommend_bad_options(kwargs: dict, match: str) -> None:
    with pytest.raises(SpecError, match=match):
        plan.recommend_max_tokens(THETA, 512, **kwargs)


@pytest.mark.parametrize("bad", [0, -5, 1.5, "512", [512, 0], float("nan")])
def test_recommend_bad_lengths(bad: object) -> None:
    with pytest.raises(SpecError, match=r"n_in must be"):
        plan.recommend_max_tokens(THETA, bad)


def test_recommend_bad_params() -> None:
    with pytest.raises(SpecError, match=r"exactly 6 numbers"):
        plan.recommend_max_tokens([1.0, 2.0, 3.0], 512)
    with pytest.raises(SpecError, match=r"non-positive energy per token"):
        plan.recommend_max_tokens([0.0, 0.0, 0.0, 1e-3, 4.0, -5.0], 512, slack=0.1)


# -------------------------------------------------------------------- max_input_tokens ---
@settings(max_examples=300, deadline=None)
@given(
    theta=any_thetas(),
    n_out=st.integers(1, 5000),
    n_target=st.integers(1, 5000),
    factor=st.floats(1.0, 1.5),
)
def test_max_input_tokens_is_the_largest_within_budget(
    theta: np.ndarray, n_out: int, n_target: int, factor: float
) -> None:
    budget = float(ss.energy(theta, n_target, n_out)) * factor
    assume(budget > 0)
    t1, t2, t3 = theta[:3]
    # bounded answer without n_in_max: energy must eventually grow with n_in
    assume(t1 > 0 or t2 * n_out + t3 > 0)
    k = plan.max_input_tokens(theta, n_out, budget_j=budget)
    assert isinstance(k, int) and k >= 1
    assert float(ss.energy(theta, k, n_out)) <= budget
    assert float(ss.energy(theta, k + 1, n_out)) > budget
    # brute force over a window: nothing longer fits (the feasible set is an interval)
    assume(k <= 200_000)  # keep the brute force small
    top = max(k, n_target) + 200
    n = np.arange(1, top + 1)
    fits = ss.energy(theta, n, n_out) <= budget
    assert n[fits].max() == k


@settings(max_examples=200, deadline=None)
@given(
    theta=any_thetas(),
    n_out=st.integers(1, 5000),
    n_target=st.integers(1, 5000),
    factor=st.floats(0.5, 1.5),
    cap=st.integers(1, 6000),
)
def test_max_input_tokens_with_bound_brute_force(
    theta: np.ndarray, n_out: int, n_target: int, factor: float, cap: int
) -> None:
    budget = float(ss.energy(theta, n_target, n_out)) * factor
    assume(budget > 0)
    n = np.arange(1, cap + 1)
    fits = ss.energy(theta, n, n_out) <= budget
    if not fits.any():
        with pytest.raises(SpecError, match=r"no prompt length keeps a request"):
            plan.max_input_tokens(theta, n_out, budget_j=budget, n_in_max=cap)
        return
    k = plan.max_input_tokens(theta, n_out, budget_j=budget, n_in_max=cap)
    assert k == n[fits].max()


def test_max_input_tokens_negative_t1_needs_a_bound() -> None:
    theta = [-1e-6, 2e-5, 3e-3, 4e-5, 5.0, 0.2]  # energy falls again at very long prompts
    with pytest.raises(SpecError, match=r"Pass n_in_max="):
        plan.max_input_tokens(theta, 256, budget_j=60.0)
    k = plan.max_input_tokens(theta, 256, budget_j=60.0, n_in_max=10_000)
    n = np.arange(1, 10_001)
    assert k == n[ss.energy(theta, n, 256) <= 60.0].max()
    # a bound past the far root: the bound itself fits
    assert plan.max_input_tokens(theta, 256, budget_j=60.0, n_in_max=10**7) == 10**7


def test_max_input_tokens_linear_and_per_token() -> None:
    theta = [0.0, 1e-4, 1e-2, 0.0, 2.0, 0.1]  # t1 = 0: linear in n_in
    k = plan.max_input_tokens(theta, 100, budget_j=50.0)
    assert ss.energy(theta, k, 100) <= 50.0 < ss.energy(theta, k + 1, 100)
    # per token: 0.5 J/token x 100 tokens = 50 J, the same budget
    assert plan.max_input_tokens(theta, 100, max_j_per_token=0.5) == k
    # both: the tighter applies
    assert plan.max_input_tokens(theta, 100, budget_j=1e6, max_j_per_token=0.5) == k
    out = plan.max_input_tokens(theta, [50, 100, 200], max_j_per_token=0.5)
    assert out.dtype == np.int64 and out.shape == (3,)
    for no, kk in zip([50, 100, 200], out, strict=True):
        assert ss.energy(theta, kk, no) <= 0.5 * no < ss.energy(theta, kk + 1, no)
    # constant in n_in (t1 = t2 = t3 = 0): any prompt fits, so a bound is needed
    with pytest.raises(SpecError, match=r"n_in_max"):
        plan.max_input_tokens([0, 0, 0, 0, 2.0, 0.1], 10, budget_j=50.0)
    assert plan.max_input_tokens([0, 0, 0, 0, 2.0, 0.1], 10, budget_j=50.0, n_in_max=77) == 77


def test_max_input_tokens_fit_and_numeric(quad_fit: ss.FitResult, cubic_fit: ss.FitResult) -> None:
    k = plan.max_input_tokens(quad_fit, 256, budget_j=100.0)
    assert ss.energy(quad_fit, k, 256) <= 100.0 < ss.energy(quad_fit, k + 1, 256)
    for no in (16, 256, 1024):
        budget = float(ss.energy(cubic_fit, 1500, no)) * 1.01
        k = plan.max_input_tokens(cubic_fit, no, budget_j=budget)
        assert ss.energy(cubic_fit, k, no) <= budget < ss.energy(cubic_fit, k + 1, no)
        assert k >= 1500
    with pytest.raises(SpecError, match=r"no prompt length keeps a request with n_out = 64"):
        plan.max_input_tokens(cubic_fit, 64, budget_j=1.0)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({}, r"give an energy budget"),
        ({"budget_j": 0.0}, r"budget_j must be a positive, finite energy"),
        ({"budget_j": -10.0}, r"budget_j must be a positive, finite energy"),
        ({"budget_j": float("inf")}, r"budget_j must be a positive, finite energy"),
        ({"budget_j": "100"}, r"budget_j must be a positive number"),
        ({"max_j_per_token": 0}, r"max_j_per_token must be a positive, finite energy"),
        ({"budget_j": 1.0}, r"smallest predicted energy is 58.8296 J \(at n_in = 1\)"),
        ({"budget_j": 100.0, "n_in_max": 0}, r"n_in_max must be"),
    ],
)
def test_max_input_tokens_bad_input(kwargs: dict, match: str) -> None:
    with pytest.raises(SpecError, match=match):
        plan.max_input_tokens(THETA, 256, **kwargs)


@pytest.mark.parametrize("bad", [0, -1, 2.5, "x"])
def test_max_input_tokens_bad_n_out(bad: object) -> None:
    with pytest.raises(SpecError, match=r"n_out must be"):
        plan.max_input_tokens(THETA, bad, budget_j=100.0)


# ----------------------------------------------------------------------- energy_budget ---
def test_energy_budget_is_the_tighter_budget() -> None:
    got = plan.energy_budget([100, 1000], budget_j=300.0, max_j_per_token=0.5)
    np.testing.assert_array_equal(got, [50.0, 300.0])
    per_request = plan.energy_budget([64, 128], budget_j=7.5)
    assert per_request.shape == (2,)
    np.testing.assert_array_equal(per_request, [7.5, 7.5])
    np.testing.assert_array_equal(plan.energy_budget(64, budget_j=[1.0, 2.0]), [1.0, 2.0])
    np.testing.assert_array_equal(plan.energy_budget([64, 128], max_j_per_token=0.5), [32, 64])
    assert plan.energy_budget(256, budget_j=100.0).shape == ()
    # it is the budget max_input_tokens holds a request to
    n_out = 256
    n = plan.max_input_tokens(THETA, n_out, budget_j=200.0, max_j_per_token=0.5)
    budget = float(plan.energy_budget(n_out, budget_j=200.0, max_j_per_token=0.5))
    assert ss.energy(THETA, n, n_out) <= budget < ss.energy(THETA, n + 1, n_out)


@pytest.mark.parametrize(
    ("n_out", "kwargs", "match"),
    [
        (256, {}, r"give an energy budget"),
        (256, {"budget_j": 0.0}, r"budget_j must be a positive, finite energy"),
        (256, {"budget_j": "100"}, r"budget_j must be a positive number"),
        (256, {"max_j_per_token": -1.0}, r"max_j_per_token must be a positive, finite energy"),
        (0, {"budget_j": 100.0}, r"n_out must be"),
        (2.5, {"budget_j": 100.0}, r"n_out must be"),
    ],
)
def test_energy_budget_bad_input(n_out: object, kwargs: dict, match: str) -> None:
    with pytest.raises(SpecError, match=match):
        plan.energy_budget(n_out, **kwargs)  # type: ignore[arg-type]


# --------------------------------------------------------------------- truncate_prompt ---
@settings(max_examples=200, deadline=None)
@given(
    theta=interior_thetas(),
    length=st.integers(1, 6000),
    n_out=st.integers(1, 2000),
    frac=st.floats(0.05, 1.5),
    keep=st.sampled_from(["tail", "head", "middle"]),
    kind=st.sampled_from(["list", "tuple", "array"]),
)
def test_truncate_is_a_contiguous_slice_within_budget(
    theta: np.ndarray, length: int, n_out: int, frac: float, keep: str, kind: str
) -> None:
    ids = np.random.default_rng(length).integers(0, 32_000, size=length)
    tokens = {"list": ids.tolist(), "tuple": tuple(ids.tolist()), "array": ids}[kind]
    e_full = float(ss.energy(theta, length, n_out))
    budget = e_full * frac
    e_one = float(ss.energy(theta, 1, n_out))
    if e_one > budget:
        with pytest.raises(SpecError, match=r"no prompt length keeps a request"):
            plan.truncate_prompt(tokens, theta, n_out, budget_j=budget, keep=keep)
        return
    cut = plan.truncate_prompt(tokens, theta, n_out, budget_j=budget, keep=keep)
    assert cut.energy_before_j == pytest.approx(e_full)
    if e_full <= budget:  # never cuts when already within budget
        assert not cut.cut and cut.prompt is tokens and cut.n_in_after == length
        return
    assert cut.cut
    assert cut.stop - cut.start == cut.n_in_after == len(cut.prompt)
    assert type(cut.prompt) is type(tokens)
    assert np.array_equal(np.asarray(cut.prompt), np.asarray(tokens[cut.start : cut.stop]))
    assert cut.energy_after_j <= budget
    # of the stated length: the longest that fits, and one more token would not
    assert cut.n_in_after == plan.max_input_tokens(theta, n_out, budget_j=budget, n_in_max=length)
    assert float(ss.energy(theta, cut.n_in_after + 1, n_out)) > budget
    if keep == "head":
        assert cut.start == 0
    elif keep == "tail":
        assert cut.stop == length
    else:
        assert cut.start == (length - cut.n_in_after) // 2


def test_truncate_examples_and_per_token_budget() -> None:
    cut = plan.truncate_prompt(list(range(8000)), THETA, 256, budget_j=100.0)
    assert (cut.n_in_after, cut.prompt[0], cut.prompt[-1]) == (3533, 4467, 7999)
    assert cut.saving_j == pytest.approx(cut.energy_before_j - cut.energy_after_j)
    assert cut.budget_j == 100.0
    per_tok = plan.truncate_prompt(list(range(8000)), THETA, 256, max_j_per_token=100.0 / 256)
    assert per_tok.n_in_after == 3533
    head = plan.truncate_prompt(list(range(8000)), THETA, 256, budget_j=100.0, keep="head")
    assert head.prompt == list(range(3533))
    mid = plan.truncate_prompt(list(range(8000)), THETA, 256, budget_j=100.0, keep="middle")
    assert mid.start == (8000 - 3533) // 2 and mid.prompt[0] == mid.start


def _word_ids(text: str) -> list[int]:
    """A toy tokenizer: one id per whitespace-separated word."""
    return [len(w) for w in text.split()]


class _FakeHF:
    """Mimics a Hugging Face tokenizer: ``encode`` and a ``__call__`` returning a mapping."""

    def encode(self, text: str) -> list[int]:
        return [1, *_word_ids(text)]  # a BOS id, as Llama tokenizers add

    def __call__(self, text: str) -> dict[str, list[int]]:
        return {"input_ids": self.encode(text)}


@pytest.mark.parametrize("keep", ["tail", "head", "middle"])
@pytest.mark.parametrize("tokenizer", [_word_ids, _FakeHF(), lambda s: {"input_ids": _word_ids(s)}])
def test_truncate_text(keep: str, tokenizer: object) -> None:
    words = [f"w{i:04d}" for i in range(3000)]
    text = " ".join(words)
    theta = [0.0, 0.0, 0.01, 0.0, 1.0, 0.0]  # E = 1 + 0.01 n_in, whatever n_out
    cut = plan.truncate_prompt(text, theta, 10, budget_j=11.0, keep=keep, tokenizer=tokenizer)
    assert cut.cut and isinstance(cut.prompt, str)
    assert cut.prompt == text[cut.start : cut.stop]
    assert cut.n_in_after <= 1000 and cut.energy_after_j <= 11.0
    assert cut.n_in_after >= 998  # the longest window, up to a cut word at each end
    within = plan.truncate_prompt(text, theta, 10, budget_j=1e6, tokenizer=tokenizer)
    assert not within.cut and within.prompt is text


def test_truncate_numeric_model(cubic_fit: ss.FitResult) -> None:
    budget = float(ss.energy(cubic_fit, 700, 128))
    cut = plan.truncate_prompt(list(range(2000)), cubic_fit, 128, budget_j=budget)
    assert cut.n_in_after == 700 and cut.prompt == list(range(1300, 2000))


@pytest.mark.parametrize(
    ("tokens", "match"),
    [
        ([1, "a", 3], r"element 1 is 'a' \(str\)"),
        ([1, 2.0], r"element 1 is 2.0 \(float\)"),
        ([True, 2], r"element 0 is True \(bool\)"),
        ([1, [2]], r"element 1 is \[2\]"),
        ([1, -2], r"non-negative token ids; element 1 is -2"),
        (np.array([1.0, 2.0]), r"1-D sequence of integer token ids; got an array"),
        (np.array([[1, 2]]), r"1-D sequence of integer token ids; got an array of shape"),
        (np.array([3, -1]), r"non-negative token ids; got -1"),
        (12345, r"must be a sequence of integer token ids .* got int"),
        (b"abc", r"got bytes"),
        ({"input_ids": [1]}, r"got dict"),
        ([], r"the prompt is empty"),
        ("some text", r"needs tokenizer=..."),
    ],
)
def test_truncate_bad_tokens(tokens: object, match: str) -> None:
    with pytest.raises(SpecError, match=match):
        plan.truncate_prompt(tokens, THETA, 256, budget_j=100.0)


def test_truncate_bad_options() -> None:
    with pytest.raises(SpecError, match=r"keep must be one of 'tail', 'head', 'middle'"):
        plan.truncate_prompt([1, 2, 3], THETA, 256, budget_j=100.0, keep="end")
    with pytest.raises(SpecError, match=r"n_out must be a positive whole number"):
        plan.truncate_prompt([1, 2, 3], THETA, 0, budget_j=100.0)
    with pytest.raises(SpecError, match=r"give an energy budget"):
        plan.truncate_prompt([1, 2, 3], THETA, 256)
    with pytest.raises(SpecError, match=r"budget_j must be a positive, finite energy"):
        plan.truncate_prompt([1, 2, 3], THETA, 256, budget_j=-1.0)
    with pytest.raises(SpecError, match=r"no prompt length keeps a request with n_out = 256"):
        plan.truncate_prompt(list(range(100)), THETA, 256, budget_j=5.0)
    with pytest.raises(SpecError, match=r"tokenizer must be callable"):
        plan.truncate_prompt("a b c", THETA, 256, budget_j=100.0, tokenizer=42)
    with pytest.raises(SpecError, match=r"the tokenizer's output must contain integer"):
        plan.truncate_prompt("a b c", THETA, 256, budget_j=100.0, tokenizer=str.split)


def test_truncate_hf_name_without_transformers() -> None:
    try:
        import transformers  # noqa: F401
    except ImportError:
        pass
    else:
        pytest.skip("transformers is installed; the missing-dependency path cannot be tested")
    with pytest.raises(ss.DependencyError, match=r"pip install transformers"):
        plan.truncate_prompt("a b", THETA, 256, budget_j=100.0, tokenizer="gpt2")


# ------------------------------------------------------------------------- workloads ---
def test_workload_energy_numbers() -> None:
    n_in = np.array([100, 200, 4000, 50])
    n_out = np.array([50, 100, 10, 500])
    w = plan.workload_energy(THETA, n_in, n_out)
    e = ss.energy(THETA, n_in, n_out)
    assert w.n_requests == 4
    assert w.total_j == pytest.approx(e.sum())
    assert w.mean_j == pytest.approx(e.mean())
    assert w.p50_j == pytest.approx(np.percentile(e, 50))
    assert w.p99_j == pytest.approx(np.percentile(e, 99))
    assert (w.n_in_total, w.n_out_total) == (4350, 660)
    assert w.j_per_output_token == pytest.approx(e.sum() / 660)
    assert set(w.to_dict()) >= {"mean_j", "p50_j", "p99_j", "total_j", "j_per_output_token"}


def test_workload_warnings(quad_fit: ss.FitResult) -> None:
    with pytest.warns(ExtrapolationWarning, match=r"1 of 2 requests \(50.0 %\) lie outside"):
        plan.workload_energy(quad_fit, [100, 9000], [100, 100])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        plan.workload_energy(quad_fit, [100, 200], [100, 100])  # inside: silent
    with pytest.warns(NegativeCoefficientWarning, match=r"non-positive energy for 1 requests"):
        plan.workload_energy([0, 0, -1e-3, 0, 1.0, 0.0], [10, 5000], [1, 1])


def test_workload_on_a_bound_serving_model_warns_outside_its_range() -> None:
    """The pooled serving constants bound to an LLM carry a fitted box too: a request mix
    beyond it is marked extrapolated (it used to pass silently for a BoundFit)."""
    from sweetspot.tables import serving_model

    bound = serving_model("llama-3.1-8b")
    (lo_i, hi_i), _ = ss.optimum.fitted_box(bound)
    with pytest.warns(ExtrapolationWarning, match=r"1 of 2 requests \(50.0 %\) lie outside"):
        plan.workload_energy(bound, [lo_i, 2 * hi_i], [100, 100])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        plan.workload_energy(bound, [lo_i, hi_i], [100, 100])  # inside: silent


@pytest.mark.parametrize(
    ("n_in", "n_out", "match"),
    [
        ([1, 2, 3], [1, 2], r"n_in and n_out must have the same length"),
        ([], [], r"the request mix is empty"),
        ([10, 0], [1, 1], r"n_in must be positive whole token counts; got .*0.* at index \(1,\)"),
        ([10, 20], [1, -1], r"n_out must be positive whole token counts"),
    ],
)
def test_workload_bad_input(n_in: list, n_out: list, match: str) -> None:
    with pytest.raises(SpecError, match=match):
        plan.workload_energy(THETA, n_in, n_out)


def test_policy_cap() -> None:
    rng = np.random.default_rng(0)
    n_in = rng.integers(1, 8000, 500)
    n_out = rng.integers(1, 2000, 500)
    sav = plan.policy_savings(SIMPLE, n_in, n_out)  # cap at 63
    assert np.array_equal(sav.n_out_after, np.minimum(n_out, 63))
    assert np.array_equal(sav.n_in_after, n_in)
    assert np.array_equal(sav.capped, n_out > 63) and not sav.truncated.any()
    assert sav.fraction_changed == pytest.approx(np.mean(n_out > 63))
    e_after = ss.energy(SIMPLE, n_in, np.minimum(n_out, 63))
    assert sav.after.total_j == pytest.approx(e_after.sum())
    assert sav.saving_j == pytest.approx(ss.energy(SIMPLE, n_in, n_out).sum() - e_after.sum())
    assert 0 < sav.saving_fraction < 1
    removed = 1 - np.minimum(n_out, 63).sum() / n_out.sum()
    assert sav.output_tokens_removed_fraction == pytest.approx(removed)
    with_max = plan.policy_savings(SIMPLE, n_in, n_out, n_max=40)
    assert with_max.n_out_after.max() <= 40
    d = sav.to_dict()
    assert d["n_capped"] == int((n_out > 63).sum()) and d["policy"] == "cap"


def test_policy_truncate_and_both() -> None:
    rng = np.random.default_rng(1)
    n_in = rng.integers(1, 8000, 300)
    n_out = rng.integers(1, 1000, 300)
    budget = 60.0
    sav = plan.policy_savings(THETA, n_in, n_out, policy="truncate", budget_j=budget)
    assert np.array_equal(sav.n_out_after, n_out) and not sav.capped.any()
    for i in range(n_in.size):
        feasible = float(ss.energy(THETA, 1, n_out[i])) <= budget
        assert sav.over_budget[i] == (not feasible)
        if feasible:
            k = plan.max_input_tokens(THETA, int(n_out[i]), budget_j=budget, n_in_max=int(n_in[i]))
            assert sav.n_in_after[i] == k
        else:
            assert sav.n_in_after[i] == n_in[i]
    assert np.all(ss.energy(THETA, sav.n_in_after, n_out)[~sav.over_budget] <= budget)
    both = plan.policy_savings(THETA, n_in, n_out, policy="both", max_j_per_token=0.5)
    cap = plan.recommend_max_tokens(THETA, n_in)
    assert np.array_equal(both.n_out_after, np.minimum(n_out, cap))
    ok = ~both.over_budget
    e = ss.energy(THETA, both.n_in_after, both.n_out_after)
    assert np.all(e[ok] <= 0.5 * both.n_out_after[ok] * (1 + 1e-12))
    assert both.after.total_j <= both.before.total_j


def test_policy_numeric_model(cubic_fit: ss.FitResult) -> None:
    n_in = np.array([64, 500, 1500, 2000])
    n_out = np.array([10, 400, 1000, 2000])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ExtrapolationWarning)
        sav = plan.policy_savings(cubic_fit, n_in, n_out, policy="both", max_j_per_token=20.0)
    cap = plan.recommend_max_tokens(cubic_fit, n_in)
    assert np.array_equal(sav.n_out_after, np.minimum(n_out, cap))
    assert sav.after.total_j < sav.before.total_j


@pytest.mark.parametrize(
    ("kwargs", "err", "match"),
    [
        ({"policy": "halve"}, SpecError, r"policy must be one of 'cap', 'truncate', 'both'"),
        ({"policy": "cap", "budget_j": 10.0}, SpecError, r"policy='cap' .* uses no energy budget"),
        ({"policy": "truncate"}, SpecError, r"policy='truncate' truncates prompts to a budget"),
        ({"policy": "both"}, SpecError, r"give budget_j"),
        ({"policy": "truncate", "budget_j": 0.0}, SpecError, r"budget_j must be a positive"),
        ({"n_min": 10, "n_max": 5}, SpecError, r"n_max must be at least n_min"),
    ],
)
def test_policy_bad_input(kwargs: dict, err: type, match: str) -> None:
    with pytest.raises(err, match=match):
        plan.policy_savings(THETA, [100, 200], [10, 20], **kwargs)


def test_policy_without_interior_optimum() -> None:
    theta = [0.0, 0.0, 0.0, -1e-4, 4.0, 0.5]
    with pytest.raises(NoOptimumError, match=r"Pass n_max="):
        plan.policy_savings(theta, [100, 200], [10, 20])


def test_plot_savings() -> None:
    rng = np.random.default_rng(2)
    sav = plan.policy_savings(THETA, rng.integers(1, 8000, 400), rng.integers(1, 1000, 400))
    fig = plan.plot_savings(sav, title="synthetic")
    ax_h, ax_c = fig.axes
    assert ax_h.get_xlabel() == "energy per request [J]"
    assert ax_c.get_ylabel().startswith("fraction of requests")
    assert "synthetic" in fig.get_suptitle()


# ----------------------------------------------------------------------- Azure traces ---
@pytest.mark.shared_data
@pytest.mark.parametrize("name", ["code", "conv"])
def test_azure_traces(azure_dir, name: str) -> None:
    trace = ss.io.read_azure_trace(azure_dir / f"AzureLLMInferenceTrace_{name}.csv")
    n_in, n_out = trace["n_in"].to_numpy(), trace["n_out"].to_numpy()
    sav = plan.policy_savings(THETA, n_in, n_out)
    cap = plan.recommend_max_tokens(THETA, n_in)
    assert sav.fraction_changed == pytest.approx(np.mean(n_out > cap))
    assert sav.before.n_requests == len(trace) and 0 <= sav.saving_fraction < 1
    both = plan.policy_savings(THETA, n_in, n_out, policy="both", budget_j=150.0)
    fits = ~both.over_budget
    assert np.all(ss.energy(THETA, both.n_in_after, both.n_out_after)[fits] <= 150.0)
    assert both.after.total_j <= sav.after.total_j


def test_docstring_examples() -> None:
    import doctest

    failed, attempted = doctest.testmod(plan, optionflags=doctest.ELLIPSIS)
    assert attempted > 0 and failed == 0
