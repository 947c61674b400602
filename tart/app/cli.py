"""`tart` command line: fetch data, train without the pipeline, ask a checkpoint about networks, show what is
installed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from tart.core import files

app = typer.Typer(help="TART: predict a network's trained accuracy from its architecture.", no_args_is_help=True)

WIDE_REPORT = 110  # terminal columns from which `report diff` prints one table row per metric
PARAMS = typer.Option(help="params file (default: $TART_PARAMS, else params.yaml in the working directory)")


def _params(path: Path | None):
    from tart.core.params import ParamsError, load_params

    try:
        return load_params(path)
    except ParamsError as exc:
        typer.secho(str(exc), fg="red", err=True)
        raise typer.Exit(2) from exc


EXECUTOR = typer.Option(help="local | dask: where the work fans out (default: the params' executor.kind when a "
                              "params file is found, else local)")  # fmt: skip
SCHEDULER = typer.Option(help="dask: the scheduler's address (default: the params' executor.scheduler; none: a "
                               "LocalCluster on this machine)")  # fmt: skip


def _executor(kind: str | None, scheduler: str | None, params: Path | None):
    """The executor the options or the params file choose (tart/core/parallel.py)."""
    from tart.core.parallel import ExecutorChoice
    from tart.core.params import params_path

    if kind is None and params_path(params).is_file():
        chosen = _params(params).executor
        kind, scheduler = chosen.kind, scheduler or chosen.scheduler
    if kind not in (None, "local", "dask"):
        typer.secho(f"--executor {kind!r}: expected local or dask", fg="red", err=True)
        raise typer.Exit(2)
    return ExecutorChoice(kind or ("dask" if scheduler else "local"), scheduler)


CHECKPOINT = typer.Option(help="checkpoint (default: the pipeline's paths.model inside a workspace, else the "
                                "checkpoint shipped with the package)")  # fmt: skip


def _checkpoint(given: Path | None, params: Path | None):
    """The checkpoint to use (tart/app/checkpoints.py), announced on stderr so stdout stays machine-readable."""
    from tart.app.checkpoints import CheckpointError, choose
    from tart.core.params import ParamsError

    try:
        chosen = choose(given, params)
    except (CheckpointError, ParamsError) as exc:
        typer.secho(str(exc), fg="red", err=True)
        raise typer.Exit(2) from exc
    typer.echo(f"using {chosen.describe()}", err=True)
    return chosen


@app.command()
def fetch(params: Annotated[Path | None, PARAMS] = None) -> None:
    """Copy (from the mirror) or download the shared files named in params, verifying sha256."""
    from tart.io.fetch import FetchError, fetch_all, resolve_mirror

    p = _params(params)
    try:
        paths = fetch_all(p.paths.manifest, p.fetch.files, p.paths.raw, resolve_mirror(p.fetch.mirror))
    except FetchError as exc:
        typer.secho(str(exc), fg="red", err=True)
        raise typer.Exit(1) from exc
    for path in paths:
        typer.echo(f"ok  {path}")


@app.command()
def predict(
    model: Annotated[str | None, typer.Argument(help="PATH.py:FACTORY returning a torch.nn.Module")] = None,
    input_shape: Annotated[str, typer.Option(help="input shape without batch, e.g. 3,32,32")] = "3,32,32",
    nb201: Annotated[str | None, typer.Option(help="an NB201 architecture string instead of a model file")] = None,
    checkpoint: Annotated[Path | None, CHECKPOINT] = None,
    params: Annotated[Path | None, PARAMS] = None,
) -> None:
    """Predict the trained accuracy of a network, and say how far it lies from the checkpoint's training nets."""
    from tart.app.predict import PredictError, load_factory, module_graph, nb201_graph, predict_graph
    from tart.app.screen import ScreenError
    from tart.spaces.nb201.network import ArchStringError

    if (model is None) == (nb201 is None):
        raise typer.BadParameter("give either PATH.py:FACTORY or --nb201 'ARCH STRING'")
    checkpoint = _checkpoint(checkpoint, params).path
    try:
        if nb201 is not None:
            graph = nb201_graph(nb201)
        else:
            shape = tuple(int(s) for s in input_shape.split(","))
            graph = module_graph(load_factory(model), shape)
        result = predict_graph(graph, checkpoint)
    except (PredictError, ScreenError, ArchStringError, FileNotFoundError) as exc:
        typer.secho(str(exc), fg="red", err=True)
        raise typer.Exit(1) from exc
    except ValueError as exc:  # int() on a malformed --input-shape
        raise typer.BadParameter(f"--input-shape {input_shape!r}: {exc}") from exc
    typer.echo(json.dumps(result, indent=2))
    distribution = result["distribution"]
    if distribution is None:
        typer.secho("note: this checkpoint has no training profile; how far the network lies from its training nets "
                    "is unknown (`dvc repro package` writes one)", fg="yellow", err=True)  # fmt: skip
    elif distribution["outside"]:
        typer.secho(f"warning: outside the checkpoint's training distribution: {distribution['why']}. The "
                    "prediction is an extrapolation.", fg="yellow", err=True)  # fmt: skip


