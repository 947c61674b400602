from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from flows.common import params, recorded
from tart.baselines.proxies import proxies_from_files


@task(cache_policy=NO_CACHE)
def proxies_task(p):
    out = p.paths.reports / "proxies.json"
    return proxies_from_files(p.paths.labels, p.evaluate.test_label, p.proxies, p.proxies.scores, out,
                              get_run_logger().info)  # fmt: skip


@flow(name="proxies")
def proxies_flow() -> None:
    p = params()
    with recorded("proxies", p):
        proxies_task(p)


if __name__ == "__main__":
    proxies_flow()
