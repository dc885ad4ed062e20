"""The ``sweetspot plan`` and ``sweetspot workload`` sub-commands (application helpers).

``--params`` takes a saved fit (``sweetspot fit --save FILE.json``; ``FILE.json#GROUP`` picks one
fit of a file saved with ``--group``) or, when no such file exists, the name of a published fit,
looked up with :func:`sweetspot.tables.load_params`.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from pathlib import Path
from typing import Any

import numpy as np

from .cli import _int_list
from .exceptions import MeasurementError, SpecError, TableError

__all__ = ["register", "resolve_params"]


def _out(text: str = "") -> None:
    print(text, file=sys.stdout)


# ------------------------------------------------------------------------- params ---
def resolve_params(name_or_file: str, *, family: str | None = None, gpu: str | None = None) -> Any:
    """A FitResult from a saved fit file (``FILE.json`` or ``FILE.json#GROUP``) or, when no
    such file exists, from the published tables (:func:`sweetspot.tables.load_params`)."""
    from .result import FitResult

    path, _, group = name_or_file.partition("#")
    if os.path.isfile(path):
        if not group:
            try:
                return FitResult.from_json(path)
            except TableError:
                pass  # maybe a file of several fits (sweetspot fit --group ... --save)
        try:
            with open(path, encoding="utf-8") as fh:
                doc = json.load(fh)
        except (OSError, json.JSONDecodeError) as exc:
            raise TableError(f"cannot read saved fit {path!r}: {exc}") from exc
        groups = (
            [k for k, v in doc.items() if isinstance(v, dict) and "spec" in v]
            if isinstance(doc, dict)
            else []
        )
        if not groups:
            return FitResult.from_json(path)  # raises the precise TableError
        if not group:
            raise TableError(
                f"{path} holds {len(groups)} fits ({', '.join(groups)}); pick one with "
                f"--params '{path}#{groups[0]}'."
            )
        if group not in doc:
            raise TableError(f"{path} has no fit named {group!r}; it holds {', '.join(groups)}.")
        return FitResult.from_dict(doc[group])
    if path.lower().endswith(".json") or os.sep in path or "/" in path:
        raise TableError(
            f"saved fit {path!r} not found. Save one with `sweetspot fit DATA --save FILE.json`, "
            "or pass the name of a published fit."
        )
    try:
        from . import tables
    except ImportError:
        raise SpecError(
            f"{name_or_file!r} is not a file, and this installation has no published parameter "
            "tables (sweetspot.tables). Pass a fit saved with `sweetspot fit ... --save FILE.json`."
        ) from None
    kwargs: dict[str, Any] = {"model": name_or_file}
    if gpu is not None:
        kwargs["gpu"] = gpu
    if family is not None:
        kwargs["family"] = family
    return tables.load_params(**kwargs)


def _describe(res: Any) -> str:
    models = ", ".join(res.models) or "unnamed data"
    mape = f", in-sample MAPE {res.mape:.2f} %" if math.isfinite(res.mape) else ""
    return f"{res.spec.label} fit of {models}{mape}"


# --------------------------------------------------------------------------- plan ---
def _cmd_plan(args: argparse.Namespace) -> int:
    from ._validation import as_lengths
    from .optimum import sweet_spot
    from .plan import (
        _budget,
        _largest_within,
        _Model,
        _positive_int,
        max_input_tokens,
        recommend_max_tokens,
    )
    from .plan import _fmt_j as _j

    res = resolve_params(args.params, family=args.family, gpu=args.gpu)
    n_in = as_lengths(args.n_in, "--n-in")
    if args.n_out is not None:
        _positive_int(args.n_out, "--n-out")
    rec = np.atleast_1d(
        recommend_max_tokens(res, n_in, n_min=args.n_min, n_max=args.n_max, slack=args.slack)
    )
    sp = sweet_spot(res, n_in, n_out_max=args.n_max)
    model = _Model(res)
    has_budget = args.budget_j is not None or args.max_j_per_token is not None
    records = []
    for i, ni in enumerate(n_in):
        n_out = float(args.n_out if args.n_out is not None else rec[i])
        e = float(model.energy(ni, n_out))
        r: dict[str, Any] = {
            "n_in": int(ni),
            "n_out_opt": float(sp.n_out[i]),
            "interior": bool(sp.interior[i]),
            "max_tokens": int(rec[i]),
            "n_out": int(n_out),
            "energy_j": e,
            "energy_per_token_j": e / n_out,
        }
        if has_budget:
            budget = float(_budget(np.asarray(n_out), args.budget_j, args.max_j_per_token))
            # the longest prompt may be unbounded for fits whose energy falls with n_in
            k, unbounded = _largest_within(
                model, np.array([n_out]), np.array([budget]), np.array([np.inf])
            )
            longest = None if unbounded[0] else int(k[0])
            keep = int(
                max_input_tokens(
                    res,
                    n_out,
                    budget_j=args.budget_j,
                    max_j_per_token=args.max_j_per_token,
                    n_in_max=ni,
                )
            )
            r.update(
                budget_j=budget,
                within_budget=e <= budget,
                max_input_tokens=longest,
                truncate_to=keep,
                energy_after_j=float(model.energy(keep, n_out)),
            )
        records.append(r)
    if args.json:
        _out(json.dumps(records if len(records) > 1 else records[0], indent=2))
        return 0
    _out(f"plan from the {_describe(res)}")
    for r in records:
        tag = "" if r["interior"] else " (boundary of [1, n_max])"
        _out(f"n_in = {r['n_in']} tokens")
        _out(f"  sweet spot n_out*        {r['n_out_opt']:.1f} tokens{tag}")
        extra = f" (slack {100 * args.slack:g} %)" if args.slack else ""
        _out(f"  recommended max_tokens   {r['max_tokens']}{extra}")
        _out(
            f"  energy at n_out = {r['n_out']:<6d} {_j(r['energy_j'])} per request, "
            f"{_j(r['energy_per_token_j'])}/token"
        )
        if has_budget:
            state = "within" if r["within_budget"] else "OVER"
            _out(f"  budget                   {_j(r['budget_j'])} per request: {state}")
            longest = r["max_input_tokens"]
            _out(
                f"  longest prompt in budget {longest} tokens"
                if longest is not None
                else "  longest prompt in budget unbounded (this fit's energy falls with n_in)"
            )
            if r["truncate_to"] < r["n_in"]:
                _out(
                    f"  truncate the prompt to   {r['truncate_to']} tokens "
                    f"({_j(r['energy_j'])} -> {_j(r['energy_after_j'])})"
                )
            else:
                _out("  prompt                   keep as is (within budget)")
    return 0


# ----------------------------------------------------------------------- workload ---
def read_workload(path: str) -> tuple[np.ndarray, np.ndarray, str]:
    """(n_in, n_out, label) from an Azure LLM trace or a CSV with columns n_in, n_out."""
    import pandas as pd

    from ._validation import as_lengths
    from .io import read_azure_trace

    file = Path(path)
    if not file.is_file():
        raise MeasurementError(
            f"trace file {path!r} not found; pass an Azure LLM inference trace CSV or a CSV "
            "with columns n_in, n_out."
        )
    with open(file, encoding="utf-8", errors="replace") as fh:
        header = fh.readline().casefold()
    if "contexttokens" in header:
        df = read_azure_trace(file)
    else:
        try:
            df = pd.read_csv(file)
        except (ValueError, OSError) as exc:
            raise MeasurementError(f"cannot read {path}: {exc}") from exc
        missing = [c for c in ("n_in", "n_out") if c not in df.columns]
        if missing:
            raise MeasurementError(
                f"{path} has no column(s) {', '.join(missing)} (found "
                f"{', '.join(map(str, df.columns[:10]))}). Expected an Azure trace "
                "(ContextTokens, GeneratedTokens) or a CSV with n_in and n_out."
            )
        if len(df) == 0:
            raise MeasurementError(f"{path} has no requests (0 data rows).")
        for col in ("n_in", "n_out"):
            values = pd.to_numeric(df[col], errors="coerce").to_numpy(dtype=float)
            bad = ~np.isfinite(values) | (values < 1) | (values != np.round(values))
            if bad.any():
                row = int(np.argmax(bad))
                raise MeasurementError(
                    f"{col} must be a whole number >= 1 in every row of {path}; got "
                    f"{df[col].iloc[row]!r} in row {row} ({int(bad.sum())} bad rows). Correct "
                    "or remove those rows."
                )
    n_in = as_lengths(df["n_in"].to_numpy(), "n_in")
    n_out = as_lengths(df["n_out"].to_numpy(), "n_out")
    return n_in, n_out, file.name


def _cmd_workload(args: argparse.Namespace) -> int:
    from .plan import _fmt_j as _j
    from .plan import plot_savings, policy_savings

    res = resolve_params(args.params, family=args.family, gpu=args.gpu)
    n_in, n_out, label = read_workload(args.trace)
    sav = policy_savings(
        res,
        n_in,
        n_out,
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
        _out(json.dumps(d, indent=2, allow_nan=False))
        return 0
    what = {
        "cap": "cap max_tokens at the sweet spot",
        "truncate": "truncate prompts to the budget",
        "both": "cap max_tokens at the sweet spot, then truncate prompts to the budget",
    }[args.policy]
    b, a = sav.before, sav.after
    _out(f"workload {label}: {b.n_requests} requests; {_describe(res)}")
    _out(f"policy: {what}")
    _out(f"{'':<28}{'before':>14}{'after':>14}{'change':>10}")

    def row(name: str, x: float, y: float, fmt: Any = _j) -> None:
        ch = f"{100 * (y - x) / x:+.1f} %" if x else ""
        _out(f"{name:<28}{fmt(x):>14}{fmt(y):>14}{ch:>10}")

    row("energy per request, mean", b.mean_j, a.mean_j)
    row("energy per request, p50", b.p50_j, a.p50_j)
    row("energy per request, p99", b.p99_j, a.p99_j)
    row("total energy", b.total_j, a.total_j)
    row("output tokens", b.n_out_total, a.n_out_total, lambda v: f"{v:,.0f}")
    row("prompt tokens", b.n_in_total, a.n_in_total, lambda v: f"{v:,.0f}")
    row("energy per output token", b.j_per_output_token, a.j_per_output_token, _j)
    n_changed = int(sav.changed.sum())
    _out(
        f"requests changed: {n_changed} of {b.n_requests} ({100 * sav.fraction_changed:.1f} %): "
        f"{int(sav.capped.sum())} outputs capped, {int(sav.truncated.sum())} prompts truncated"
    )
    if sav.over_budget.any():
        _out(
            f"still over budget: {int(sav.over_budget.sum())} requests (no prompt length fits "
            "at their output length; left as they are)"
        )
    _out(f"total saving: {_j(sav.saving_j)} ({100 * sav.saving_fraction:.1f} %)")
    if sav.capped.any():
        _out(
            f"note: capping shortens what users receive: {int(sav.capped.sum())} answers cut, "
            f"{100 * sav.output_tokens_removed_fraction:.1f} % of output tokens removed."
        )
    if args.plot:
        _out(f"figure: {args.plot}")
    return 0


# ----------------------------------------------------------------------- register ---
def _add_common(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--params",
        required=True,
        metavar="NAME_OR_FILE",
        help="a saved fit (FILE.json, or FILE.json#GROUP for a file saved with --group) or the "
        "model name of a published fit",
    )
    p.add_argument("--family", default=None, help="published fit: the model family to load")
    p.add_argument("--gpu", default=None, help="published fit: the GPU to load")
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


def register(subparsers: Any) -> None:
    """Add the ``plan`` and ``workload`` sub-commands."""
    p = subparsers.add_parser(
        "plan",
        help="recommend max_tokens for prompt lengths, and prompt limits for an energy budget",
    )
    _add_common(p)
    p.add_argument(
        "--n-in",
        type=_int_list,
        required=True,
        help="prompt length(s) [tokens], e.g. 1500 or 512,1500",
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
        choices=["cap", "truncate", "both"],
        help="cap: max_tokens at the sweet spot; truncate: prompts to the budget; both",
    )
    p.add_argument(
        "--plot", default=None, metavar="OUT.png", help="write the before/after figure here"
    )
    p.set_defaults(func=_cmd_workload)