@app.command()
def screen(
    candidates: Annotated[
        Path, typer.Argument(help="text file of NB201 strings (one per line), or a DeepNets-1M-format .hdf5 / .h5")
    ],
    out: Annotated[Path, typer.Argument(help="Parquet file to write: one row per candidate, with its rank")],
    meta: Annotated[Path | None, typer.Option(help="HDF5: its meta JSON (default: STEM_meta.json beside it)")] = None,
    split: Annotated[str | None, typer.Option(help="HDF5: the split to read (default: the file's only one)")] = None,
    shapes: Annotated[Path | None, typer.Option(help="HDF5: node-shapes Parquet (net, shapes) of the split")] = None,
    top: Annotated[int, typer.Option(help="print the best N")] = 10,
    workers: Annotated[int | None, typer.Option(help="processes converting NB201 strings (default: all cores)")] = None,
    executor: Annotated[str | None, EXECUTOR] = None,
    scheduler: Annotated[str | None, SCHEDULER] = None,
    checkpoint: Annotated[Path | None, CHECKPOINT] = None,
    params: Annotated[Path | None, PARAMS] = None,
) -> None:
    """Predict and rank many networks at once; flags those outside the checkpoint's training distribution."""
    import time

    from tart.app import screen as screening
    from tart.app.predict import PredictError
    from tart.core.parallel import LostWorkerError, executing
    from tart.io.deepnets1m import FormatError

    checkpoint = _checkpoint(checkpoint, params).path
    start = time.perf_counter()
    try:
        if candidates.suffix in (".hdf5", ".h5"):
            meta = meta or candidates.with_name(f"{candidates.stem}_meta.json")
            found = screening.deepnets_candidates(candidates, meta, split or screening.hdf5_split(candidates), shapes)
        else:
            with executing(_executor(executor, scheduler, params)):
                found = screening.nb201_candidates(screening.read_arch_file(candidates), workers)
        table, facts = screening.screen(found, checkpoint)
    except (screening.ScreenError, FormatError, PredictError, FileNotFoundError, LostWorkerError) as exc:
        typer.secho(str(exc), fg="red", err=True)
        raise typer.Exit(1) from exc
    screening.write_screen(table, out)
    seconds = time.perf_counter() - start
    best = table.sort_by("rank").slice(0, top).to_pylist()
    typer.echo(f"rank  predicted {facts['label']}  distance  source")
    for row in best:
        distance = "       -" if row["distance"] is None else f"{row['distance']:8.2f}"
        flag = "  (outside)" if row["outside"] else ""
        typer.echo(f"{row['rank']:>4}  {row['prediction']:>{len(facts['label']) + 10}.3f}  {distance}  "
                   f"{row['source']}{flag}")  # fmt: skip
    typer.echo(f"screened {table.num_rows:,} candidates in {seconds:.1f} s ({table.num_rows / seconds:,.0f} per "
               f"second) with {facts['checkpoint']}; wrote {out}")  # fmt: skip
    if not facts["profile"]:
        typer.secho("note: this checkpoint has no training profile; the distance columns are empty", fg="yellow",
                    err=True)  # fmt: skip
    elif facts["outside"]:
        typer.secho(f"warning: {facts['outside']:,} of {table.num_rows:,} candidates lie outside the checkpoint's "
                    "training distribution (column `outside`; `unseen_tokens` and `distance` say why)",
                    fg="yellow", err=True)  # fmt: skip


