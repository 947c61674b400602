from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from flows.common import params, recorded
from tart.io.extract import extract


@task(cache_policy=NO_CACHE)
def extract_task(h5, meta, split, out, repair, shard_size, shapes):
    return extract(h5, meta, split, out, repair, shard_size, shapes)


@flow(name="extract")
def extract_flow() -> None:
    p = params()
    with recorded("extract", p):
        paths = p.paths
        summary = extract_task(paths.nb201_h5, paths.nb201_meta, p.build.split, paths.graphs, p.extract.repair,
                               p.extract.shard_size, paths.node_shapes)  # fmt: skip
    get_run_logger().info(
        "%d nets, %d with misaligned rows (repair=%s)", summary["nets"], summary["misaligned"], summary["repair"]
    )


if __name__ == "__main__":
    extract_flow()
