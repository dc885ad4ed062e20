"""Sub-commands ``evaluate``, ``tables`` and ``report`` of the ``sweetspot`` command."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from ._args import FORMAT_CHOICES, LOSS_CHOICES, N_IN_DEFAULT, flags_named, int_list
from ._plan import gpu_line, serving_model_from, serving_options

__all__ = ["register"]


def _progress_factory(total: int, description: str) -> Any:
    """A rich progress bar on stderr when it is a terminal; a no-op otherwise."""
    if not sys.stderr.isatty():
        return None, None
    from rich.progress import Progress

    prog = Progress(transient=True)
    task = prog.add_task(description, total=total)
    prog.start()

    def step(text: str) -> None:
        prog.update(task, advance=1, description=f"{description}: {text}")

    return prog, step


def _evaluate_surfaces(args: argparse.Namespace) -> int:
    """``evaluate --paper-surfaces DIR``: the serving families on the paper's 13 surfaces."""
    import pandas as pd

    from ..evaluate import (
        BEST_SERVING_FAMILY,
        evaluate_serving,
        paper_surfaces,
        paper_thetas,
        serving_families,
        serving_sweet_spots,
    )

    data = paper_surfaces(args.paper_surfaces)
    families = serving_families()
    table = evaluate_serving(data, families=families, loss=args.loss)
    spots = serving_sweet_spots(data, paper_thetas(args.paper_surfaces), loss=args.loss)
    if args.json:
        print(
            json.dumps(
                {
                    "mape": json.loads(table.to_json(orient="records")),
                    "sweet_spots": json.loads(spots.to_json(orient="records")),
                },
                indent=1,
            )
        )
        return 0

    def two(v: float) -> str:
        return f"{v:.2f}"

    print(
        "Serving physics on the SweetSpot paper's 13 H100 surfaces (each LLM's energy per "
        "request on the 7x7 grid, from its Table 5 coefficients; batch sizes from the "
        "concurrency rule): MAPE [%] of one pooled fit (in-sample) and leave-one-model-out "
        "(lomo: each LLM predicted from the other 12 and its architecture)"
    )
    summ = table.groupby("family", sort=False).agg(
        mape_mean=("mape", "mean"),
        mape_max=("mape", "max"),
        lomo_mean=("lomo_mape", "mean"),
        lomo_max=("lomo_mape", "max"),
    )
    summ.insert(
        0, "label", [next(f.spec.label for f in families if f.name == n) for n in summ.index]
    )
    with pd.option_context("display.width", 250, "display.max_colwidth", 100):
        print(summ.reset_index().to_string(index=False, float_format=two))
        print()
        best = table[table["family"] == BEST_SERVING_FAMILY].set_index("model")
        ratio = spots.pivot(index="model", columns="n_in", values="ratio")
        per = pd.DataFrame(
            {
                "in-sample": best["mape"],
                "lomo": best["lomo_mape"],
                "lomo max APE": best["lomo_max_ape"],
            }
        )
        for n in ratio.columns:
            per[f"n_out* ratio @{n}"] = ratio[n]
        per = per.loc[list(best.index)]
        print(
            f"Per LLM, family {BEST_SERVING_FAMILY!r} (n_out* ratio: leave-one-model-out "
            "sweet spot / the LLM's own Table 5 closed form)"
        )
        shown = per.reset_index().rename(columns={"index": "model"})
        print(shown.to_string(index=False, float_format=two))
    return 0


