"""The term table and the specs derived from it (sweetspot.models)."""

from __future__ import annotations

import numpy as np
import pytest
from archs import LLAMA2_7B

import sweetspot as ss
from sweetspot import ModelSpec
from sweetspot.exceptions import SpecError
from sweetspot.models import FREE_MODELS, TERMS, THETA_NAMES, THETA_UNITS, as_spec


def test_free_models_are_their_documented_polynomials() -> None:
    assert ModelSpec(name="linear").formula == "E = c0 + c1 n_in + c2 n_out"
    assert ModelSpec(name="wilkins").formula == "E = a0 n_in + a1 n_out + a2 n_in n_out"
    assert ModelSpec().formula == (
        "E = t1 n_in^2 + t2 n_in n_out + t3 n_in + t4 n_out^2 + t5 + t6 n_out"
    )
    assert ModelSpec().param_names == THETA_NAMES == ("t1", "t2", "t3", "t4", "t5", "t6")
    assert THETA_UNITS == ("J/token^2", "J/token^2", "J/token", "J/token^2", "J", "J/token")
    assert ModelSpec(name="wilkins").param_units == ("J/token", "J/token", "J/token^2")


def test_physical_terms_follow_the_options() -> None:
    spec = ModelSpec(name="memory_flops", per_pass=True, eager_attention=True)
    assert spec.param_names == (
        "j_per_flop_prefill",
        "j_per_flop_decode",
        "j_per_score",
        "j_per_byte",
        "j_per_layer_pass",
        "j_per_request",
    )
    assert spec.param_units == ("J/FLOP", "J/FLOP", "J/score", "J/B", "J/(layer pass)", "J")
    assert spec.label == "memory_flops[cache=on,per-pass,eager-attn]"
    one = ModelSpec(name="flops", split_phases=False, kv_cache=False, logits="all")
    assert one.param_names == ("j_per_flop", "j_per_request")
    assert one.label == "flops[cache=off,logits=all,no-split]"
    assert one.formula == "E = j_per_flop F + j_per_request"


def test_physical_columns_are_the_counts() -> None:
    ni = np.array([64.0, 700.0, 4096.0])
    no = np.array([1.0, 33.0, 2048.0])
    spec = ModelSpec(name="memory_flops", split_phases=False, per_pass=True)
    X = spec.design(ni, no, architecture=LLAMA2_7B, batch_size=4.0)
    np.testing.assert_array_equal(X[:, 0], ss.flops(LLAMA2_7B, ni, no))
    np.testing.assert_array_equal(X[:, 1], ss.memory_bytes(LLAMA2_7B, ni, no, batch_size=4))
    np.testing.assert_array_equal(X[:, 2], no * LLAMA2_7B.n_layers)
    np.testing.assert_array_equal(X[:, 3], 1.0)
    assert X.flags.f_contiguous


def test_the_table_is_consistent() -> None:
    flags = [t.flag for t in TERMS.values() if t.flag]
    assert len(flags) == len(set(flags)) and all(f.startswith("--") for f in flags)
    tags = [t.tag for t in TERMS.values() if t.tag]
    assert len(tags) == len(set(tags))
    for term in TERMS.values():
        assert term.unit and term.description
        free = set(term.models) <= set(FREE_MODELS)
        assert free or term.theta is None, term.name
        assert (term.flag is None) == (term.tag is None), term.name
    assert sorted(t.theta for t in TERMS.values() if t.theta is not None) == list(range(6))


def test_the_papers_baselines() -> None:
    assert ModelSpec(name="per_token").formula == "E = a n_out"
    assert ModelSpec(name="per_token_fixed").formula == "E = a n_out + b"
    assert ModelSpec(name="per_token_context").formula == "E = a n_out + b n_out/(n_in + n_out)"
    assert ModelSpec(name="per_token_context").param_units == ("J/token", "J")
    assert ModelSpec(name="per_token_context").theta_map() is None
    five = ModelSpec(name="sweetspot_flops")
    assert five.param_names == ("t1", "t2", "t3", "t4", "t6")
    M = five.theta_map()
    assert M is not None and not M[4].any()  # no constant t5
    ni, no = np.array([64.0, 100.0]), np.array([10.0, 4096.0])
    X = ModelSpec(name="per_token_context").design(ni, no)
    np.testing.assert_array_equal(X[:, 1], no / (ni + no))


def test_spec_errors() -> None:
    with pytest.raises(SpecError, match="free polynomial and takes no physical options"):
        ModelSpec(name="sweetspot", per_pass=True)
    with pytest.raises(SpecError, match="per_pass must be True or False"):
        ModelSpec(name="flops", per_pass=1)  # type: ignore[arg-type]
    with pytest.raises(SpecError, match="needs the architecture"):
        ModelSpec(name="flops").design(np.ones(2), np.ones(2))
    with pytest.raises(SpecError, match="kv_cache=False applies to the physical models"):
        as_spec("linear", kv_cache=False)
    with pytest.raises(SpecError, match="contradicts"):
        as_spec(ModelSpec(name="flops"), kv_cache=False)


def test_to_dict_round_trips() -> None:
    spec = ModelSpec(name="flops", kv_cache=False, logits="all", per_pass=True)
    assert ModelSpec(**spec.to_dict()) == spec
    assert list(spec.to_dict()) == [
        "name",
        "kv_cache",
        "logits",
        "split_phases",
        "per_pass",
        "eager_attention",
        "kv_bytes",
        "layer_steps",
        "max_num_tokens",
        "roofline",
    ]
