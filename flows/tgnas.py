from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from flows.common import grid, params, recorded, say
from tart.training.tgnas import tgnas_from_files


@task(cache_policy=NO_CACHE)
def tgnas_task(p):
    return tgnas_from_files(p.paths.labels, p.train.target, p.evaluate.test_label, p.tgnas, p.split.val_size,
                            p.paths.reports / "tgnas.json", say,
                            p.paths.resume / "tgnas")  # fmt: skip


@flow(name="tgnas")
def tgnas_flow() -> None:
    p = params()
    what = f"fit the TG-NAS-style GCN: {grid(p.tgnas)}"
    with recorded("tgnas", p, what) as run:
        report = tgnas_task(p)
        run["result"] = f"{len(report['runs']):,} runs in {p.paths.reports / 'tgnas.json'}"


if __name__ == "__main__":
    tgnas_flow()