@flags_named
def _cmd_evaluate(args: argparse.Namespace) -> int:
    import pandas as pd

    from ..evaluate import evaluate, paper_comparison, summarise
    from ..exceptions import SpecError
    from ..io import read_measurements

    if (args.data is None) == (args.paper_surfaces is None):
        raise SpecError(
            "give the measurements to evaluate (DATA), or --paper-surfaces DIR for the "
            "serving physics on the SweetSpot paper's 13 surfaces (not both)."
        )
    if args.paper_surfaces is not None:
        return _evaluate_surfaces(args)
    data = read_measurements(args.data, format=args.format)
    n_groups = data.groupby([c for c in ("model", "n_gpus") if c in data.columns]).ngroups
    prog, step = _progress_factory(n_groups + 2, "evaluating")
    try:
        table = evaluate(data, k=args.k, seed=args.seed, loss=args.loss, progress=step)
    finally:
        if prog is not None:
            prog.stop()
    if args.json:
        recs = json.loads(table.to_json(orient="records"))
        print(json.dumps(recs, indent=1))
        return 0
    cols = [
        "model",
        "n_gpus",
        "family",
        "mape",
        "max_ape",
        "cv_mape",
        "lopo_mape",
        "lono_mape",
        "lomo_mape",
    ]
    shown = table[cols].copy()
    for c in cols[3:]:
        shown[c] = pd.to_numeric(shown[c], errors="coerce")
    with pd.option_context("display.width", 200, "display.max_rows", 500):
        print(
            f"MAPE [%] per group and family ({args.k}-fold CV seed {args.seed}; lopo = leave "
            "one prompt out, lono = leave one n_out level out, lomo = leave one model out, "
            "pooled physical fit)"
        )
        print(shown.to_string(index=False, float_format=lambda v: f"{v:.2f}", na_rep="-"))
        print()
        print("Summary over groups, best cross-validated family first:")
        summ = summarise(table).drop(columns=["label"])
        print(summ.to_string(index=False, float_format=lambda v: f"{v:.2f}", na_rep="-"))
        for column, what in (("mape", "in-sample"), ("cv_mape", f"{args.k}-fold CV")):
            print()
            print(
                f"The SweetSpot paper's Table 3 on these data: {what} MAPE [%] of its baselines "
                "and models (Average and Std over the LLMs)"
            )
            comp = paper_comparison(table, column=column)
            print(comp.to_string(float_format=lambda v: f"{v:.2f}", na_rep="-"))
    notes = table[table["note"].notna()]
    for _, r in notes.iterrows():
        print(f"note: {r['model']} / {r['family']}: {r['note']}", file=sys.stderr)
    return 0


def _busy(text: str) -> Any:
    """A rich spinner on stderr while a long step runs, when stderr is a terminal."""
    if not sys.stderr.isatty():
        import contextlib

        return contextlib.nullcontext()
    from rich.console import Console

    return Console(stderr=True).status(text)


def _cmd_tables_build(args: argparse.Namespace) -> int:
    from ..tables import build_tables, write_tables

    with _busy("building the tables: every family on every source (a few seconds)"):
        table = build_tables(args.data, k=args.k, seed=args.seed)
    for p in write_tables(table, args.out):
        print(f"wrote {p}")
    print(f"{len(table['fits'])} fits, {len(table['pooled'])} pooled fits")
    return 0


def _cmd_tables_list(args: argparse.Namespace) -> int:
    import pandas as pd

    from ..tables import list_params

    frame = list_params(args.table)
    if args.json:
        print(frame.to_json(orient="records", indent=1))
        return 0
    with pd.option_context("display.width", 200, "display.max_rows", 500):
        print(
            frame.drop(columns=["label", "source"]).to_string(
                index=False, float_format=lambda v: f"{v:.2f}", na_rep="-"
            )
        )
    return 0


def _report_fits(args: argparse.Namespace) -> dict[str, Any]:
    from ..result import FitResult
    from ..tables import find_fits, read_table

    table = read_table(args.table)
    fits: dict[str, Any] = {}
    for f in find_fits(table, args.model, gpu=args.gpu, family=args.family):
        label = f"{f['model']} ({f['n_gpus']}x {f['gpu']}, {f['family']})"
        fits[label] = (f, FitResult.from_dict(f["fit"]))
    return fits


