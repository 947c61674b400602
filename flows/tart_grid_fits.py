import sys

from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from flows.common import params, recorded, say
from tart.training.tart_grid import grid_state_dir, size_report_path, tart_grid_from_files


@task(cache_policy=NO_CACHE)
def tart_grid_size_task(p, n_train: int):
    grid = p.tart_grid.model_copy(update={"train_sizes": [n_train],
                                          "overrides": {n_train: p.tart_grid.overrides[n_train]}})  # fmt: skip
    return tart_grid_from_files(p.paths.tokens, p.paths.labels, p.train, p.evaluate.test_label, grid,
                                p.split.val_size, size_report_path(p.paths.reports, n_train), say,
                                grid_state_dir(p.paths.resume))  # fmt: skip


@flow(name="tart_grid_fits")
def tart_grid_fits_flow(n_train: int) -> None:
    p = params()
    g = p.tart_grid
    if n_train not in g.train_sizes:
        raise SystemExit(f"tart_grid_fits: size {n_train} is not in tart_grid.train_sizes {g.train_sizes}")
    recipe = g.recipe(p.train, n_train)
    what = (f"refit TART on the first {n_train} nets: {len(g.seeds)} seeds, {recipe.epochs} epochs, "
            f"teacher {recipe.teacher}")  # fmt: skip
    with recorded(f"tart_grid_fits@{n_train}", p, what) as run:
        report = tart_grid_size_task(p, n_train)
        run["result"] = f"{len(report['runs']):,} runs in {size_report_path(p.paths.reports, n_train)}"


def main(argv: list[str]) -> None:
    if len(argv) != 1 or not argv[0].isdigit():
        raise SystemExit("usage: python -m flows.tart_grid_fits N  (N: a size in tart_grid.train_sizes)")
    tart_grid_fits_flow(int(argv[0]))


if __name__ == "__main__":
    main(sys.argv[1:])
