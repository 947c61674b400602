import pyarrow.parquet as pq
from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from flows.common import params, recorded
from tart.spaces.nb201.split import write_split


@task(cache_policy=NO_CACHE)
def split_task(labels, train_size, val_size, out):
    return write_split(pq.read_metadata(labels).num_rows, train_size, val_size, out)


@flow(name="split")
def split_flow() -> None:
    p = params()
    what = f"the first {p.split.train_size:,} nets train, the next {p.split.val_size:,} validate"
    with recorded("split", p, what) as run:
        split_task(p.paths.labels, p.split.train_size, p.split.val_size, p.paths.split)
        run["result"] = f"wrote {p.paths.split}"


if __name__ == "__main__":
    split_flow()
