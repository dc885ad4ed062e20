"""Sub-commands ``plan`` and ``workload`` of the ``sweetspot`` command (application helpers).

``--params`` takes a saved fit (``sweetspot fit --save FILE.json``; ``FILE.json#GROUP`` picks one
fit of a file saved with ``--group``) or, when no such file exists, the name of a published fit:
see :func:`sweetspot.tables.resolve_params`. ``--arch`` instead takes any architecture (a
``config.json`` path or a preset name) and plans with the published pooled serving constants
(:func:`sweetspot.tables.serving_model`) on ``--gpu``, with the engine options of
:class:`sweetspot.ServingConfig`.
"""

from __future__ import annotations

import argparse
import json
import math
from typing import Any

from ..plan import format_joules
from ._args import POLICY_CHOICES, flags_named, int_list

__all__ = ["register"]


def gpu_line(bound: Any) -> str:
    """``GPU h100-sxm; <serving>`` for a bound serving model, marked EXTRAPOLATED when the
    constants were fitted on another GPU."""
    fitted = bound.fit.gpu
    gpu = bound.gpu or fitted
    other = "" if gpu == fitted else f" (EXTRAPOLATED: constants fitted on {fitted})"
    return f"GPU {gpu}{other}; {bound.serving.describe()}"


def _describe(res: Any) -> str:
    from ..result import BoundFit

    if isinstance(res, BoundFit):
        return (
            f"{res.spec.label} constants fitted pooled on {len(res.fit.models)} LLMs "
            f"({res.fit.gpu}), for {res.architecture.name} predicted from its architecture alone"
        )
    models = ", ".join(res.models) or "unnamed data"
    mape = f", in-sample MAPE {res.mape:.2f} %" if math.isfinite(res.mape) else ""
    return f"{res.spec.label} fit of {models}{mape}"


def serving_options(p: argparse.ArgumentParser) -> None:
    """``--arch`` and the engine options of :class:`sweetspot.ServingConfig` (plan, report)."""
    from ..serving import DTYPE_BYTES, ENGINES, PAPER_SERVING, list_gpus

    d = PAPER_SERVING
    g = p.add_argument_group(
        "any architecture (published pooled serving constants; defaults: the reference setup)"
    )
    g.add_argument(
        "--arch",
        default=None,
        metavar="CONFIG_OR_NAME",
        help="a Hugging Face config.json (path) or a preset name: predict it from the pooled "
        "H100 serving constants",
    )
    g.add_argument(
        "--allow-other-gpu",
        action="store_true",
        help=f"--arch: allow a --gpu other than the constants' own (an extrapolation; it warns); "
        f"GPUs: {', '.join(list_gpus())}",
    )
    g.add_argument("--engine", default=d.engine, choices=list(ENGINES))
    g.add_argument("--max-batch-size", type=int, default=d.max_batch_size)
    g.add_argument("--max-num-tokens", type=int, default=d.max_num_tokens)
    g.add_argument("--kv-cache-fraction", type=float, default=d.kv_cache_fraction)
    g.add_argument(
        "--requests",
        type=int,
        default=d.n_requests,
        help=f"requests per run, all submitted at once (default {d.n_requests}); 0: an "
        "unbounded stream",
    )
    g.add_argument(
        "--concurrency", type=int, default=None, help="most requests in flight (default: none)"
    )
    g.add_argument("--tp", type=int, default=d.tp, help="tensor-parallel GPUs (default 1)")
    g.add_argument("--weight-dtype", default=None, choices=list(DTYPE_BYTES))
    g.add_argument("--kv-cache-dtype", default=None, choices=list(DTYPE_BYTES))


