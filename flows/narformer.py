from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from flows.common import grid, params, recorded, say
from tart.training.narformer import narformer_from_files


@task(cache_policy=NO_CACHE)
def narformer_task(p):
    return narformer_from_files(p.paths.labels, p.train.target, p.evaluate.test_label, p.narformer, p.split.val_size,
                                p.paths.reports / "narformer.json", say,
                                p.paths.resume / "narformer")  # fmt: skip


@flow(name="narformer")
def narformer_flow() -> None:
    p = params()
    what = f"fit the NAR-Former-style model: {grid(p.narformer)}"
    with recorded("narformer", p, what) as run:
        report = narformer_task(p)
        run["result"] = f"{len(report['runs']):,} runs in {p.paths.reports / 'narformer.json'}"


if __name__ == "__main__":
    narformer_flow()