@app.command()
def train(
    out: Annotated[Path, typer.Argument(help="new directory for the checkpoint, curves, predictions and metrics")],
    setting: Annotated[
        list[str] | None,
        typer.Option("--set", help="a `train` setting KEY=VALUE, e.g. device=cuda (repeatable; VALUE is YAML)"),
    ] = None,  # fmt: skip
    params: Annotated[Path | None, PARAMS] = None,
) -> None:
    """Train the `train` recipe and score it like the `evaluate` stage, without Prefect or DVC (e.g. on a GPU
    machine); the pipeline's own outputs stay untouched. Several processes: `torchrun --nproc-per-node N -m tart
    train OUT` (DDP; rank 0 writes)."""
    from tart.app.train_run import RunError, train_and_evaluate, with_settings

    p = _params(params)
    try:
        result = train_and_evaluate(p, with_settings(p.train, setting or []), out, typer.echo)
    except RunError as exc:
        typer.secho(str(exc), fg="red", err=True)
        raise typer.Exit(1) from exc
    if result is None:  # a torchrun rank other than 0: rank 0 reports
        return
    run, metrics = result["run"], result["metrics"]
    every, rest = metrics["test_all"], metrics["test_remainder"]
    typer.echo(f"trained on {run['device']} in {run['train_seconds']:.0f} s; best validation tau-b "
               f"{run['best_val_kendall_tau_b']:.4f} at epoch {run['best_epoch']}")  # fmt: skip
    typer.echo(f"Kendall tau-b against {metrics['test_label']}: {every['kendall_tau_b']:.4f} over all {every['n']:,} "
               f"nets, {rest['kendall_tau_b']:.4f} over the {rest['n']:,} not trained on; Spearman rho "
               f"{every['spearman_rho']:.4f}; wrote {out}")  # fmt: skip


@app.command()
def info(
    checkpoint: Annotated[Path | None, CHECKPOINT] = None,
    params: Annotated[Path | None, PARAMS] = None,
) -> None:
    """The checkpoint predict and screen would use (what it was trained on, its scores), the data files of the
    workspace when inside one, and package versions."""
    from tart.core.params import params_path
    from tart.core.provenance import PACKAGES, package_version
    from tart.training.checkpoint import read_card

    chosen = _checkpoint(checkpoint, params)
    card = read_card(chosen.path)
    report = {
        "checkpoint": str(chosen.path),
        "checkpoint_source": chosen.source,
        "trained_on": card.get("training"),
        "label": card["params"]["target"],
        "best_val_kendall_tau_b": card["best_val_kendall_tau_b"],
        "scores": card.get("scores"),
        "code_commit": card.get("code_commit"),
        "vocab_hash": card["vocab_hash"],
    }
    if chosen.source == "pipeline" or params_path(params).is_file():
        p = _params(params)
        report["raw_files"] = {f: (p.paths.raw / f).exists() for f in p.fetch.files}
    report["versions"] = {name: package_version(name) for name in PACKAGES}
    typer.echo(json.dumps(report, indent=2))


