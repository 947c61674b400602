from pathlib import Path

from prefect import flow, get_run_logger, task
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
    with recorded("package", p):
        card = package_task(p)
    facts = card["profile"]
    get_run_logger().info("packaged %s; of the %d nets not trained on, a share of %s falls outside its training "
                          "profile", PACKAGED, facts["untrained_nets"], facts["outside_share_of_untrained_nets"])


if __name__ == "__main__":
    package_flow()
