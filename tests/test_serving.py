"""Batched serving: GPUs as data, the concurrency rule and its limits, the serving terms,
predictions at per-point batch sizes, and the published pooled H100 constants."""

from __future__ import annotations

import dataclasses
import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from archs import FALCON_7B, LLAMA2_7B, MIXTRAL

import sweetspot as ss
from sweetspot import FitResult, ModelSpec, ServingConfig
from sweetspot.counts import count_terms, roofline_time
from sweetspot.exceptions import ArchitectureError, ExtrapolationWarning, SpecError, TableError
from sweetspot.serving import (
    GPUS,
    PAPER_GPU,
    PAPER_SERVING,
    GPUSpec,
    concurrency,
    get_gpu,
    list_gpus,
    load_architecture,
    weight_memory_bytes,
)
from sweetspot.tables import load_pooled, predict_energy, serving_model

ROOT = Path(__file__).resolve().parents[1]
QWEN3_8B = ROOT / "tests" / "fixtures" / "configs" / "qwen3-8b.json"
TINY = ss.Architecture(
    name="tiny",
    n_layers=2,
    hidden_size=64,
    n_heads=4,
    n_kv_heads=2,
    head_dim=16,
    ffn_size=256,
    gated_mlp=True,
    vocab_size=1000,
)


# -- GPUs as data ------------------------------------------------------------------------
def test_every_gpu_the_issue_names_is_there_with_a_source() -> None:
    wanted = {"h100-sxm", "h100-pcie", "h200", "a100-40gb", "a100-80gb", "l40s", "b200", "mi300x"}
    assert wanted <= set(GPUS) and list_gpus() == sorted(GPUS)
    for key, g in GPUS.items():
        assert g.key == key
        for value in (g.memory_gib, g.bandwidth_tb_s, g.bf16_tflops, g.power_limit_w):
            assert np.isfinite(value) and value > 0
        assert "datasheet" in g.source.lower() or "data sheet" in g.source.lower()
        assert "https://" in g.source
        assert GPUSpec(**g.to_dict()) == g
    # datasheet numbers (dense = half the sparse figure the datasheets print)
    h100 = GPUS["h100-sxm"]
    assert (h100.memory_gib, h100.bandwidth_tb_s, h100.power_limit_w) == (80.0, 3.35, 700.0)
    assert h100.peak_flops == pytest.approx(1979e12 / 2, rel=1e-3)
    assert GPUS["mi300x"].bf16_tflops == 1307.4 and GPUS["l40s"].bandwidth_tb_s == 0.864
    assert "UNCERTAIN" in GPUS["b200"].note
    assert h100.ridge == pytest.approx(295.4, rel=1e-3)


def test_gpu_lookup() -> None:
    assert get_gpu("H100 SXM") is GPUS["h100-sxm"] and get_gpu("h100") is GPUS[PAPER_GPU]
    assert get_gpu(GPUS["l40s"]) is GPUS["l40s"]
    with pytest.raises(SpecError, match=r"unknown GPU 'tpu-v5'.*known: a100-40gb"):
        get_gpu("tpu-v5")


# -- the serving configuration ---------------------------------------------------------
@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"engine": "ollama"}, "engine must be one of"),
        ({"max_batch_size": 0}, "max_batch_size must be a positive integer"),
        ({"max_num_tokens": 1.5}, "max_num_tokens must be a positive integer"),
        ({"n_requests": -3}, "n_requests must be a positive integer or None"),
        ({"tp": True}, "tp must be a positive integer"),
        ({"kv_cache_fraction": 1.2}, r"kv_cache_fraction must be in \(0, 1\]"),
        ({"kv_cache_fraction": "0.9"}, "kv_cache_fraction"),
        ({"weight_dtype": "fp12"}, "weight_dtype must be one of"),
    ],
)
def test_serving_config_refuses_bad_fields(kwargs: dict, match: str) -> None:
    with pytest.raises(SpecError, match=match):
        ServingConfig(**kwargs)


