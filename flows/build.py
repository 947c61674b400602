from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from flows.common import params, recorded
from tart.build import build_nb201


@task(cache_policy=NO_CACHE)
def build_task(raw, out, limit, workers, chunk):
    return build_nb201(raw, out, limit, workers, chunk)


@flow(name="build")
def build_flow() -> None:
    p = params()
    with recorded("build", p, workers=p.build.workers):
        out = build_task(p.paths.raw, p.paths.build, p.build.limit, p.build.workers, p.build.chunk)
    get_run_logger().info("wrote %s", out)


if __name__ == "__main__":
    build_flow()
