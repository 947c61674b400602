from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from flows.common import params, recorded, say
from tart.baselines.proxies import proxies_from_files
from tart.core.parallel import executing


@task(cache_policy=NO_CACHE)
def proxies_task(p):
    out = p.paths.reports / "proxies.json"
    return proxies_from_files(p.paths.labels, p.evaluate.test_label, p.proxies, p.proxies.scores, out,
                              say)  # fmt: skip


@flow(name="proxies")
def proxies_flow() -> None:
    p = params()
    what = f"score zero-cost proxies of a seeded sample of {p.proxies.sample or 'all'} NB201 nets"
    with recorded("proxies", p, what) as run, executing(p.executor):
        report = proxies_task(p)
        run["result"] = (f"{report['n_scored']:,} nets scored by {len(report['proxies'])} proxies in "
                         f"{p.paths.reports / 'proxies.json'}")  # fmt: skip


if __name__ == "__main__":
    proxies_flow()
