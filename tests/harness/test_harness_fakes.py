"""The fakes of foreign libraries are as strict as the real ones.

Each fake is compared with the signatures recorded from the upstream source
(``tests/fakes/snapshots/*.json``, which name the files and commits they were read at) and,
where the real module is importable here, with the real module itself.
"""

from __future__ import annotations

import importlib
import inspect
import json
from pathlib import Path
from typing import Any

import pytest
from fakes import pynvml as fake_pynvml
from fakes import tensorrt_llm as fake_trtllm
from fakes import vllm as fake_vllm
from fakes.tensorrt_llm import _tensorrt_engine as fake_trt_engine
from fakes.tensorrt_llm import llmapi as fake_llmapi
from fakes.vllm import inputs as fake_vllm_inputs

SNAPSHOTS = Path(__file__).resolve().parents[1] / "fakes" / "snapshots"


def snapshot(name: str) -> dict[str, Any]:
    return json.loads((SNAPSHOTS / f"{name}.json").read_text())


def parameters(obj: Any) -> list[list[Any]]:
    """[name, kind, default repr or '<required>'] of each parameter (self left out)."""
    out = []
    for p in inspect.signature(obj).parameters.values():
        if p.name == "self":
            continue
        default = "<required>" if p.default is inspect.Parameter.empty else repr(p.default)
        out.append([p.name, p.kind.name, default])
    return out


def _resolve(module: Any, dotted: str) -> Any:
    obj = module
    for part in dotted.split("."):
        obj = getattr(obj, part)
    return obj


def _check(obj: Any, recorded: dict[str, Any]) -> None:
    got = parameters(obj)
    if recorded.get("subset"):
        by_name = {p[0]: p for p in got}
        for name, kind, default in recorded["parameters"]:
            assert name in by_name, f"{obj} lacks {name}"
            assert by_name[name][2] == default, (name, by_name[name], default)
            if kind is not None:
                assert by_name[name][1] == kind, (name, by_name[name], kind)
    else:
        assert got == recorded["parameters"]


@pytest.mark.parametrize("name", list(snapshot("tensorrt_llm")["callables"]))
def test_tensorrt_llm_fake_matches_the_snapshot(name) -> None:
    recorded = snapshot("tensorrt_llm")["callables"][name]
    owner = {"TrtLLM.__init__": fake_trt_engine.LLM.__init__}
    obj = owner.get(name) or _resolve(fake_trtllm, name)
    _check(obj, recorded)


@pytest.mark.parametrize("name", [n for n in snapshot("vllm")["callables"] if n != "TokensPrompt"])
def test_vllm_fake_matches_the_snapshot(name) -> None:
    _check(_resolve(fake_vllm, name), snapshot("vllm")["callables"][name])


def test_vllm_tokens_prompt_is_a_typed_dict() -> None:
    required = snapshot("vllm")["callables"]["TokensPrompt"]["typeddict_required"]
    assert sorted(fake_vllm_inputs.TokensPrompt.__required_keys__) == required


def test_the_fake_llms_reject_unknown_arguments_as_the_real_ones() -> None:
    with pytest.raises(ValueError, match="LLM got invalid argument: max_num_seqs"):
        fake_llmapi.LLM("m", max_num_seqs=4)  # a vLLM argument, not TensorRT-LLM's
    with pytest.raises(ValueError, match="LLM got invalid argument: nonsense"):
        fake_trt_engine.LLM("m", nonsense=1)
    for key in snapshot("tensorrt_llm")["llm_args_fields_used"]:
        assert key in fake_llmapi.LLM_ARGS_FIELDS
    with pytest.raises(TypeError, match="unexpected keyword argument 'max_batch_size'"):
        fake_vllm.LLM("m", max_batch_size=4)  # TensorRT-LLM's name, not vLLM's
    for key in snapshot("vllm")["engine_args_fields_used"]:
        assert key in fake_vllm.ENGINE_ARGS_FIELDS
    with pytest.raises(TypeError):
        fake_vllm.SamplingParams(max_new_tokens=3)  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        fake_llmapi.KvCacheConfig(False)  # type: ignore[misc]  # keyword arguments only


def test_the_tensorrt_llm_tokenizer_wrapper_has_no_vocab_size() -> None:
    llm = fake_llmapi.LLM("m")
    with pytest.raises(NotImplementedError):
        llm.tokenizer.vocab_size  # noqa: B018 - the lookup itself raises, as with transformers 5
    assert llm.tokenizer.tokenizer.vocab_size == len(llm.tokenizer.tokenizer) == 50257


def test_pynvml_fake_matches_the_snapshot() -> None:
    recorded = snapshot("pynvml")
    assert recorded["source"]["version"]
    for name, params in recorded["functions"].items():
        fn = getattr(fake_pynvml, name)
        assert [p.name for p in inspect.signature(fn).parameters.values()] == params, name
    assert (
        recorded["NVMLError"]["NVML_FI_DEV_POWER_INSTANT"] == fake_pynvml.NVML_FI_DEV_POWER_INSTANT
    )


def test_fake_nvml_errors_hash_and_compare_like_the_real_ones() -> None:
    err = fake_pynvml.NVMLError(4)
    assert type(err).__name__ == snapshot("pynvml")["NVMLError"]["subclass_for_code_4"]
    assert isinstance(err, fake_pynvml.NVMLError_NoPermission)
    assert err == fake_pynvml.NVMLError(4)
    assert err != fake_pynvml.NVMLError(3)
    with pytest.raises(TypeError, match="unhashable"):
        hash(err)
    with pytest.raises(AttributeError):
        _ = err == object()


def test_fake_pynvml_against_the_real_module_where_importable() -> None:
    real = pytest.importorskip("pynvml")
    if real is fake_pynvml:  # pragma: no cover - only the fake is installed
        pytest.skip("only the fake pynvml is importable")
    for name in snapshot("pynvml")["functions"]:
        want = [p.name for p in inspect.signature(getattr(real, name)).parameters.values()]
        got = [p.name for p in inspect.signature(getattr(fake_pynvml, name)).parameters.values()]
        assert got == want, name
    with pytest.raises(TypeError):
        hash(real.NVMLError(4))


@pytest.mark.parametrize(
    ("module", "names"),
    [
        ("tensorrt_llm", ["LLM.__init__", "LLM.generate", "LLM.generate_async"]),
        ("vllm", ["LLM.generate"]),
    ],
)
def test_fakes_against_the_real_engines_where_importable(module, names) -> None:
    try:
        real = importlib.import_module(module)
    except Exception:
        pytest.skip(f"{module} is not importable here (it needs CUDA)")
    fake = {"tensorrt_llm": fake_trtllm, "vllm": fake_vllm}[module]
    for name in names:
        assert parameters(_resolve(fake, name)) == parameters(_resolve(real, name)), name
