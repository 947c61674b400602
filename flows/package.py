from pathlib import Path

from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from flows.common import params, recorded
from tart.app.package import package

# the package data directory, relative to the workspace (dvc.yaml declares it; tart/app/checkpoints.py reads it)
PACKAGED = Path("tart/default_model")


@task(cache_policy=NO_CACHE)
def package_task(p):
    return package(p.paths.model, p.paths.tokens, p.paths.split, p.paths.reports / "metrics.json", PACKAGED)


@flow(name="package")
def package_flow() -> None:
    p = params()
    with recorded("package", p, "copy the checkpoint into the package with its card and training profile") as run:
        facts = package_task(p)["profile"]
        share = facts["outside_share_of_untrained_nets"]
        run["result"] = (f"packaged {PACKAGED}; of the {facts['untrained_nets']:,} nets not trained on, "
                         + ("none" if share is None else f"{share:.1%}") + " fall outside its training profile")


if __name__ == "__main__":
    package_flow()
