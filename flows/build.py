from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from flows.common import params, recorded
from tart.core.parallel import executing
from tart.spaces.nb201.build import BuildOutputs, build_nb201


@task(cache_policy=NO_CACHE)
def build_task(raw, out, split, limit, workers, chunk):
    return build_nb201(raw, out, split, limit, workers, chunk)


@flow(name="build")
def build_flow() -> None:
    p = params()
    count = "all 15,625" if p.build.limit is None else f"the first {p.build.limit:,}"
    what = f"build {count} NB201 networks into the DeepNets-1M layout on {p.build.workers} workers"
    with recorded("build", p, what, workers=p.build.workers) as run, executing(p.executor):
        paths = BuildOutputs(p.paths.nb201_h5, p.paths.nb201_meta, p.paths.labels, p.paths.node_shapes)
        build_task(p.paths.raw, paths, p.build.split, p.build.limit, p.build.workers, p.build.chunk)
        run["result"] = f"wrote {p.paths.build}"


if __name__ == "__main__":
    build_flow()