def test_serving_config_defaults_are_the_reference_setup() -> None:
    cfg = ServingConfig()
    assert cfg == PAPER_SERVING and ServingConfig(**cfg.to_dict()) == cfg
    assert (cfg.engine, cfg.max_batch_size, cfg.max_num_tokens, cfg.n_requests) == (
        "tensorrt-llm",
        1024,
        8192,
        1000,
    )
    assert "1000 requests per run" in cfg.describe()
    fp8 = ServingConfig(weight_dtype="fp8", kv_cache_dtype="fp8").architecture(LLAMA2_7B)
    assert (fp8.weight_bytes, fp8.kv_bytes) == (1.0, 1.0)


# -- the concurrency rule and its limits -------------------------------------------------
def _kv_cap(arch: ss.Architecture, n: np.ndarray, cfg: ServingConfig, gpu: str) -> np.ndarray:
    budget = cfg.kv_cache_fraction * (
        get_gpu(gpu).memory_bytes * cfg.tp - weight_memory_bytes(arch)
    )
    return np.floor(budget / arch.kv_cache_bytes(n))


def test_concurrency_is_the_smallest_bound() -> None:
    arch = LLAMA2_7B  # 0.5 MiB of KV per token, 13.5 GB of weights
    n = np.array([64.0, 256.0, 1024.0, 4096.0, 8192.0])
    cfg = ServingConfig(n_requests=None, max_batch_size=4096, max_num_tokens=1 << 20)
    got = concurrency(arch, n, gpu="h100-sxm", serving=cfg)
    np.testing.assert_array_equal(got, np.maximum(1, _kv_cap(arch, n, cfg, "h100-sxm")))
    assert np.all(np.diff(got) <= 0)  # longer sequences: fewer requests fit
    # each bound alone
    capped = {
        "max_batch_size": ServingConfig(max_batch_size=64, n_requests=None),
        "n_requests": ServingConfig(n_requests=10),
        "concurrency": ServingConfig(concurrency=32, n_requests=None),
        "max_num_tokens": ServingConfig(max_num_tokens=100, n_requests=None),
    }
    for name, c in capped.items():
        b = concurrency(arch, 64, serving=c)
        assert float(b) == getattr(c, name), name


def test_concurrency_never_below_one_and_refuses_models_that_do_not_fit() -> None:
    huge = concurrency(LLAMA2_7B, 10**7)  # a sequence longer than the whole KV budget
    assert float(huge) == 1.0
    big = dataclasses.replace(LLAMA2_7B, name="big", n_layers=400)  # ~170 GB of weights
    with pytest.raises(SpecError, match="does not fit on 1x NVIDIA H100 SXM5 80GB"):
        concurrency(big, 128)
    assert float(concurrency(big, 128, serving=ServingConfig(tp=4))) >= 1
    with pytest.raises(SpecError, match="serving must be a ServingConfig"):
        concurrency(LLAMA2_7B, 128, serving={"max_batch_size": 8})  # type: ignore[arg-type]
    with pytest.raises(SpecError, match="n_tokens"):
        concurrency(LLAMA2_7B, 0)


def test_concurrency_follows_memory_kv_width_and_engine() -> None:
    n = 4096.0
    base = float(concurrency(FALCON_7B, n))  # multi-query: tiny KV
    assert base == 1000.0  # bounded by the 1000 requests of the run, not memory
    cfg = ServingConfig(n_requests=None, max_batch_size=1 << 20, max_num_tokens=1 << 20)
    bf16 = float(concurrency(LLAMA2_7B, n, serving=cfg))
    fp8 = float(concurrency(LLAMA2_7B, n, serving=dataclasses.replace(cfg, kv_cache_dtype="fp8")))
    assert fp8 == pytest.approx(2 * bf16, abs=1)  # half the bytes per cached element
    h200 = float(concurrency(LLAMA2_7B, n, gpu="h200", serving=cfg))
    assert h200 > bf16
    tp2 = float(concurrency(LLAMA2_7B, n, serving=dataclasses.replace(cfg, tp=2)))
    assert tp2 > 2 * bf16  # twice the memory and the weights counted once
    # vLLM's fraction is of all memory, weights included: less KV at the same 0.9
    vllm = float(concurrency(LLAMA2_7B, n, serving=dataclasses.replace(cfg, engine="vllm")))
    assert vllm < bf16
    smooth = concurrency(LLAMA2_7B, np.array([4000.0, 4001.0]), serving=cfg, continuous=True)
    assert smooth[0] > smooth[1] and smooth[0] != np.floor(smooth[0])