def serving_model_from(args: argparse.Namespace) -> Any:
    """The published serving constants bound to ``--arch`` on ``--gpu`` with the engine
    options (:func:`sweetspot.tables.serving_model`)."""
    from ..serving import PAPER_GPU, ServingConfig
    from ..tables import serving_model

    cfg = ServingConfig(
        engine=args.engine,
        max_batch_size=args.max_batch_size,
        max_num_tokens=args.max_num_tokens,
        kv_cache_fraction=args.kv_cache_fraction,
        n_requests=args.requests or None,
        concurrency=args.concurrency,
        tp=args.tp,
        weight_dtype=args.weight_dtype,
        kv_cache_dtype=args.kv_cache_dtype,
    )
    return serving_model(
        args.arch,
        gpu=args.gpu or PAPER_GPU,
        serving=cfg,
        family=args.family,
        allow_other_gpu=args.allow_other_gpu,
        path=getattr(args, "table", None),
    )


def _plan_model(args: argparse.Namespace) -> Any:
    """The model ``plan`` and ``workload`` work with: ``--params`` or ``--arch``."""
    from ..exceptions import SpecError
    from ..tables import resolve_params

    if (args.params is None) == (args.arch is None):
        raise SpecError(
            "give exactly one of --params (a saved or published fit) and --arch (a "
            "config.json or preset name, predicted from the pooled serving constants)."
        )
    if args.arch is not None:
        return serving_model_from(args)
    return resolve_params(args.params, family=args.family, gpu=args.gpu)


# --------------------------------------------------------------------------- plan ---
@flags_named
def _cmd_plan(args: argparse.Namespace) -> int:
    import numpy as np

    from .._validation import as_lengths
    from ..exceptions import SpecError
    from ..optimum import N_IN_GRID, energy, sweet_spot
    from ..plan import energy_budget, max_input_tokens, recommend_max_tokens
    from ..result import BoundFit

    res = _plan_model(args)
    bound = isinstance(res, BoundFit)
    n_in = as_lengths(args.n_in if args.n_in is not None else list(N_IN_GRID), "--n-in")
    if bound and args.n_max is None and res.serving is not None and res.serving.max_seq_len:
        # the engine refuses longer sequences: search the sweet spot below them
        args.n_max = max(int(res.serving.max_seq_len - n_in.max()), 1)
    if args.n_out is not None and args.n_out < 1:
        raise SpecError(
            f"--n-out must be a positive whole number of tokens (>= 1); got {args.n_out!r}. "
            "Pass e.g. --n-out=64."
        )
    rec = np.atleast_1d(
        recommend_max_tokens(res, n_in, n_min=args.n_min, n_max=args.n_max, slack=args.slack)
    )
    sp = sweet_spot(res, n_in, n_out_max=args.n_max, warn=False)
    why = res.non_physical()
    budgets = {"budget_j": args.budget_j, "max_j_per_token": args.max_j_per_token}
    has_budget = args.budget_j is not None or args.max_j_per_token is not None
    records = []
    longest_for: dict[float, int | None] = {}
    for i, ni in enumerate(n_in):
        n_out = float(args.n_out if args.n_out is not None else rec[i])
        e = float(energy(res, ni, n_out))
        r: dict[str, Any] = {
            "n_in": int(ni),
            "n_out_opt": float(sp.n_out[i]),
            "interior": bool(sp.interior[i]),
            "extrapolated": bool(sp.extrapolated[i]),
            "non_physical": why is not None or not e > 0,
            "max_tokens": int(rec[i]),
            "n_out": int(n_out),
            "energy_j": e,
            "energy_per_token_j": e / n_out,
        }
        if bound:
            r["batch_size"] = float(res.batch_sizes(ni, n_out))
        if has_budget:
            budget = float(energy_budget(n_out, **budgets))
            keep = int(max_input_tokens(res, n_out, **budgets, n_in_max=ni))
            if n_out not in longest_for:  # one search per output length, not per n_in
                try:
                    longest_for[n_out] = int(max_input_tokens(res, n_out, **budgets))
                except SpecError:
                    # a prompt fits (keep >= 1), so the one refusal left is an unbounded
                    # answer: a fit whose energy stops growing with n_in
                    longest_for[n_out] = None
            longest = longest_for[n_out]
            r.update(
                budget_j=budget,
                within_budget=e <= budget,
                max_input_tokens=longest,
                truncate_to=keep,
                energy_after_j=float(energy(res, keep, n_out)),
            )
        records.append(r)
    if args.json:
        print(json.dumps(records if len(records) > 1 else records[0], indent=2))
        return 0
    print(f"plan from the {_describe(res)}")
    if bound:
        lomo = res.meta.get("lomo_mape_mean")
        print(gpu_line(res))
        if lomo is not None:
            print(f"held-out check: leave-one-model-out MAPE {lomo:.2f} % on the 13 LLMs")
    if why:
        print(f"warning: NON-PHYSICAL fit: {why}; do not plan with it")
    lo_i, hi_i = res.n_in_range
    lo_o, hi_o = res.n_out_range
    for r in records:
        tags = [] if r["interior"] else ["boundary of [1, --n-max]"]
        if r["extrapolated"]:
            tags.append(f"extrapolated: fitted n_in {lo_i:g}..{hi_i:g}, n_out {lo_o:g}..{hi_o:g}")
        tag = f" ({'; '.join(tags)})" if tags else ""
        print(f"n_in = {r['n_in']} tokens")
        print(f"  sweet spot n_out*        {r['n_out_opt']:.1f} tokens{tag}")
        extra = f" (slack {100 * args.slack:g} %)" if args.slack else ""
        print(f"  recommended max_tokens   {r['max_tokens']}{extra}")
        print(
            f"  energy at n_out = {r['n_out']:<6d} {format_joules(r['energy_j'])} per request, "
            f"{format_joules(r['energy_per_token_j'])}/token"
        )
        if bound:
            print(f"  requests in flight       {r['batch_size']:.0f} (concurrency rule)")
        if has_budget:
            state = "within" if r["within_budget"] else "OVER"
            print(f"  budget                   {format_joules(r['budget_j'])} per request: {state}")
            longest = r["max_input_tokens"]
            beyond = longest is not None and not lo_i <= longest <= hi_i
            mark = f" (extrapolated: the fitted n_in is {lo_i:g}..{hi_i:g})" if beyond else ""
            print(
                f"  longest prompt in budget {longest} tokens{mark}"
                if longest is not None
                else "  longest prompt in budget unbounded (this fit's energy falls with n_in)"
            )
            if r["truncate_to"] < r["n_in"]:
                print(
                    f"  truncate the prompt to   {r['truncate_to']} tokens "
                    f"({format_joules(r['energy_j'])} -> {format_joules(r['energy_after_j'])})"
                )
            else:
                print("  prompt                   keep as is (within budget)")
    return 0


