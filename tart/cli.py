"""`tart` command line: fetch data, ask a checkpoint about a network, show what is installed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(help="TART: predict a network's trained accuracy from its architecture.", no_args_is_help=True)

PARAMS = typer.Option(help="params file (paths, mirror, files)")


def _params(path: Path):
    from tart.params import load_params

    return load_params(path)


@app.command()
def fetch(params: Annotated[Path, PARAMS] = Path("params.yaml")) -> None:
    """Copy (from the mirror) or download the shared files named in params, verifying sha256."""
    from tart.fetch import FetchError, fetch_all, resolve_mirror

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
    checkpoint: Annotated[Path | None, typer.Option(help="checkpoint (default: paths.model of params)")] = None,
    params: Annotated[Path, PARAMS] = Path("params.yaml"),
) -> None:
    """Predict the trained accuracy of a network with the pipeline's checkpoint."""
    from tart.predict import PredictError, load_factory, module_graph, nb201_graph, predict_graph
    from tart.spaces.nb201 import ArchStringError

    if (model is None) == (nb201 is None):
        raise typer.BadParameter("give either PATH.py:FACTORY or --nb201 'ARCH STRING'")
    checkpoint = checkpoint or _params(params).paths.model
    try:
        if nb201 is not None:
            graph = nb201_graph(nb201)
        else:
            shape = tuple(int(s) for s in input_shape.split(","))
            graph = module_graph(load_factory(model), shape)
        result = predict_graph(graph, checkpoint)
    except (PredictError, ArchStringError, FileNotFoundError) as exc:
        typer.secho(str(exc), fg="red", err=True)
        raise typer.Exit(1) from exc
    except ValueError as exc:  # int() on a malformed --input-shape
        raise typer.BadParameter(f"--input-shape {input_shape!r}: {exc}") from exc
    typer.echo(json.dumps(result, indent=2))


@app.command()
def info(params: Annotated[Path, PARAMS] = Path("params.yaml")) -> None:
    """Data, checkpoint and package versions."""
    p = _params(params)
    meta_path = p.paths.model.with_suffix(p.paths.model.suffix + ".json")
    checkpoint = json.loads(meta_path.read_text()) if meta_path.exists() else None
    from tart.provenance import PACKAGES, package_version

    report = {
        "raw_files": {f: (p.paths.raw / f).exists() for f in p.fetch.files},
        "checkpoint": str(p.paths.model) if checkpoint else None,
        "checkpoint_best_val_kendall_tau_b": checkpoint["best_val_kendall_tau_b"] if checkpoint else None,
        "versions": {name: package_version(name) for name in PACKAGES},
    }
    typer.echo(json.dumps(report, indent=2))
