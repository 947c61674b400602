from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from flows.common import params, recorded
from tart.spaces.nb201.build import BuildOutputs, build_nb201


@task(cache_policy=NO_CACHE)
def build_task(raw, out, split, limit, workers, chunk):
    return build_nb201(raw, out, split, limit, workers, chunk)


@flow(name="build")
def build_flow() -> None:
    p = params()
    with recorded("build", p, workers=p.build.workers):
        paths = BuildOutputs(p.paths.nb201_h5, p.paths.nb201_meta, p.paths.labels, p.paths.node_shapes)
        out = build_task(p.paths.raw, paths, p.build.split, p.build.limit, p.build.workers, p.build.chunk)
    get_run_logger().info("wrote %s", out)


if __name__ == "__main__":
    build_flow()