def test_weight_memory_counts_every_expert() -> None:
    assert weight_memory_bytes(LLAMA2_7B) == LLAMA2_7B.n_params * 2.0
    assert weight_memory_bytes(MIXTRAL) == pytest.approx(MIXTRAL.n_params * 2.0)


def test_load_architecture_reads_a_config_file(tmp_path: Path) -> None:
    arch = load_architecture(str(QWEN3_8B))
    assert arch.name == "qwen3-8b" and arch.n_layers == 36 and arch.n_kv_heads == 8
    assert load_architecture(json.loads(QWEN3_8B.read_text())).n_layers == 36
    assert load_architecture("llama-3.1-8b").n_layers == 32
    assert load_architecture(TINY) is TINY
    with pytest.raises(ArchitectureError, match="cannot read the config file"):
        load_architecture(str(tmp_path / "missing.json"))
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(ArchitectureError, match="is not JSON"):
        load_architecture(str(bad))
    bad.write_text("[1, 2]")
    with pytest.raises(ArchitectureError, match="no JSON object"):
        load_architecture(str(bad))
    with pytest.raises(ArchitectureError, match="must be an Architecture"):
        load_architecture(3)  # type: ignore[arg-type]


# -- the serving terms ------------------------------------------------------------------
def test_serving_terms_are_their_counts() -> None:
    ni = np.array([64.0, 700.0, 4096.0])
    no = np.array([1.0, 33.0, 2048.0])
    bs = np.array([1000.0, 120.0, 9.0])
    spec = ModelSpec(
        name="memory_flops", kv_bytes=True, layer_steps=True, max_num_tokens=512, roofline="h100"
    )
    assert spec.roofline == "h100-sxm"  # normalised to the key
    assert spec.param_names == (
        "j_per_flop_prefill",
        "j_per_flop_decode",
        "j_per_weight_byte",
        "j_per_kv_byte",
        "j_per_layer_step",
        "static_power_w",
        "j_per_request",
    )
    assert spec.param_units[4:6] == ("J/(layer step)", "W")
    assert spec.label == (
        "memory_flops[cache=on,kv-bytes,layer-steps,max_num_tokens=512,roofline=h100-sxm]"
    )
    X = spec.design(ni, no, architecture=LLAMA2_7B, batch_size=bs)
    c = count_terms(LLAMA2_7B, ni, no, batch_size=bs, max_num_tokens=512, continuous=True)
    np.testing.assert_array_equal(X[:, 2], c.weight_bytes)
    np.testing.assert_array_equal(X[:, 3], c.kv_write_bytes + c.kv_read_bytes)
    np.testing.assert_array_equal(X[:, 4], c.shared_passes * LLAMA2_7B.n_layers)
    h100 = GPUS["h100-sxm"]
    rt = roofline_time(
        LLAMA2_7B, ni, no, peak_flops=h100.peak_flops, bandwidth=h100.bandwidth,
        batch_size=bs, max_num_tokens=512, continuous=True,
    )  # fmt: skip
    np.testing.assert_array_equal(X[:, 5], rt)
    assert spec.theta_map(LLAMA2_7B) is None  # kinks: searched numerically
    assert ModelSpec(**spec.to_dict()) == spec
    flops_kv = ModelSpec(name="flops", kv_bytes=True)
    assert flops_kv.param_names == (
        "j_per_flop_prefill",
        "j_per_flop_decode",
        "j_per_kv_byte",
        "j_per_request",
    )
    assert flops_kv.theta_map(LLAMA2_7B) is not None


