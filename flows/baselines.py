from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from flows.common import params, recorded, say
from tart.baselines.baselines import baselines_from_files


@task(cache_policy=NO_CACHE)
def baselines_task(p):
    out = p.paths.reports / "baselines.json"
    return baselines_from_files(p.paths.labels, p.train.target, p.evaluate.test_label, p.baselines, out, say,
                                p.split.val_size)


@flow(name="baselines")
def baselines_flow() -> None:
    p = params()
    what = f"fit {len(p.baselines.predictors)} baselines at {len(p.baselines.train_sizes)} training sizes"
    with recorded("baselines", p, what) as run:
        report = baselines_task(p)
        run["result"] = f"{len(report['runs']):,} runs in {p.paths.reports / 'baselines.json'}"


if __name__ == "__main__":
    baselines_flow()