# ----------------------------------------------------------------------- workload ---
@flags_named
def _cmd_workload(args: argparse.Namespace) -> int:
    from pathlib import Path

    from ..io import read_request_mix
    from ..plan import plot_savings, policy_savings

    res = _plan_model(args)
    mix = read_request_mix(args.trace)
    label = Path(mix.attrs["source"]).name
    sav = policy_savings(
        res,
        mix["n_in"].to_numpy(),
        mix["n_out"].to_numpy(),
        policy=args.policy,
        budget_j=args.budget_j,
        max_j_per_token=args.max_j_per_token,
        n_min=args.n_min,
        n_max=args.n_max,
        slack=args.slack,
    )
    if args.plot:
        fig = plot_savings(sav, title=f"{label}: {_describe(res)}")
        fig.savefig(args.plot, dpi=130)
    if args.json:
        d = sav.to_dict()
        d["trace"] = label
        d["params"] = args.params
        print(json.dumps(d, indent=2, allow_nan=False))
        return 0
    what = {
        "cap": "cap max_tokens at the sweet spot",
        "truncate": "truncate prompts to the budget",
        "both": "cap max_tokens at the sweet spot, then truncate prompts to the budget",
    }[args.policy]
    b, a = sav.before, sav.after
    print(f"workload {label}: {b.n_requests} requests; {_describe(res)}")
    print(f"policy: {what}")
    print(f"{'':<28}{'before':>14}{'after':>14}{'change':>10}")

    def row(name: str, x: float, y: float, fmt: Any = format_joules) -> None:
        ch = f"{100 * (y - x) / x:+.1f} %" if x else ""
        print(f"{name:<28}{fmt(x):>14}{fmt(y):>14}{ch:>10}")

    row("energy per request, mean", b.mean_j, a.mean_j)
    row("energy per request, p50", b.p50_j, a.p50_j)
    row("energy per request, p99", b.p99_j, a.p99_j)
    row("total energy", b.total_j, a.total_j)
    row("output tokens", b.n_out_total, a.n_out_total, lambda v: f"{v:,.0f}")
    row("prompt tokens", b.n_in_total, a.n_in_total, lambda v: f"{v:,.0f}")
    row("energy per output token", b.j_per_output_token, a.j_per_output_token, format_joules)
    n_changed = int(sav.changed.sum())
    print(
        f"requests changed: {n_changed} of {b.n_requests} ({100 * sav.fraction_changed:.1f} %): "
        f"{int(sav.capped.sum())} outputs capped, {int(sav.truncated.sum())} prompts truncated"
    )
    if sav.over_budget.any():
        print(
            f"still over budget: {int(sav.over_budget.sum())} requests (no prompt length fits "
            "at their output length; left as they are)"
        )
    print(f"total saving: {format_joules(sav.saving_j)} ({100 * sav.saving_fraction:.1f} %)")
    if sav.capped.any():
        print(
            f"note: capping shortens what users receive: {int(sav.capped.sum())} answers cut, "
            f"{100 * sav.output_tokens_removed_fraction:.1f} % of output tokens removed."
        )
    if args.plot:
        print(f"figure: {args.plot}")
    return 0