def test_layer_steps_equal_per_pass_at_batch_one() -> None:
    ni, no = np.array([64.0, 900.0]), np.array([5.0, 300.0])
    steps = ModelSpec(name="flops", layer_steps=True).design(ni, no, architecture=LLAMA2_7B)
    passes = ModelSpec(name="flops", per_pass=True).design(ni, no, architecture=LLAMA2_7B)
    np.testing.assert_array_equal(steps, passes)
    shared = ModelSpec(name="flops", layer_steps=True).design(
        ni, no, architecture=LLAMA2_7B, batch_size=8.0
    )
    np.testing.assert_allclose(shared[:, 2], passes[:, 2] / 8.0)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"max_num_tokens": 0}, "max_num_tokens must be a positive integer"),
        ({"max_num_tokens": True}, "max_num_tokens must be a positive integer"),
        ({"max_num_tokens": 64, "kv_cache": False}, "does not apply with kv_cache=False"),
        ({"roofline": "tpu"}, "unknown GPU 'tpu'"),
        ({"roofline": 3}, "roofline must be a GPU key"),
        ({"kv_bytes": 1}, "kv_bytes must be True or False"),
    ],
)
def test_serving_options_are_checked(kwargs: dict, match: str) -> None:
    with pytest.raises(SpecError, match=match):
        ModelSpec(name="memory_flops", **kwargs)


def test_free_models_take_no_serving_option() -> None:
    with pytest.raises(SpecError, match="free polynomial"):
        ModelSpec(name="sweetspot", layer_steps=True)
    with pytest.raises(SpecError, match="free polynomial"):
        ModelSpec(name="sweetspot", roofline="h100-sxm")


# -- predictions at a batch size per point ----------------------------------------------
def _pooled_fit() -> FitResult:
    """A pooled serving fit on synthetic rows of two LLMs at batch sizes from the rule."""
    spec = ModelSpec(name="memory_flops", kv_bytes=True, layer_steps=True, max_num_tokens=8192)
    levels = np.array([64, 256, 1024, 4096], dtype=float)
    ni, no = (a.ravel() for a in np.meshgrid(levels, levels, indexing="ij"))
    coef = np.array([1.2e-12, 1.3e-12, 1e-10, 2e-10, 0.09, 0.6])
    frames = []
    for name, arch in (("llama", LLAMA2_7B), ("falcon", FALCON_7B)):
        bs = concurrency(arch, ni + no)
        e = spec.design(ni, no, architecture=arch, batch_size=bs) @ coef
        frames.append(
            pd.DataFrame(
                {"model": name, "n_in": ni, "n_out": no, "energy_j": e, "batch_size": bs}
            ).astype({"n_in": int, "n_out": int, "batch_size": int})
        )
    data = pd.concat(frames, ignore_index=True)
    res = ss.fit(data, spec, architecture={"llama": LLAMA2_7B, "falcon": FALCON_7B})
    return dataclasses.replace(res, meta={**res.meta, "gpu_key": "h100-sxm"})


@pytest.fixture(scope="module")
def pooled() -> FitResult:
    return _pooled_fit()


def test_a_fit_over_several_batch_sizes_never_predicts_at_one(pooled: FitResult) -> None:
    assert pooled.several_batch_sizes and pooled.gpu == "h100-sxm"
    with pytest.raises(SpecError, match="never assumed"):
        pooled.predict(512, 256, architecture=LLAMA2_7B)
    with pytest.raises(SpecError, match="never assumed"):
        pooled.bind(LLAMA2_7B)


def test_arrays_of_batch_sizes_equal_scalar_predictions(pooled: FitResult) -> None:
    ni = np.array([64.0, 512.0, 2048.0])
    no = np.array([128.0, 256.0, 1024.0])
    bs = np.array([800.0, 300.0, 40.0])
    got = pooled.predict(ni, no, architecture=LLAMA2_7B, batch_size=bs, warn=False)
    one = [
        float(pooled.predict(i, o, architecture=LLAMA2_7B, batch_size=b, warn=False))
        for i, o, b in zip(ni, no, bs, strict=True)
    ]
    np.testing.assert_allclose(got, one, rtol=1e-12)
    # a grid: batch sizes broadcast with the lengths
    grid = pooled.predict(ni[:, None], no[None, :], architecture=LLAMA2_7B, batch_size=100.0)
    assert grid.shape == (3, 3)