def _report_arch(args: argparse.Namespace) -> int:
    """``report --arch``: sweet spots of an architecture of no table, from the pooled
    serving constants."""
    from ..exceptions import NoOptimumError
    from ..optimum import sweet_spot
    from ..tables import SERVING_SOURCE, read_table

    bound = serving_model_from(args)
    info = read_table(args.table)["sources"].get(SERVING_SOURCE, {})
    print(f"#### {info.get('title', SERVING_SOURCE)}")
    print(f"#### conditions: {info.get('conditions', '-')}")
    print()
    fit = bound.fit
    print(f"== {bound.architecture.name} (predicted: no measurement of it)")
    print(
        f"   model: {fit.spec.label}; pooled on {len(fit.models)} LLMs, leave-one-model-out "
        f"MAPE {fit.meta.get('lomo_mape_mean', float('nan')):.2f} % mean, "
        f"{fit.meta.get('lomo_mape_max', float('nan')):.2f} % worst LLM; fitted n_in "
        f"{fit.n_in_range[0]:g}..{fit.n_in_range[1]:g}, n_out "
        f"{fit.n_out_range[0]:g}..{fit.n_out_range[1]:g}"
    )
    print(f"   {gpu_line(bound)}")
    print(
        f"   {'n_in':>6} {'n_out*':>9} {'J/token':>10} {'tokens/J':>9} "
        f"{'E(n_in, n_out*) J':>18} {'batch':>6}"
    )
    top = args.n_out_max
    if bound.serving.max_seq_len:
        top = min(top, float(bound.serving.max_seq_len))
    for n in args.n_in:
        try:
            sp = sweet_spot(bound, float(n), n_out_max=max(top - n, 1.0), warn=False)
        except NoOptimumError as exc:
            print(f"   {n:>6} no interior optimum: {exc}")
            continue
        no = float(sp.n_out)
        e = float(sp.energy_per_token_j)
        tags = []
        if not bool(sp.interior):
            tags.append("boundary")
        if bool(sp.extrapolated):
            tags.append("extrapolated")
        tag = "".join(f"  ({t})" for t in tags)
        b = float(bound.batch_sizes(float(n), no))
        print(f"   {n:>6} {no:>9.0f} {e:>10.4g} {1 / e:>9.4g} {e * no:>18.5g} {b:>6.0f}{tag}")
    if args.plots:
        from pathlib import Path

        from matplotlib.figure import Figure

        from ..plot import efficiency_heatmap, efficiency_vs_n_out

        out = Path(args.plots)
        out.mkdir(parents=True, exist_ok=True)
        slug = "".join(c if c.isalnum() or c in "-." else "-" for c in bound.architecture.name)
        for name, draw in (("heatmap", efficiency_heatmap), ("efficiency", efficiency_vs_n_out)):
            fig = Figure(figsize=(6.8, 5.2), layout="constrained")
            draw(bound, ax=fig.add_subplot())
            path = out / f"{slug}-serving-{name}.png"
            fig.savefig(path, dpi=130)
            print(f"wrote {path}")
    return 0


@flags_named
def _cmd_report(args: argparse.Namespace) -> int:
    from ..exceptions import NoOptimumError, TableError
    from ..optimum import sweet_spot
    from ..tables import read_table

    if args.arch is not None:
        return _report_arch(args)
    fits = _report_fits(args)
    if not fits:
        raise TableError(
            f"no published fit matches model={args.model!r}, gpu={args.gpu!r}, "
            f"family={args.family!r}; see `sweetspot tables list`."
        )
    sources = read_table(args.table)["sources"]
    n_in = args.n_in
    current = None
    for label, (entry, res) in fits.items():
        if entry["source"] != current:
            current = entry["source"]
            info = sources.get(current, {})
            print(f"#### {info.get('title', current)}")
            if info.get("reported"):
                print("#### coefficients as reported by the paper (not refitted by sweetspot)")
            print(f"#### conditions: {info.get('conditions', '-')}")
            print()
        print(f"== {label}")
        cv = entry.get("cv_mape")
        cv_text = f"{cv:.2f} % cross-validated" if cv is not None else "CV not published"
        print(
            f"   model: {res.spec.label}; in-sample MAPE {res.mape:.2f} %, {cv_text}; fitted "
            f"n_in {res.n_in_range[0]:g}..{res.n_in_range[1]:g}, n_out "
            f"{res.n_out_range[0]:g}..{res.n_out_range[1]:g}"
        )
        print(
            f"   {'n_in':>6} {'n_out*':>9} {'J/token':>10} {'tokens/J':>9} "
            f"{'E(n_in, n_out*) J':>18}"
        )
        why = res.non_physical() if not res.is_pooled else None
        if why:
            print(f"   NON-PHYSICAL: {why}; its energies are not printed")
        try:  # one vectorised search for all input lengths
            spots = sweet_spot(res, [float(n) for n in n_in], n_out_max=args.n_out_max, warn=False)
        except NoOptimumError as exc:
            print(f"   no interior optimum: {exc}")
            continue
        for i, n in enumerate(n_in):
            no = float(spots.n_out[i])
            e = float(spots.energy_per_token_j[i])
            tags = []
            if not bool(spots.interior[i]):
                tags.append("boundary")
            if not res.n_in_range[0] <= n <= res.n_in_range[1]:
                tags.append("extrapolated")
            elif bool(spots.extrapolated[i]):
                tags.append("extrapolated: n_out* outside the fitted n_out")
            tag = "".join(f"  ({t})" for t in tags)
            if why or not e > 0:
                print(f"   {n:>6} {no:>9.0f} {'non-physical':>10} {'-':>9} {'-':>18}{tag}")
                continue
            print(f"   {n:>6} {no:>9.0f} {e:>10.4g} {1 / e:>9.4g} {e * no:>18.5g}{tag}")
        paper = entry.get("paper_sweet_spot")
        if paper:
            print(
                f"   paper: measured best grid point (n_in, n_out) = ({paper['measured_n_in']}, "
                f"{paper['measured_n_out']}); closed-form n_out* at n_in = 64: "
                f"{paper['estimated_n_out_at_64']}"
            )
        print()
    if args.plots:
        from ..plot import save_overview_figures, save_report_figures

        with _busy(f"writing the figures of {len(fits)} fits to {args.plots}"):
            written = save_report_figures({k: r for k, (_, r) in fits.items()}, args.plots)
        by_source: dict[str, dict[str, Any]] = {}
        for entry, res in fits.values():
            if entry.get("size_family") and res.theta is not None:
                by_source.setdefault(entry["source"], {})[entry["model"]] = (entry, res)
        for source, members in by_source.items():
            if len(members) > 1:  # the paper's Figures 2 and 3 over the source's LLMs
                written += save_overview_figures(
                    {m: r for m, (_, r) in members.items()},
                    {m: e["size_family"] for m, (e, _) in members.items()},
                    args.plots,
                    prefix=source,
                )
        for p in written:
            print(f"wrote {p}")
    return 0


