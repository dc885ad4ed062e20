"""Sub-commands ``fit``, ``optimum`` and ``archs`` of the ``sweetspot`` command."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from ..models import FLAGGED_TERMS
from ._args import (
    FORMAT_CHOICES,
    LOGITS_CHOICES,
    LOSS_CHOICES,
    MODEL_CHOICES,
    N_IN_DEFAULT,
    flags_named,
    int_list,
)

__all__ = ["register"]


# ------------------------------------------------------------------------------ fit ---
def _options(args: argparse.Namespace) -> dict[str, Any]:
    """The physical-model options the flags set; refused (before any data is read) for a
    free model."""
    from ..exceptions import SpecError
    from ..models import PHYSICAL_MODELS, ModelSpec

    defaults = ModelSpec(name="flops")
    options = {
        str(t.option): getattr(args, str(t.option))
        for t in FLAGGED_TERMS
        if getattr(args, str(t.option)) != getattr(defaults, str(t.option))
    }
    if args.logits is not None:
        options["logits"] = args.logits
    if args.model not in PHYSICAL_MODELS and (args.no_kv_cache or options):
        flags = ["--no-kv-cache", "--logits", *(str(t.flag) for t in FLAGGED_TERMS)]
        raise SpecError(
            f"{', '.join(flags[:-1])} and {flags[-1]} apply to --model "
            f"{' or '.join(PHYSICAL_MODELS)}, not {args.model!r}."
        )
    return options


def _spec(args: argparse.Namespace, facts: Any) -> Any:
    """The model of ``--model`` with the physical-model flags and the engine facts of the
    data (``sweetspot.fitting.spec_for``: the library's one rule)."""
    from ..exceptions import SpecError
    from ..fitting import spec_for
    from ..models import PHYSICAL_MODELS

    options = _options(args)
    if args.model not in PHYSICAL_MODELS:
        return args.model
    if args.no_kv_cache and facts.get("kv_cache") is True:
        raise SpecError(
            "--no-kv-cache contradicts the data's kv_cache column (True: the engine keeps "
            "a KV cache); drop --no-kv-cache, or correct the column if it is wrong."
        )
    return spec_for(args.model, False if args.no_kv_cache else None, facts, options=options)


@flags_named
def _cmd_fit(args: argparse.Namespace) -> int:
    from ..evaluate import choose_model
    from ..exceptions import SpecError
    from ..fitting import cross_validate, engine_facts, fit
    from ..io import read_measurements
    from ..io.parquet import should_stream

    _options(args)  # flags a free model does not take are refused before reading data
    if args.format in ("auto", "parquet") and should_stream(args.file):
        spec = _spec(args, engine_facts(args.file))
        # a Parquet directory or a big Parquet file: fitted batch by batch, bounded memory
        if args.group or args.cv:
            raise SpecError(
                "--group and --cv are not available for streamed Parquet input; use "
                "sweetspot.cross_validate_parquet from Python, or filter the dataset."
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
    if args.group is not None and args.group not in data.columns:
        raise SpecError(
            f"--group {args.group!r} is not a column of the data; its columns are "
            f"{', '.join(map(str, data.columns))}."
        )
    parts = (
        [
            (g, data[data[args.group].astype(str) == g])
            for g in sorted(data[args.group].astype(str).unique())
        ]
        if args.group
        else [("", data)]
    )
    chosen: Any = None
    if args.model == "auto":
        chosen, why = choose_model(data, args.arch)
        label = chosen if isinstance(chosen, str) else chosen.label
        print(f"note: --model auto chose {label}: {why}", file=sys.stderr)
    specs: dict[str, Any] = {
        g: chosen if chosen is not None else _spec(args, engine_facts(part)) for g, part in parts
    }
    results = [
        (g, fit(part, specs[g], architecture=args.arch, loss=args.loss)) for g, part in parts
    ]
    cv = None
    if args.cv:
        cv = {
            g: cross_validate(
                part, specs[g], k=args.cv, seed=args.seed, architecture=args.arch, loss=args.loss
            ).mape
            for g, part in parts
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
        print(json.dumps(recs if len(recs) > 1 else recs[0], indent=2, allow_nan=False))
    else:
        for g, r in results:
            if g:
                print(f"==== {args.group} = {g} ====")
            print(r.report())
            if cv is not None:
                print(
                    "[[Cross-validation]]\n"
                    f"    {args.cv}-fold CV MAPE (seed {args.seed}): {cv[g]:.3f} %"
                )
            print("")
    return 0


# -------------------------------------------------------------------------- optimum ---
@flags_named
def _cmd_optimum(args: argparse.Namespace) -> int:
    from ..optimum import sweet_spot
    from ..tables import resolve_params

    res = resolve_params(args.fit, gpu=args.gpu)
    sp = sweet_spot(res, args.n_in, n_out_max=args.n_out_max, warn=False)
    why = res.non_physical()
    rows = []
    for ni, no, e, it, ex in zip(
        sp.n_in, sp.n_out, sp.energy_per_token_j, sp.interior, sp.extrapolated, strict=True
    ):
        tags = []
        if not it:
            tags.append("boundary: no interior sweet spot")
        if ex:
            tags.append("extrapolated")
        if not e > 0 or why:
            tags.append("non-physical")
        rows.append((float(ni), float(no), float(e), bool(it), bool(ex), tags))
    if args.json:
        recs = [
            {
                "n_in": ni,
                "n_out_opt": no,
                "energy_per_token_j": e if e > 0 else None,
                "tokens_per_joule": 1 / e if e > 0 else None,
                "interior": it,
                "extrapolated": ex,
                "non_physical": "non-physical" in tags,
            }
            for ni, no, e, it, ex, tags in rows
        ]
        print(json.dumps(recs, indent=2))
        return 0
    print(f"sweet spot of {res.spec.label} ({', '.join(res.models) or 'unnamed data'})")
    lo_i, hi_i = res.n_in_range
    lo_o, hi_o = res.n_out_range
    print(f"fitted n_in {lo_i:g}..{hi_i:g}, n_out {lo_o:g}..{hi_o:g}; n_out_max {args.n_out_max:g}")
    if why:
        print(f"warning: {why}")
    print(f"{'n_in':>8} {'n_out*':>10} {'J/token':>12} {'tokens/J':>10}")
    for ni, no, e, _, _, tags in rows:
        tag = f"  ({'; '.join(tags)})" if tags else ""
        if not e > 0:
            print(f"{ni:>8g} {no:>10.1f} {'energy <= 0':>12} {'-':>10}{tag}")
        else:
            print(f"{ni:>8g} {no:>10.1f} {e:>12.5g} {1 / e:>10.4g}{tag}")
    return 0


# ---------------------------------------------------------------------------- archs ---
def _cmd_archs(args: argparse.Namespace) -> int:
    from dataclasses import asdict

    from ..architecture import get_architecture, list_architectures

    archs = [get_architecture(n) for n in list_architectures()]
    if args.json:
        print(json.dumps([asdict(a) for a in archs], indent=2))
        return 0
    print(
        f"{'name':<22} {'params':>8} {'L':>4} {'h':>6} {'a':>4} {'k':>4} {'d':>4} "
        f"{'f':>7} {'V':>7}  hf_id"
    )
    for a in archs:
        moe = f" MoE {a.n_experts}x{a.n_experts_active}" if a.n_experts > 1 else ""
        print(
            f"{a.name:<22} {a.n_params / 1e9:>7.2f}B {a.n_layers:>4} {a.hidden_size:>6} "
            f"{a.n_heads:>4} {a.n_kv_heads:>4} {a.head_dim:>4} {a.ffn_size:>7} {a.vocab_size:>7}  "
            f"{a.hf_id}{moe}"
        )
    return 0


# ------------------------------------------------------------------------- register ---
def register(subparsers: Any) -> None:
    """Add ``fit``, ``optimum`` and ``archs`` to the ``sweetspot`` command."""
    p = subparsers.add_parser(
        "fit", help="fit an energy model to a measurement file and print the report"
    )
    p.add_argument(
        "file", help="measurements: CSV, Parquet, a measurement store directory, or a Wilkins CSV"
    )
    p.add_argument(
        "--model",
        default="auto",
        choices=list(MODEL_CHOICES),
        help="energy model (default auto: sweetspot when the grid has >= 3 levels of each "
        "length, else flops when the architecture is known, else linear)",
    )
    p.add_argument(
        "--arch",
        default=None,
        help="architecture preset for physical models (see `sweetspot archs`)",
    )
    p.add_argument("--loss", default="relative", choices=list(LOSS_CHOICES))
    p.add_argument("--format", default="auto", choices=list(FORMAT_CHOICES))
    p.add_argument(
        "--group", default=None, help="fit each value of this column separately (e.g. model)"
    )
    p.add_argument(
        "--no-kv-cache", action="store_true", help="physical models: engine without KV cache"
    )
    p.add_argument(
        "--logits",
        choices=list(LOGITS_CHOICES),
        default=None,
        help="physical models: LM head positions (default: all for hf-transformers data, "
        "else last)",
    )
    for term in FLAGGED_TERMS:  # one flag per switchable term of sweetspot.models.TERMS
        p.add_argument(
            term.flag,
            dest=term.option,
            action="store_const",
            const=term.when,
            default=not term.when,
            help=f"physical models: {term.help}",
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

    p = subparsers.add_parser(
        "optimum", help="print n_out* for input lengths from a saved or published fit"
    )
    p.add_argument(
        "fit",
        help="a fit saved with `sweetspot fit --save FILE.json`, FILE.json#GROUP for one fit "
        "of `fit --group ... --save`, or the name of a published fit (e.g. llama-3.1-8b)",
    )
    p.add_argument("--gpu", default=None, help="published fit only: the GPU (e.g. h100)")
    p.add_argument("--n-in", type=int_list, default=list(N_IN_DEFAULT))
    p.add_argument(
        "--n-out-max",
        type=float,
        default=65536.0,
        help="largest admissible n_out [tokens] (default 65536); an optimum there is marked "
        "as a boundary",
    )
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_cmd_optimum)

    p = subparsers.add_parser("archs", help="list the architecture presets")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_cmd_archs)
