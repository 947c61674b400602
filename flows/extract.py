from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from flows.common import params, recorded
from tart.build import SPLIT, BuildOutputs
from tart.extract import extract


@task(cache_policy=NO_CACHE)
def extract_task(built: BuildOutputs, out, repair, shard_size):
    return extract(built.h5, built.meta, SPLIT, out, repair, shard_size, built.shapes)


@flow(name="extract")
def extract_flow() -> None:
    p = params()
    with recorded("extract", p):
        summary = extract_task(
            BuildOutputs.under(p.paths.build), p.paths.graphs, p.extract.repair, p.extract.shard_size
        )
    get_run_logger().info(
        "%d nets, %d with misaligned rows (repair=%s)", summary["nets"], summary["misaligned"], summary["repair"]
    )


if __name__ == "__main__":
    extract_flow()
