"""Batched serving: GPUs as data, the serving configuration, and how many requests share a pass.

In a batched engine (TensorRT-LLM, vLLM, SGLang) ``B`` requests share every forward pass:
the weights are streamed once per pass for all of them, while each request reads its own
KV cache. ``B`` is not a free knob. It is the smallest of what the engine allows and what
memory holds (:func:`concurrency`)::

    B(n) = max(1, min(max_batch_size, requests in flight, max_num_tokens,
                      floor(KV budget / KV bytes of one sequence of n tokens)))

with ``n = n_in + n_out`` (a scheduler that never evicts reserves a request's whole
sequence when it admits it, as TensorRT-LLM's default ``GUARANTEED_NO_EVICT`` does) and

    KV budget = kv_cache_fraction x (GPU memory x tp - weight bytes)     (TensorRT-LLM)
    KV budget = kv_cache_fraction x GPU memory x tp - weight bytes       (vLLM, SGLang)

(TensorRT-LLM's ``free_gpu_memory_fraction`` is a share of the memory left after the
weights; vLLM's ``gpu_memory_utilization`` and SGLang's ``mem_fraction_static`` are shares
of all memory, weights included.) So ``B`` falls for long sequences and for models with wide
KV heads, which is what makes energy per token grow with the sequence in a saturated run.

A prefill of ``n_in`` tokens shares its pass with fewer requests: the engine packs at most
``max_num_tokens`` tokens into a pass, so ``min(B, max_num_tokens / n_in)`` prompts share
one (and a prompt longer than ``max_num_tokens`` takes ``n_in / max_num_tokens`` passes).
That share is counted by :func:`sweetspot.counts.count_terms` (``max_num_tokens=``).

:data:`GPUS` holds the datasheet numbers of the GPUs the issue asks for (memory, memory
bandwidth, dense BF16/FP16 tensor peak, power limit), each with its source and a note where a
value is uncertain; :class:`ServingConfig` is the engine configuration, whose defaults are
the reference setup the published H100 constants were fitted on (the SweetSpot paper's
TensorRT-LLM 0.21 runs, :data:`PAPER_SERVING`).

Notes
-----
What the rule leaves out (docs/serving.md): activation and workspace memory (a few GB,
which lowers the KV budget), KV-cache block rounding (a sequence occupies whole blocks of
32-64 tokens), the ramp-up and tail of a run (the last wave of a run holds fewer requests),
prefill chunks mixed into decode passes, and preemption by an evicting scheduler. Capacity
is the binary reading of the datasheet GB (see :class:`GPUSpec`).

Examples
--------
>>> import sweetspot as ss
>>> from sweetspot.serving import ServingConfig, concurrency
>>> arch = ss.get_architecture("llama-3.1-8b")
>>> concurrency(arch, [128, 1024, 8192], gpu="h100-sxm").tolist()   # the paper's engine
[1000.0, 468.0, 58.0]
>>> concurrency(arch, 128, gpu="h100-sxm", serving=ServingConfig(n_requests=10)).tolist()
10.0
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from types import MappingProxyType
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._validation import as_lengths
from .architecture import Architecture
from .exceptions import SpecError

__all__ = [
    "DTYPE_BYTES",
    "ENGINES",
    "GPUS",
    "PAPER_GPU",
    "PAPER_SERVING",
    "GPUSpec",
    "ServingConfig",
    "concurrency",
    "get_gpu",
    "list_gpus",
    "load_architecture",
    "weight_memory_bytes",
]

_F64 = NDArray[np.float64]

#: Bytes per element of the data types a ServingConfig may name.
DTYPE_BYTES: Mapping[str, float] = MappingProxyType(
    {
        "fp32": 4.0,
        "bf16": 2.0,
        "fp16": 2.0,
        "fp8": 1.0,
        "int8": 1.0,
        "int4": 0.5,
        "fp4": 0.5,
    }
)

#: Engines whose KV-cache budget rule is known (see the module docstring).
ENGINES: tuple[str, ...] = ("tensorrt-llm", "vllm", "sglang")

_GIB = float(2**30)


@dataclass(frozen=True, slots=True, kw_only=True)
class GPUSpec:
    """Datasheet numbers of one GPU, with their source.

    Attributes
    ----------
    key : str
        Short name used throughout (``"h100-sxm"``).
    name : str
        Product name as the vendor writes it.
    memory_gib : float
        GPU memory [GiB]: the datasheet's "GB" read as binary gigabytes, which is what the
        parts hold (an H100 80GB reports 81559 MiB = 79.6 GiB in ``nvidia-smi``; the driver
        keeps a little).
    bandwidth_tb_s : float
        Peak memory bandwidth [TB/s, 10^12 B/s].
    bf16_tflops : float
        Dense (no 2:4 sparsity) BF16/FP16 tensor-core peak [10^12 FLOP/s]; datasheets often
        print the sparse figure, twice this.
    power_limit_w : float
        Maximum board power (TDP / TBP) [W]; configurable parts list their top value.
    form_factor : str
        SXM, PCIe, OAM...
    source : str
        The vendor datasheet each number was read from (name and URL).
    note : str
        What is uncertain about the numbers, if anything.
    """

    key: str
    name: str
    memory_gib: float
    bandwidth_tb_s: float
    bf16_tflops: float
    power_limit_w: float
    form_factor: str
    source: str
    note: str = ""

    @property
    def memory_bytes(self) -> float:
        """GPU memory [B]."""
        return self.memory_gib * _GIB

    @property
    def bandwidth(self) -> float:
        """Peak memory bandwidth [B/s]."""
        return self.bandwidth_tb_s * 1e12

    @property
    def peak_flops(self) -> float:
        """Dense BF16/FP16 tensor peak [FLOP/s]."""
        return self.bf16_tflops * 1e12

    @property
    def ridge(self) -> float:
        """Arithmetic intensity where the roofline bends, ``peak_flops / bandwidth`` [FLOP/B]."""
        return self.peak_flops / self.bandwidth

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict (inverse of ``GPUSpec(**d)``)."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


def _gpu(**kw: Any) -> GPUSpec:
    return GPUSpec(**kw)


_NV_H100 = (
    "NVIDIA H100 Tensor Core GPU datasheet, https://www.nvidia.com/en-us/data-center/h100/ "
    "(BF16 Tensor Core 1,979 TFLOPS with sparsity in the SXM column, 1,513 in the PCIe "
    "column; dense is half)"
)
_NV_A100 = (
    "NVIDIA A100 Tensor Core GPU datasheet, https://www.nvidia.com/en-us/data-center/a100/ "
    "(BF16 Tensor Core 312 TFLOPS dense, 624 with sparsity)"
)

#: The GPUs with datasheet numbers, by key. Every value comes from the vendor datasheet
#: named in ``source``; ``note`` says where a value is uncertain or derived.
GPUS: Mapping[str, GPUSpec] = MappingProxyType(
    {
        g.key: g
        for g in (
            _gpu(
                key="h100-sxm",
                name="NVIDIA H100 SXM5 80GB",
                memory_gib=80.0,
                bandwidth_tb_s=3.35,
                bf16_tflops=989.5,
                power_limit_w=700.0,
                form_factor="SXM5",
                source=_NV_H100,
                note="power 'up to 700 W (configurable)'",
            ),
            _gpu(
                key="h100-pcie",
                name="NVIDIA H100 PCIe 80GB",
                memory_gib=80.0,
                bandwidth_tb_s=2.0,
                bf16_tflops=756.5,
                power_limit_w=350.0,
                form_factor="PCIe Gen5",
                source=_NV_H100 + "; NVIDIA H100 PCIe GPU product brief PB-11133-001_v02 "
                "(Nov 2022): 350 W maximum TDP, more than 2,000 GB/s",
                note="the current datasheet lists the H100 NVL (94 GB, 3.9 TB/s, 1,671 TFLOPS "
                "sparse, 350-400 W) in place of the PCIe card; these are the 2022-2023 "
                "revision's PCIe numbers",
            ),
            _gpu(
                key="h200",
                name="NVIDIA H200 SXM 141GB",
                memory_gib=141.0,
                bandwidth_tb_s=4.8,
                bf16_tflops=989.5,
                power_limit_w=700.0,
                form_factor="SXM5",
                source="NVIDIA H200 Tensor Core GPU datasheet, "
                "https://www.nvidia.com/en-us/data-center/h200/ (H200 SXM column: 141 GB "
                "HBM3e, 4.8 TB/s, BF16 1,979 TFLOPS with sparsity, up to 700 W)",
                note="141 GB read as GiB like the other HBM parts (nvidia-smi reports about "
                "140 GiB; uncertain by about 1 %); the H200 NVL card is limited to 600 W",
            ),
            _gpu(
                key="a100-40gb",
                name="NVIDIA A100 SXM4 40GB",
                memory_gib=40.0,
                bandwidth_tb_s=1.555,
                bf16_tflops=312.0,
                power_limit_w=400.0,
                form_factor="SXM4",
                source=_NV_A100,
                note="the PCIe 40GB card has the same memory and bandwidth and a 250 W limit",
            ),
            _gpu(
                key="a100-80gb",
                name="NVIDIA A100 SXM4 80GB",
                memory_gib=80.0,
                bandwidth_tb_s=2.039,
                bf16_tflops=312.0,
                power_limit_w=400.0,
                form_factor="SXM4",
                source=_NV_A100,
                note="the PCIe 80GB card has 1,935 GB/s and a 300 W limit",
            ),
            _gpu(
                key="l40s",
                name="NVIDIA L40S 48GB",
                memory_gib=48.0,
                bandwidth_tb_s=0.864,
                bf16_tflops=362.05,
                power_limit_w=350.0,
                form_factor="PCIe Gen4",
                source="NVIDIA L40S datasheet, https://www.nvidia.com/en-us/data-center/l40s/ "
                "(48 GB GDDR6 with ECC, 864 GB/s, BF16 Tensor Core 362.05 TFLOPS dense, 733 "
                "with sparsity, 350 W maximum power)",
                note="GDDR6 with ECC on: the usable capacity is somewhat below 48 GiB "
                "(about 45 GiB reported)",
            ),
            _gpu(
                key="b200",
                name="NVIDIA B200 (HGX B200, per GPU)",
                memory_gib=180.0,
                bandwidth_tb_s=8.0,
                bf16_tflops=2250.0,
                power_limit_w=1000.0,
                form_factor="SXM6",
                source="NVIDIA HGX platform specifications, "
                "https://www.nvidia.com/en-us/data-center/hgx/ (HGX B200: 8 GPUs, 1,440 GB "
                "HBM3e, 64 TB/s; FP16/BF16 Tensor Core 36 PFLOPS for the 8 GPUs with sparsity) "
                "and the NVIDIA DGX B200 datasheet (1,440 GB total GPU memory)",
                note="UNCERTAIN: per-GPU values divided from the 8-GPU totals; other sources "
                "give 192 GB (the raw HBM3e) and 7.7 TB/s; 1,000 W is the HGX B200 "
                "configuration (GB200 runs its B200 at up to 1,200 W)",
            ),
            _gpu(
                key="mi300x",
                name="AMD Instinct MI300X",
                memory_gib=192.0,
                bandwidth_tb_s=5.3,
                bf16_tflops=1307.4,
                power_limit_w=750.0,
                form_factor="OAM",
                source="AMD Instinct MI300X accelerator data sheet, "
                "https://www.amd.com/en/products/accelerators/instinct/mi300/mi300x.html "
                "(192 GB HBM3, 5.3 TB/s, peak FP16/BF16 1307.4 TFLOPS dense, 2614.9 with "
                "sparsity, 750 W typical board power)",
                note="no TensorRT-LLM on AMD: a constant fitted on NVIDIA/TensorRT-LLM is a "
                "double extrapolation here",
            ),
        )
    }
)

#: The GPU the published serving constants were fitted on. The paper does not state the
#: H100's form factor; the SXM5 is assumed because the fitted J/byte of KV traffic times the
#: SXM's 3.35 TB/s is about its 700 W limit, while on the PCIe card's 2 TB/s it would exceed
#: that card's 350 W (docs/serving.md).
PAPER_GPU = "h100-sxm"


def list_gpus() -> list[str]:
    """Keys of :data:`GPUS`, e.g. ``["a100-40gb", ...]``."""
    return sorted(GPUS)


def get_gpu(gpu: str | GPUSpec) -> GPUSpec:
    """A :class:`GPUSpec` by key (case-insensitive; ``H100 SXM`` and ``h100_sxm`` work too).

    Raises
    ------
    SpecError
        Unknown GPU; the message lists the known keys.
    """
    if isinstance(gpu, GPUSpec):
        return gpu
    if isinstance(gpu, str):
        key = gpu.strip().casefold().replace(" ", "-").replace("_", "-")
        if key in GPUS:
            return GPUS[key]
        if key == "h100":
            return GPUS[PAPER_GPU]
    raise SpecError(
        f"unknown GPU {gpu!r}; known: {', '.join(list_gpus())}. Build a GPUSpec(...) for "
        "another one (with its datasheet source)."
    )


def weight_memory_bytes(architecture: Architecture) -> float:
    """Bytes the weights occupy in GPU memory [B]: every parameter at its width (routed
    experts at ``expert_weight_bytes`` when narrower), embeddings included."""
    experts = (
        architecture.n_moe_layers * architecture.n_experts * architecture.mlp_params_per_expert
    )
    rest = architecture.n_params - experts
    b_exp = architecture.expert_weight_bytes or architecture.weight_bytes
    return float(rest * architecture.weight_bytes + experts * b_exp)


def _positive_int(value: Any, name: str, *, none_ok: bool = False) -> None:
    if value is None and none_ok:
        return
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or int(value) < 1:
        raise SpecError(
            f"ServingConfig.{name} must be a positive integer{' or None' if none_ok else ''}; "
            f"got {value!r}."
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class ServingConfig:
    """How an engine serves requests: what bounds the requests decoded together.

    The defaults are the reference setup the published H100 constants were fitted on: the
    SweetSpot paper's TensorRT-LLM 0.21 runs (``trtllm-bench`` throughput mode, one GPU,
    max_batch_size 1024, max_num_tokens 8192, max sequence length 8192, 1000 requests of
    identical length per run; the KV fraction is TensorRT-LLM's default 0.9).

    Parameters
    ----------
    engine : {"tensorrt-llm", "vllm", "sglang"}
        The engine; it decides how ``kv_cache_fraction`` is read (module docstring).
    max_batch_size : int
        Most requests in one batch (TensorRT-LLM ``max_batch_size``, vLLM ``max_num_seqs``).
    max_num_tokens : int
        Most tokens in one forward pass (TensorRT-LLM ``max_num_tokens``, vLLM
        ``max_num_batched_tokens``): it bounds the prompts that share a prefill pass, and
        the batch (one token per request in a decode pass).
    kv_cache_fraction : float
        TensorRT-LLM ``free_gpu_memory_fraction`` (share of the memory left after the
        weights), or vLLM ``gpu_memory_utilization`` / SGLang ``mem_fraction_static``
        (share of all memory).
    n_requests : int or None
        Requests per run, all submitted at once (a benchmark); None: a stream that never
        runs dry.
    concurrency : int or None
        Most requests in flight at a time (e.g. a server with that many clients); None: no
        such bound.
    tp : int
        Tensor-parallel GPUs (their memory adds up; the published constants are per GPU at
        ``tp = 1``, so other values are extrapolations).
    weight_dtype, kv_cache_dtype : str or None
        ``"bf16"``, ``"fp16"``, ``"fp8"``, ``"int8"``, ``"int4"``, ``"fp4"``, ``"fp32"``;
        None keeps the architecture's widths.
    max_seq_len : int or None
        Longest sequence (prompt plus output) the engine accepts [tokens]; None: no limit.

    Raises
    ------
    SpecError
        A field out of range or an unknown engine or dtype.

    Examples
    --------
    >>> ServingConfig(max_batch_size=64).max_batch_size
    64
    """

    engine: Literal["tensorrt-llm", "vllm", "sglang"] = "tensorrt-llm"
    max_batch_size: int = 1024
    max_num_tokens: int = 8192
    kv_cache_fraction: float = 0.9
    n_requests: int | None = 1000
    concurrency: int | None = None
    tp: int = 1
    weight_dtype: str | None = None
    kv_cache_dtype: str | None = None
    max_seq_len: int | None = 8192

    def __post_init__(self) -> None:
        if self.engine not in ENGINES:
            raise SpecError(
                f"ServingConfig.engine must be one of {', '.join(ENGINES)}; got {self.engine!r}."
            )
        for name in ("max_batch_size", "max_num_tokens", "tp"):
            _positive_int(getattr(self, name), name)
        for name in ("n_requests", "concurrency", "max_seq_len"):
            _positive_int(getattr(self, name), name, none_ok=True)
        frac = self.kv_cache_fraction
        if isinstance(frac, bool) or not isinstance(frac, numbers.Real) or not 0 < float(frac) <= 1:
            raise SpecError(
                f"ServingConfig.kv_cache_fraction must be in (0, 1]; got {frac!r} "
                "(TensorRT-LLM's default is 0.9)."
            )
        for name in ("weight_dtype", "kv_cache_dtype"):
            value = getattr(self, name)
            if value is not None and value not in DTYPE_BYTES:
                raise SpecError(
                    f"ServingConfig.{name} must be one of {', '.join(DTYPE_BYTES)} or None; "
                    f"got {value!r}."
                )

    def architecture(self, architecture: Architecture) -> Architecture:
        """The architecture with this configuration's weight and KV-cache widths."""
        arch = architecture
        if self.weight_dtype is not None:
            arch = replace(arch, weight_bytes=DTYPE_BYTES[self.weight_dtype])
        if self.kv_cache_dtype is not None:
            arch = replace(arch, kv_bytes=DTYPE_BYTES[self.kv_cache_dtype])
        return arch

    def kv_budget_bytes(self, architecture: Architecture, gpu: str | GPUSpec) -> float:
        """Memory the engine gives the KV cache [B] (module docstring); may be <= 0 when the
        weights do not fit."""
        g = get_gpu(gpu)
        memory = g.memory_bytes * self.tp
        weights = weight_memory_bytes(self.architecture(architecture))
        if self.engine == "tensorrt-llm":
            return float(self.kv_cache_fraction) * (memory - weights)
        return float(self.kv_cache_fraction) * memory - weights

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict (inverse of ``ServingConfig(**d)``)."""
        return {f.name: getattr(self, f.name) for f in fields(self)}

    def describe(self) -> str:
        """One line: ``tensorrt-llm, max_batch_size 1024, max_num_tokens 8192, ...``."""
        parts = [
            self.engine,
            f"max_batch_size {self.max_batch_size}",
            f"max_num_tokens {self.max_num_tokens}",
            f"KV fraction {self.kv_cache_fraction:g}",
            f"{self.n_requests} requests per run"
            if self.n_requests is not None
            else "unbounded request stream",
        ]
        if self.concurrency is not None:
            parts.append(f"concurrency {self.concurrency}")
        if self.tp != 1:
            parts.append(f"tp {self.tp}")
        return ", ".join(parts)


#: The reference setup: the SweetSpot paper's TensorRT-LLM 0.21 runs (the defaults).
PAPER_SERVING = ServingConfig()


def concurrency(
    architecture: Architecture,
    n_tokens: ArrayLike,
    *,
    gpu: str | GPUSpec = PAPER_GPU,
    serving: ServingConfig | None = None,
    continuous: bool = False,
) -> _F64:
    """Requests decoded together when every sequence holds ``n_tokens`` tokens.

    Parameters
    ----------
    architecture : Architecture
        The model (its KV bytes per token and weight bytes; the serving dtypes apply).
    n_tokens : int or array_like
        Tokens of one sequence, ``n_in + n_out`` (positive).
    gpu : str or GPUSpec
        The GPU (a key of :data:`GPUS`).
    serving : ServingConfig, optional
        The engine configuration; default :data:`PAPER_SERVING`.
    continuous : bool
        Return the KV-capacity bound without rounding down (smooth in ``n_tokens``, as
        numerical searches like); default: whole requests, as the engine admits them.

    Returns
    -------
    ndarray of float64
        ``B`` for each ``n_tokens`` (module docstring): at least 1 and at most
        ``max_batch_size``, ``n_requests``, ``concurrency`` and ``max_num_tokens``.

    Raises
    ------
    SpecError
        The weights leave no memory for a KV cache on this GPU (raise ``tp`` or use a
        larger GPU), or a length is not positive.

    Notes
    -----
    A sequence longer than the KV budget itself still gets ``B = 1`` here (an engine would
    refuse it); :meth:`sweetspot.FitResult.predict` warns about such lengths.

    Examples
    --------
    >>> import sweetspot as ss
    >>> opt = ss.get_architecture("opt-6.7b")       # multi-head attention: 0.5 MiB per token
    >>> concurrency(opt, [128, 8192]).tolist()
    [973.0, 15.0]
    """
    cfg = PAPER_SERVING if serving is None else serving
    if not isinstance(cfg, ServingConfig):
        raise SpecError(f"serving must be a ServingConfig or None; got {type(cfg).__name__}.")
    if not isinstance(architecture, Architecture):
        raise SpecError(
            f"architecture must be a sweetspot.Architecture; got {type(architecture).__name__}."
        )
    n = as_lengths(n_tokens, "n_tokens", integer=False)
    arch = cfg.architecture(architecture)
    budget = cfg.kv_budget_bytes(arch, gpu)
    if not budget > 0:
        g = get_gpu(gpu)
        raise SpecError(
            f"{arch.name} does not fit on {cfg.tp}x {g.name}: its weights take "
            f"{weight_memory_bytes(arch) / _GIB:.1f} GiB of {g.memory_gib * cfg.tp:g} GiB, "
            "leaving nothing for the KV cache. Use tensor parallelism (ServingConfig(tp=2)), "
            "narrower weights (weight_dtype='fp8') or a larger GPU."
        )
    cap = budget / arch.kv_cache_bytes(n)
    if not continuous:
        cap = np.floor(cap)
    limit = float(min(cfg.max_batch_size, cfg.max_num_tokens))
    for bound in (cfg.n_requests, cfg.concurrency):
        if bound is not None:
            limit = min(limit, float(bound))
    out: _F64 = np.maximum(1.0, np.minimum(limit, cap))
    return out


def load_architecture(
    architecture: Architecture | str | Mapping[str, Any],
) -> Architecture:
    """An :class:`Architecture` from a preset name, a ``config.json`` path or dict, or as is.

    Parameters
    ----------
    architecture : Architecture, str or mapping
        An :class:`Architecture`; a path to a Hugging Face ``config.json`` (any name ending
        in ``.json``, or an existing file); a preset name or Hugging Face id
        (:func:`sweetspot.get_architecture`); or a parsed ``config.json`` dict.

    Returns
    -------
    Architecture
        A config file's architecture is named after the file (``qwen3-8b.json`` gives
        ``qwen3-8b``) unless it names itself (``_name_or_path``).

    Raises
    ------
    ArchitectureError
        An unknown preset, a missing or unreadable file, or a config that does not describe
        a transformer (:meth:`Architecture.from_hf_config` says what is missing).
    """
    import json
    from pathlib import Path

    from .architecture import get_architecture
    from .exceptions import ArchitectureError

    if isinstance(architecture, Architecture):
        return architecture
    if isinstance(architecture, Mapping):
        return Architecture.from_hf_config(architecture)
    if not isinstance(architecture, str):
        raise ArchitectureError(
            "architecture must be an Architecture, a preset name, a path to a config.json or "
            f"a config dict; got {type(architecture).__name__}."
        )
    path = Path(architecture)
    if architecture.lower().endswith(".json") or path.is_file():
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ArchitectureError(
                f"cannot read the config file {architecture!r} ({type(exc).__name__}: {exc}); "
                "pass the path of a Hugging Face config.json."
            ) from None
        try:
            cfg = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ArchitectureError(
                f"{architecture!r} is not JSON ({exc.msg} at line {exc.lineno}); pass a "
                "Hugging Face config.json."
            ) from None
        if not isinstance(cfg, dict):
            raise ArchitectureError(f"{architecture!r} holds no JSON object (a config.json).")
        name = str(cfg.get("_name_or_path") or path.stem)
        return Architecture.from_hf_config(cfg, name=name, source=str(path))
    return get_architecture(architecture)