def test_serving_takes_the_batch_from_the_rule(pooled: FitResult) -> None:
    ni, no = np.array([64.0, 1024.0, 4096.0]), np.array([64.0, 512.0, 4096.0])
    rule = concurrency(LLAMA2_7B, ni + no)
    a = pooled.predict(ni, no, architecture=LLAMA2_7B, serving=ServingConfig(), warn=False)
    b = pooled.predict(ni, no, architecture=LLAMA2_7B, batch_size=rule, warn=False)
    np.testing.assert_array_equal(a, b)
    # the fit recovers its generating rows exactly
    assert pooled.mape < 1e-6
    few = pooled.predict(ni, no, architecture=LLAMA2_7B, serving=ServingConfig(n_requests=10),
                         warn=False)  # fmt: skip
    assert np.all(few > a)  # ten requests share the weights: more energy each
    with pytest.raises(SpecError, match="not both"):
        pooled.predict(64, 64, architecture=LLAMA2_7B, batch_size=8, serving=ServingConfig())
    with pytest.raises(SpecError, match=r"must be a sweetspot\.ServingConfig"):
        pooled.predict(64, 64, architecture=LLAMA2_7B, serving={"tp": 1})  # type: ignore[arg-type]
    with pytest.raises(SpecError, match=">= 1"):
        pooled.predict(64, 64, architecture=LLAMA2_7B, batch_size=0.5, warn=False)
    with pytest.raises(SpecError, match="batch_size must be a number"):
        pooled.predict(64, 64, architecture=LLAMA2_7B, batch_size="8")  # type: ignore[arg-type]


def test_serving_needs_a_gpu_when_the_fit_has_none(pooled: FitResult) -> None:
    bare = dataclasses.replace(pooled, meta={})
    with pytest.raises(SpecError, match="needs the GPU"):
        bare.predict(64, 64, architecture=LLAMA2_7B, serving=ServingConfig())
    e = bare.predict(64, 64, architecture=LLAMA2_7B, serving=ServingConfig(), gpu="h100-sxm")
    assert e > 0


@pytest.mark.filterwarnings("ignore:extrapolating outside the fitted range")
@pytest.mark.filterwarnings("ignore:extrapolating to batch size 10")
def test_extrapolations_warn(pooled: FitResult) -> None:
    with pytest.warns(ExtrapolationWarning, match="another GPU"):
        pooled.predict(64, 64, architecture=LLAMA2_7B, serving=ServingConfig(), gpu="a100-80gb")
    with pytest.warns(ExtrapolationWarning, match="batch size 2"):
        pooled.predict(64, 64, architecture=LLAMA2_7B, batch_size=2.0)
    with pytest.warns(ExtrapolationWarning, match="max_seq_len 8192"):
        pooled.predict(4096, 8000, architecture=LLAMA2_7B, serving=ServingConfig())
    with pytest.warns(ExtrapolationWarning, match="tp = 2"):
        pooled.predict(64, 64, architecture=LLAMA2_7B, serving=ServingConfig(tp=2))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        pooled.predict(64, 64, architecture=LLAMA2_7B, serving=ServingConfig(), gpu="h100-sxm")


@pytest.mark.filterwarnings("ignore::sweetspot.NegativeCoefficientWarning")
def test_free_models_refuse_serving() -> None:
    res = ss.fit(
        pd.DataFrame(
            {
                "n_in": [64, 64, 64, 256, 256, 256, 1024, 1024, 1024],
                "n_out": [64, 256, 1024] * 3,
                "energy_j": np.linspace(1, 9, 9) ** 1.5,
            }
        )
    )
    with pytest.raises(SpecError, match="free model 'sweetspot' has no batch"):
        res.predict(64, 64, serving=ServingConfig())
    with pytest.raises(SpecError, match="bind\\(\\) applies to physical models"):
        res.bind(LLAMA2_7B)