@app.command()
def generate(
    out: Annotated[Path, typer.Argument(help="directory for the shards (created; an earlier run there resumes)")],
    count: Annotated[int, typer.Option(help="number of nets")] = 1000,
    split: Annotated[str, typer.Option(help="split (HDF5 group) name, e.g. train / val / test")] = "train",
    variant: Annotated[str | None, typer.Option(help="default | wide | deep | dense | bnfree")] = None,
    seed: Annotated[int | None, typer.Option(help="random stream (default: params generate.seed)")] = None,
    workers: Annotated[int | None, typer.Option(help="processes (default: params, else one per core)")] = None,
    shard_size: Annotated[int | None, typer.Option(help="nets per shard file")] = None,
    merge: Annotated[bool, typer.Option(help="also write one deepnets1m_SPLIT.hdf5 + meta from the shards")] = False,
    delete_shards: Annotated[bool, typer.Option(help="with --merge: delete each shard once merged (one copy on disk; "
                                                 "rerun to regenerate them if the merge fails)")] = False,
    graphs: Annotated[Path | None, typer.Option(help="also extract the shards, as one split and without merging "
                                                "them, into graph Parquet shards in this directory")] = None,
    tokens: Annotated[Path | None, typer.Option(help="with --graphs: also tokenize those into this directory")] = None,
    executor: Annotated[str | None, EXECUTOR] = None,
    scheduler: Annotated[str | None, SCHEDULER] = None,
    params: Annotated[Path | None, PARAMS] = None,
) -> None:
    """Generate DeepNets-1M-style nets into shards in the published layout (seeded, resumable, parallel);
    optionally extract and tokenize them on the same executor."""
    from tart.core.parallel import LostWorkerError, executing
    from tart.io.deepnets1m import FormatError
    from tart.io.extract import extract_files
    from tart.spaces.darts.generate import GeneratorConfigError, merge_shards, shard_paths
    from tart.spaces.darts.generate import generate as run_generator
    from tart.tokens.tokenize import tokenize

    g = _params(params).generate
    if delete_shards and not merge:
        typer.secho("--delete-shards deletes shards as --merge copies them: add --merge", fg="red", err=True)
        raise typer.Exit(2)
    if tokens is not None and graphs is None:
        typer.secho("--tokens tokenizes the graphs --graphs extracts: add --graphs DIR", fg="red", err=True)
        raise typer.Exit(2)
    try:
        with executing(_executor(executor, scheduler, params)):
            summary = run_generator(out, split, count, seed=g.seed if seed is None else seed,
                                    variant=variant or g.variant, shard_size=shard_size or g.shard_size,
                                    workers=workers or g.workers)  # fmt: skip
            if graphs is not None:  # before a merge that may delete the shards
                extract_files(shard_paths(out, split), split, graphs, "report", workers or g.workers)
                if tokens is not None:
                    tokenize(graphs, tokens, workers or g.workers)
            if merge:
                merge_shards(out, split, out / f"deepnets1m_{split}.hdf5", out / f"deepnets1m_{split}_meta.json",
                             delete_shards)  # fmt: skip
    except (GeneratorConfigError, FormatError, LostWorkerError) as exc:
        typer.secho(str(exc), fg="red", err=True)
        raise typer.Exit(1) from exc
    typer.echo(json.dumps(summary, indent=2))


@app.command()
def properties(
    h5: Annotated[Path, typer.Argument(help="DeepNets-1M-format HDF5 of DARTS-style nets")],
    meta: Annotated[Path, typer.Argument(help="its meta JSON (the net_args records are rebuilt)")],
    out: Annotated[Path, typer.Argument(help="Parquet file to write: net, params, flops, latency_ms")],
    split: Annotated[str, typer.Option(help="split name")] = "train",
    limit: Annotated[int | None, typer.Option(help="only the first N nets")] = None,
    latency: Annotated[bool, typer.Option(help="also time inference (protocol: params properties.latency)")] = True,
    params: Annotated[Path | None, PARAMS] = None,
) -> None:
    """Measure parameters, FLOPs and latency of the nets of a file, as labels."""
    from tart.io.deepnets1m import DeepNetsFile, FormatError
    from tart.spaces.darts.network import NetArgsError
    from tart.spaces.darts.properties import PROPERTIES, LatencyProtocol, measure

    protocol = LatencyProtocol(**_params(params).properties.latency.model_dump()) if latency else None
    try:
        with DeepNetsFile(h5, meta, split) as f:
            nets = f.nets[:limit] if limit else f.nets
        table = measure(enumerate(nets), protocol)
    except (FormatError, NetArgsError, RuntimeError) as exc:
        typer.secho(str(exc), fg="red", err=True)
        raise typer.Exit(1) from exc
    files.write_table(table, out, PROPERTIES)
    typer.echo(f"wrote {out} ({table.num_rows} nets)")


