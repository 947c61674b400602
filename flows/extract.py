from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from flows.common import params, recorded
from tart.core.parallel import executing
from tart.io.extract import extract


@task(cache_policy=NO_CACHE)
def extract_task(h5, meta, split, out, repair, shard_size, shapes):
    return extract(h5, meta, split, out, repair, shard_size, shapes)


@flow(name="extract")
def extract_flow() -> None:
    p = params()
    what = f"read and validate {p.paths.nb201_h5} into graph shards"
    with recorded("extract", p, what) as run, executing(p.executor):
        paths = p.paths
        summary = extract_task(paths.nb201_h5, paths.nb201_meta, p.build.split, paths.graphs, p.extract.repair,
                               p.extract.shard_size, paths.node_shapes)  # fmt: skip
        run["result"] = (f"{summary['nets']:,} nets, {summary['misaligned']:,} with misaligned rows "
                         f"(repair={summary['repair']})")  # fmt: skip


if __name__ == "__main__":
    extract_flow()
