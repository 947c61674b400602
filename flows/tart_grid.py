from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from flows.common import params, recorded, say
from tart.training.tart_grid import grid_state_dir, tart_grid_from_files


@task(cache_policy=NO_CACHE)
def tart_grid_task(p):
    out = p.paths.reports / "tart_grid.json"
    return tart_grid_from_files(p.paths.tokens, p.paths.labels, p.train, p.evaluate.test_label, p.tart_grid,
                                p.split.val_size, out, say, grid_state_dir(p.paths.resume))  # fmt: skip


@flow(name="tart_grid")
def tart_grid_flow() -> None:
    p = params()
    g = p.tart_grid
    recipes = {n: g.recipe(p.train, n) for n in g.train_sizes}
    described = ", ".join(f"{n} nets: {r.epochs} epochs, teacher {r.teacher}" for n, r in recipes.items())
    what = f"refit TART: {len(g.train_sizes)} sizes x {len(g.seeds)} seeds ({described})"
    with recorded("tart_grid", p, what) as run:
        report = tart_grid_task(p)
        run["result"] = f"{len(report['runs']):,} runs in {p.paths.reports / 'tart_grid.json'}"


if __name__ == "__main__":
    tart_grid_flow()