@app.command()
def restore() -> None:
    """Bring back the last committed results after an interrupted or killed stage (run in the repository)."""
    from tart.ops.restore import restore as restore_workspace
    from tart.ops.revisions import RevisionError

    try:
        done = restore_workspace()
    except RevisionError as exc:
        typer.secho(str(exc), fg="red", err=True)
        raise typer.Exit(1) from exc
    for path in done["from_git"]:
        typer.echo(f"restored from git: {path}")
    for line in done["from_dvc_cache"]:
        typer.echo(f"dvc checkout: {line}")
    for path in done["removed"]:
        typer.echo(f"removed {path}: unreadable, left by a killed DVC command (DVC refuses every command over it)")
    if not any(done.values()):
        typer.echo("nothing to restore: the workspace holds its committed results")


report_app = typer.Typer(help="Compare results across commits.", no_args_is_help=True)
app.add_typer(report_app, name="report")


@report_app.command("diff")
def report_diff(
    rev_a: Annotated[str, typer.Argument(help="baseline git revision")] = "HEAD",
    rev_b: Annotated[str, typer.Argument(help="revision to compare; 'workspace' = the working tree")] = "workspace",
    output: Annotated[str, typer.Option("--format", help="table | markdown | json")] = "table",
    fail_on_worse: Annotated[bool, typer.Option(help="exit 2 when the primary metric got worse beyond noise")] = False,
    params: Annotated[Path | None, PARAMS] = None,
) -> None:
    """Metric changes between two revisions, judged against the bootstrap intervals."""
    from tart.ops.compare import VERDICT_TEXT, compare, markdown, overall, rows, stacked
    from tart.ops.revisions import RevisionError, read_metrics

    if output not in ("table", "markdown", "json"):
        raise typer.BadParameter(f"--format {output!r}: expected table, markdown or json")
    p = _params(params)
    metrics = p.paths.reports / "metrics.json"
    try:
        changes = compare(read_metrics(metrics, rev_a), read_metrics(metrics, rev_b))
    except RevisionError as exc:
        typer.secho(str(exc), fg="red", err=True)
        raise typer.Exit(1) from exc
    primary = p.retrain.primary_metric
    verdict = overall(changes, primary)
    if output == "markdown":
        typer.echo(markdown(changes, rev_a, rev_b, primary))
    elif output == "json":
        payload = [{**vars(c), "delta": c.delta} for c in changes]
        typer.echo(json.dumps({"verdict": verdict, "primary_metric": primary, "changes": payload}, indent=2))
    else:
        from rich.console import Console
        from rich.table import Table

        console = Console()
        if console.width >= WIDE_REPORT:
            table = Table(title=f"{metrics}: {rev_a} -> {rev_b}")
            for column in ("metric", rev_a, rev_b, "delta", "verdict"):
                table.add_column(column, justify="left" if column in ("metric", "verdict") else "right")
            for row in rows(changes, between="\n"):
                table.add_row(*row)
            console.print(table)
        else:  # one metric per two lines: names and values stay whole on a narrow terminal
            console.print(f"{metrics}: {rev_a} -> {rev_b}", highlight=False)
            console.print(stacked(changes, rev_a, rev_b), highlight=False, end="")
        console.print(f"verdict ({primary}): [bold]{VERDICT_TEXT[verdict]}[/bold]")
    if fail_on_worse and verdict == "worse":
        raise typer.Exit(2)


@report_app.command("plots")
def report_plots(
    revs: Annotated[list[str] | None, typer.Argument(help="revisions (default: HEAD vs the working tree)")] = None,
    out: Annotated[Path, typer.Option(help="directory for index.html and its images")] = Path("reports/plots_diff"),
) -> None:
    """`dvc plots diff` as a self-contained page (SVG and images, no scripts): it renders offline."""
    from tart.ops.revisions import RevisionError, plots_diff

    try:
        page = plots_diff(list(revs or []), out)
    except RevisionError as exc:
        typer.secho(str(exc), fg="red", err=True)
        raise typer.Exit(1) from exc
    typer.echo(f"wrote {page}")