def test_bound_fit_is_a_model_of_one_llm(pooled: FitResult) -> None:
    with pytest.raises(SpecError, match="does not fit"):  # 87 GiB of weights on 80 GiB
        pooled.bind(MIXTRAL, serving=ServingConfig())
    mistral = ss.get_architecture("mistral-7b-v0.1")  # sliding window, GQA: never measured
    bound = pooled.bind(mistral, serving=ServingConfig())
    assert bound.theta is None and not bound.is_pooled and bound.models == (mistral.name,)
    assert bound.n_in_range == pooled.n_in_range and bound.non_physical() is None
    np.testing.assert_array_equal(
        bound.predict([64, 512], 256),
        pooled.predict([64, 512], 256, architecture=mistral, serving=ServingConfig()),
    )
    np.testing.assert_array_equal(
        bound.batch_sizes([64, 512], 256), concurrency(mistral, np.array([320.0, 768.0]))
    )
    sp = ss.sweet_spot(bound, [64, 512, 4096], n_out_max=4096)
    e = ss.energy_per_token(bound, [64, 512, 4096], sp.n_out)
    for f in (0.9, 1.1):
        assert np.all(e <= ss.energy_per_token(bound, [64, 512, 4096], sp.n_out * f) * (1 + 1e-9))
    assert f"for {mistral.name} on h100-sxm" in bound.describe()
    fixed = pooled.bind(LLAMA2_7B, batch_size=64.0)
    assert fixed.theta is None  # max_num_tokens: a kink, no six-term form
    assert "batch size 64" in fixed.describe()


def test_saved_fits_keep_the_serving_options(pooled: FitResult) -> None:
    back = FitResult.from_dict(json.loads(json.dumps(pooled.to_dict())))
    assert back.spec == pooled.spec and back.values == pooled.values
    old = pooled.to_dict()
    for key in ("kv_bytes", "layer_steps", "max_num_tokens", "roofline"):
        old["spec"].pop(key)  # a file written before these options existed
    old["params"] = {"j_per_flop_prefill": 1.0, "j_per_flop_decode": 1.0, "j_per_byte": 1.0,
                     "j_per_request": 1.0}  # fmt: skip
    old["stderr"] = dict.fromkeys(old["params"])
    old["units"] = dict.fromkeys(old["params"], "J")
    assert FitResult.from_dict(old).spec == ModelSpec(name="memory_flops")


# -- the published pooled constants and predict_energy -----------------------------------
def test_published_serving_constants() -> None:
    res = load_pooled("H100")
    assert res.spec.name == "memory_flops" and res.spec.kv_bytes and res.spec.layer_steps
    assert res.spec.max_num_tokens == 8192 and res.gpu == "h100-sxm"
    assert len(res.models) == 13 and res.is_pooled and res.several_batch_sizes
    assert all(v >= 0 for v in res.values)
    assert "Table 5" in res.meta["conditions"] and "arXiv:2602.05695" in res.meta["citation"]
    assert res.meta["lomo_mape_mean"] <= 5.0 and res.meta["lomo_mape_max"] <= 10.0
    assert ServingConfig(**res.meta["serving"]) == PAPER_SERVING
    assert load_pooled("A100").spec.label != res.spec.label  # the other GPU untouched


def test_predict_energy_for_a_model_in_no_table() -> None:
    e = predict_energy(str(QWEN3_8B), [64, 1500], [256, 256])
    assert e.shape == (2,) and np.all(e > 0) and e[1] > e[0]
    bound = serving_model(str(QWEN3_8B))
    np.testing.assert_array_equal(e, bound.predict([64, 1500], [256, 256]))
    # a smaller batch (max_batch_size 64) costs more per request
    small = predict_energy(str(QWEN3_8B), 64, 256, serving=ServingConfig(max_batch_size=64))
    assert small > e[0]
    assert float(ss.predict_energy("llama-3.1-8b", 512, 256)) > 0


def test_another_gpu_needs_an_explicit_option_and_warns() -> None:
    with pytest.raises(SpecError, match="allow_other_gpu=True"):
        predict_energy("llama-3.1-8b", 512, 256, gpu="a100-80gb")
    with pytest.warns(ExtrapolationWarning, match="extrapolating to another GPU") as rec:
        e = predict_energy("llama-3.1-8b", 512, 256, gpu="mi300x", allow_other_gpu=True)
    assert e > 0
    assert sum("another GPU" in str(w.message) for w in rec) == 1  # said once
    with pytest.raises(TableError, match="no serving constants of family 'nope'"):
        serving_model("llama-3.1-8b", family="nope")
    with pytest.raises(SpecError, match="does not fit"):
        predict_energy(dataclasses.replace(LLAMA2_7B, n_layers=400), 64, 64)
