from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from flows.common import params, recorded
from tart.training.tart_grid import merge_size_reports, size_report_path


@task(cache_policy=NO_CACHE)
def tart_grid_task(p):
    sizes = [size_report_path(p.paths.reports, n) for n in p.tart_grid.train_sizes]
    return merge_size_reports(sizes, p.paths.reports / "tart_grid.json")


@flow(name="tart_grid")
def tart_grid_flow() -> None:
    p = params()
    what = f"merge the TART grid's size reports ({', '.join(map(str, p.tart_grid.train_sizes))} nets)"
    with recorded("tart_grid", p, what) as run:
        report = tart_grid_task(p)
        run["result"] = f"{len(report['runs']):,} runs in {p.paths.reports / 'tart_grid.json'}"


if __name__ == "__main__":
    tart_grid_flow()
