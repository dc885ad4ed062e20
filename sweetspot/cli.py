"""The ``sweetspot`` command (also ``python -m sweetspot``).

Library errors become one line on stderr and exit code 1, never a traceback; warnings are
printed as one ``warning:`` line each on stderr.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import json
import sys
import warnings
from collections.abc import Sequence
from typing import Any, TextIO

from .exceptions import SweetspotError

__all__ = ["main"]


#: Input formats of the commands that read measurements (see sweetspot.read_measurements).
_FORMATS = ("auto", "csv", "parquet", "wilkins", "trtllm-bench", "zeus", "codecarbon")


def _int_list(text: str) -> list[int]:
    """argparse type: comma-separated whole numbers (``64,256,1024``)."""
    try:
        vals = [int(v) for v in text.replace(" ", "").split(",") if v]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a comma-separated list of whole numbers such as 64,256,1024; got {text!r}"
        ) from None
    if not vals:
        raise argparse.ArgumentTypeError("expected at least one whole number")
    return vals


def _float_list(text: str) -> list[float]:
    """argparse type: comma-separated numbers (``300,450.5``)."""
    try:
        vals = [float(v) for v in text.replace(" ", "").split(",") if v]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a comma-separated list of numbers such as 300,450,700; got {text!r}"
        ) from None
    if not vals:
        raise argparse.ArgumentTypeError("expected at least one number")
    return vals


def _out(text: str, stream: TextIO | None = None) -> None:
    print(text, file=stream or sys.stdout)


# ------------------------------------------------------------------------------ fit ---
def _cmd_fit(args: argparse.Namespace) -> int:
    from .fit import cross_validate, fit
    from .io import read_measurements
    from .models import ModelSpec

    spec: Any = args.model
    if args.model in ("flops", "memory_flops"):
        spec = ModelSpec(
            name=args.model,
            kv_cache=not args.no_kv_cache,
            logits=args.logits,
            split_phases=not args.no_split,
            per_pass=args.per_pass,
            eager_attention=args.eager_attention,
        )
    elif (
        args.no_kv_cache
        or args.logits != "last"
        or args.no_split
        or args.per_pass
        or args.eager_attention
    ):
        from .exceptions import SpecError

        raise SpecError(
            f"--no-kv-cache, --logits, --no-split, --per-pass and --eager-attention apply to "
            f"--model flops or "
            f"memory_flops, not {args.model!r}."
        )
    from .stream import should_stream

    if args.format in ("auto", "parquet") and should_stream(args.file):
        # a Parquet directory or a big Parquet file: fitted batch by batch, bounded memory
        if args.group or args.cv:
            from .exceptions import SpecError

            raise SpecError(
                "--group and --cv are not available for streamed Parquet input; use "
                "sweetspot.stream.cross_validate_parquet from Python, or filter the dataset."
            )
        res = fit(
            args.file,
            "sweetspot" if spec == "auto" else spec,
            architecture=args.arch,
            loss=args.loss,
        )
        if args.save:
            res.to_json(args.save)
        print(json.dumps(res.to_dict(), indent=2) if args.json else res.report())
        return 0
    data = read_measurements(args.file, format=args.format)
    if args.model == "auto":
        spec, why = _auto_model(data, args.arch)
        print(
            f"note: --model auto chose {spec if isinstance(spec, str) else spec.label}: {why}",
            file=sys.stderr,
        )
    if args.group:
        groups = sorted(data[args.group].astype(str).unique())
        results = [
            (
                g,
                fit(
                    data[data[args.group].astype(str) == g],
                    spec,
                    architecture=args.arch,
                    loss=args.loss,
                ),
            )
            for g in groups
        ]
    else:
        results = [("", fit(data, spec, architecture=args.arch, loss=args.loss))]
    cv = None
    if args.cv:
        cv = {
            g: cross_validate(
                data if not g else data[data[args.group].astype(str) == g],
                spec,
                k=args.cv,
                seed=args.seed,
                architecture=args.arch,
                loss=args.loss,
            ).mape
            for g, _ in results
        }
    if args.save:
        if len(results) > 1:
            payload: Any = {g: r.to_dict() for g, r in results}
        else:
            payload = results[0][1].to_dict()
        with open(args.save, "w", encoding="utf-8") as fh:
            json.dump(payload, fh, indent=2, allow_nan=False)
            fh.write("\n")
    if args.json:
        recs = []
        for g, r in results:
            d = r.to_dict()
            if g:
                d["group"] = g
            if cv is not None:
                d["cv_mape"] = cv[g]
            recs.append(d)
        _out(json.dumps(recs if len(recs) > 1 else recs[0], indent=2, allow_nan=False))
    else:
        for g, r in results:
            if g:
                _out(f"==== {args.group} = {g} ====")
            _out(r.report())
            if cv is not None:
                _out(
                    "[[Cross-validation]]\n"
                    f"    {args.cv}-fold CV MAPE (seed {args.seed}): {cv[g]:.3f} %"
                )
            _out("")
    return 0


def _auto_model(data: Any, arch: str | None) -> tuple[Any, str]:
    """The richest model the data identifies: the six-term form when the grid has >= 3
    levels of both lengths, else the physical ``flops`` model when the architecture is
    known, else the linear baseline."""
    from .architecture import get_architecture
    from .exceptions import ArchitectureError
    from .models import ModelSpec

    n_in_levels = data["n_in"].nunique()
    n_out_levels = data["n_out"].nunique()
    if n_in_levels >= 3 and n_out_levels >= 3 and len(data) >= 6:
        return "sweetspot", f"{n_in_levels} n_in x {n_out_levels} n_out levels"
    grid = (
        f"only {n_in_levels} n_in and {n_out_levels} n_out levels (the six-term model needs 3 each)"
    )
    names = (
        [arch] if arch else sorted(data["model"].astype(str).unique()) if "model" in data else []
    )
    try:
        known = bool(names) and all(get_architecture(n) for n in names)
    except ArchitectureError:
        known = False
    if known:
        kv = bool(data["kv_cache"].iloc[0]) if "kv_cache" in data.columns else True
        return ModelSpec(name="flops", kv_cache=kv), f"{grid}; the architecture is known"
    return "linear", f"{grid} and no known architecture"


# -------------------------------------------------------------------------- optimum ---
def _load_fit(path: str) -> Any:
    from .result import FitResult

    return FitResult.from_json(path)


def _cmd_optimum(args: argparse.Namespace) -> int:
    from .optimum import sweet_spot

    res = _load_fit(args.fit)
    sp = sweet_spot(res, args.n_in, n_out_max=args.n_out_max)
    if args.json:
        _out(
            json.dumps(
                [
                    {
                        "n_in": float(ni),
                        "n_out_opt": float(no),
                        "energy_per_token_j": float(e),
                        "tokens_per_joule": float(1 / e),
                        "interior": bool(it),
                    }
                    for ni, no, e, it in zip(
                        sp.n_in, sp.n_out, sp.energy_per_token_j, sp.interior, strict=True
                    )
                ],
                indent=2,
            )
        )
        return 0
    _out(f"sweet spot of {res.spec.label} ({', '.join(res.models) or 'unnamed data'})")
    _out(f"{'n_in':>8} {'n_out*':>10} {'J/token':>12} {'tokens/J':>10}")
    for ni, no, e, it in zip(sp.n_in, sp.n_out, sp.energy_per_token_j, sp.interior, strict=True):
        _out(f"{ni:>8g} {no:>10.1f} {e:>12.5g} {1 / e:>10.4g}{'' if it else '  (boundary)'}")
    return 0


# ---------------------------------------------------------------------------- archs ---
def _cmd_archs(args: argparse.Namespace) -> int:
    from dataclasses import asdict

    from .architecture import get_architecture, list_architectures

    archs = [get_architecture(n) for n in list_architectures()]
    if args.json:
        _out(json.dumps([asdict(a) for a in archs], indent=2))
        return 0
    _out(
        f"{'name':<22} {'params':>8} {'L':>4} {'h':>6} {'a':>4} {'k':>4} {'d':>4} "
        f"{'f':>7} {'V':>7}  hf_id"
    )
    for a in archs:
        moe = f" MoE {a.n_experts}x{a.n_experts_active}" if a.n_experts > 1 else ""
        _out(
            f"{a.name:<22} {a.n_params / 1e9:>7.2f}B {a.n_layers:>4} {a.hidden_size:>6} "
            f"{a.n_heads:>4} {a.n_kv_heads:>4} {a.head_dim:>4} {a.ffn_size:>7} {a.vocab_size:>7}  "
            f"{a.hf_id}{moe}"
        )
    return 0


# ----------------------------------------------------------------------------- main ---
def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``sweetspot`` command."""
    from . import __version__

    parser = argparse.ArgumentParser(
        prog="sweetspot",
        description="Energy of LLM inference: fit energy models over (n_in, n_out) and find "
        "the output length that maximises output tokens per joule.",
    )
    parser.add_argument("--version", action="version", version=f"sweetspot {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("fit", help="fit an energy model to a measurement file and print the report")
    p.add_argument(
        "file", help="measurements: CSV, Parquet, a measurement store directory, or a Wilkins CSV"
    )
    p.add_argument(
        "--model",
        default="auto",
        choices=["auto", "sweetspot", "linear", "wilkins", "flops", "memory_flops"],
        help="energy model (default auto: sweetspot when the grid has >= 3 levels of each "
        "length, else flops when the architecture is known, else linear)",
    )
    p.add_argument(
        "--arch",
        default=None,
        help="architecture preset for physical models (see `sweetspot archs`)",
    )
    p.add_argument("--loss", default="relative", choices=["relative", "absolute", "mape"])
    p.add_argument("--format", default="auto", choices=list(_FORMATS))
    p.add_argument(
        "--group", default=None, help="fit each value of this column separately (e.g. model)"
    )
    p.add_argument(
        "--no-kv-cache", action="store_true", help="physical models: engine without KV cache"
    )
    p.add_argument(
        "--logits",
        default="last",
        choices=["last", "all"],
        help="physical models: LM head positions",
    )
    p.add_argument(
        "--no-split", action="store_true", help="physical models: one J/FLOP for prefill and decode"
    )
    p.add_argument(
        "--per-pass", action="store_true", help="physical models: add a fixed J per layer per pass"
    )
    p.add_argument(
        "--eager-attention",
        action="store_true",
        help="physical models: unfused attention, add J per materialised score element",
    )
    p.add_argument(
        "--cv", type=int, default=0, metavar="K", help="also report K-fold cross-validated MAPE"
    )
    p.add_argument("--seed", type=int, default=0, help="seed of the CV shuffle (default 0)")
    p.add_argument(
        "--save",
        default=None,
        metavar="FILE.json",
        help="save the fit as JSON (input of `sweetspot optimum`)",
    )
    p.add_argument("--json", action="store_true", help="print JSON instead of the report")
    p.set_defaults(func=_cmd_fit)

    p = sub.add_parser("optimum", help="print n_out* for input lengths from a saved fit")
    p.add_argument("fit", help="a fit saved with `sweetspot fit --save FILE.json`")
    p.add_argument("--n-in", type=_int_list, default=[64, 128, 256, 512, 1024, 2048, 4096])
    p.add_argument(
        "--n-out-max",
        type=float,
        default=None,
        help="largest admissible n_out (enables boundary answers)",
    )
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_cmd_optimum)

    p = sub.add_parser("archs", help="list the architecture presets")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_cmd_archs)

    for module in _COMMAND_MODULES:
        if _module_exists(module):
            importlib.import_module(module).register(sub)
    return parser


def _module_exists(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except ModuleNotFoundError:  # a parent package is absent
        return False


#: Modules that add sub-commands through a ``register(subparsers)`` function; each
#: sub-command sets ``func`` (taking the parsed args, returning the exit code).
_COMMAND_MODULES: tuple[str, ...] = (
    "sweetspot._cli_evaluate",
    "sweetspot._cli_plan",
    "sweetspot.harness.cli",
    "sweetspot._cli_scale",
)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``sweetspot`` command; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return 2

    def _show(message: Warning | str, category: type[Warning], *_: Any, **__: Any) -> None:
        print(f"warning: {category.__name__}: {message}", file=sys.stderr)

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("default")
            warnings.showwarning = _show
            return int(args.func(args))
    except SweetspotError as exc:
        print(f"sweetspot {args.command}: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"sweetspot {args.command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