# ----------------------------------------------------------------------- register ---
def _add_common(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--params",
        default=None,
        metavar="NAME_OR_FILE",
        help="a saved fit (FILE.json, or FILE.json#GROUP for a file saved with --group) or the "
        "model name of a published fit (or use --arch)",
    )
    p.add_argument("--family", default=None, help="published fit: the model family to load")
    p.add_argument(
        "--gpu",
        default=None,
        help="published fit: the GPU to load (e.g. h100); --arch: the GPU to predict on "
        "(default h100-sxm)",
    )
    p.add_argument("--n-min", type=int, default=1, help="shortest max_tokens allowed (default 1)")
    p.add_argument(
        "--n-max",
        type=int,
        default=None,
        help="longest max_tokens allowed; also gives boundary answers for fits without an "
        "interior sweet spot",
    )
    p.add_argument(
        "--slack",
        type=float,
        default=0.0,
        help="recommend the shortest max_tokens within this fraction of the best J/token "
        "(e.g. 0.05)",
    )
    p.add_argument("--budget-j", type=float, default=None, help="energy budget per request [J]")
    p.add_argument(
        "--max-j-per-token",
        type=float,
        default=None,
        help="energy budget per output token [J/token]",
    )
    p.add_argument("--json", action="store_true", help="print JSON")
    serving_options(p)


def register(subparsers: Any) -> None:
    """Add ``plan`` and ``workload`` to the ``sweetspot`` command."""
    p = subparsers.add_parser(
        "plan",
        help="recommend max_tokens for prompt lengths, and prompt limits for an energy budget",
    )
    _add_common(p)
    p.add_argument(
        "--n-in",
        type=int_list,
        default=None,
        help="prompt length(s) [tokens], e.g. 1500 or 512,1500 (default 64,128,...,4096)",
    )
    p.add_argument(
        "--n-out",
        type=int,
        default=None,
        help="output length to check against the budget (default: the recommended max_tokens)",
    )
    p.set_defaults(func=_cmd_plan)

    p = subparsers.add_parser(
        "workload",
        help="energy of a request trace before and after a max_tokens / truncation policy",
    )
    _add_common(p)
    p.add_argument(
        "--trace",
        required=True,
        help="Azure LLM inference trace CSV (ContextTokens, GeneratedTokens) or CSV with n_in, "
        "n_out",
    )
    p.add_argument(
        "--policy",
        default="cap",
        choices=list(POLICY_CHOICES),
        help="cap: max_tokens at the sweet spot; truncate: prompts to the budget; both",
    )
    p.add_argument(
        "--plot", default=None, metavar="OUT.png", help="write the before/after figure here"
    )
    p.set_defaults(func=_cmd_workload)