def register(subparsers: Any) -> None:
    """Add ``evaluate``, ``tables`` and ``report`` to the ``sweetspot`` command."""
    p = subparsers.add_parser(
        "evaluate",
        help="MAPE of every model family per group: in-sample, k-fold CV, grouped, pooled LOMO",
    )
    p.add_argument(
        "data", nargs="?", default=None, help="measurements (CSV, Parquet, store, or a Wilkins CSV)"
    )
    p.add_argument(
        "--paper-surfaces",
        default=None,
        metavar="DIR",
        help="instead of DATA: the serving physics on the SweetSpot paper's 13 H100 surfaces "
        "(the folder of table5_theta.csv, e.g. ../shared/data/sweetspot-paper-h100): pooled "
        "in-sample and leave-one-model-out MAPE per LLM, and the n_out* it predicts",
    )
    p.add_argument("--format", default="auto", choices=list(FORMAT_CHOICES))
    p.add_argument("--k", type=int, default=5, help="folds of the random CV (default 5)")
    p.add_argument("--seed", type=int, default=0, help="seed of the CV shuffle (default 0)")
    p.add_argument("--loss", default="relative", choices=list(LOSS_CHOICES))
    p.add_argument("--json", action="store_true", help="print a list of JSON records")
    p.set_defaults(func=_cmd_evaluate)

    p = subparsers.add_parser("tables", help="build or list the published fitted-parameter tables")
    tsub = p.add_subparsers(dest="tables_command", metavar="ACTION", required=True)
    b = tsub.add_parser("build", help="rebuild the tables from the shared measurement data")
    b.add_argument("--data", required=True, help="the shared data folder, e.g. ../shared/data")
    b.add_argument("--out", default=None, help="output folder (default: the package's data/)")
    b.add_argument("--k", type=int, default=5)
    b.add_argument("--seed", type=int, default=0)
    b.set_defaults(func=_cmd_tables_build)
    ls = tsub.add_parser("list", help="list the published fits")
    ls.add_argument("--table", default=None, help="a table file other than the shipped one")
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(func=_cmd_tables_list)

    p = subparsers.add_parser(
        "report",
        help="sweet spots and efficiency of the published fits (works offline, no data needed)",
    )
    p.add_argument(
        "--model",
        default=None,
        help="only this LLM (an architecture name such as llama-3.1-8b, or part of a model name)",
    )
    p.add_argument("--gpu", default=None, help="only fits on this GPU (prefix, e.g. h100, a100)")
    p.add_argument("--family", default=None, help="model family (default: the recommended one)")
    p.add_argument("--n-in", type=int_list, default=list(N_IN_DEFAULT))
    p.add_argument(
        "--n-out-max",
        type=float,
        default=65536.0,
        help="largest n_out considered [tokens] (default 65536)",
    )
    p.add_argument("--plots", default=None, metavar="DIR", help="also write figures (PNG) here")
    p.add_argument("--table", default=None, help="a table file other than the shipped one")
    serving_options(p)
    p.set_defaults(func=_cmd_report)
