from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from flows.common import params, recorded
from tart.training.checkpoint import save_checkpoint
from tart.training.train import train_from_files, write_curves


@task(cache_policy=NO_CACHE)
def train_task(cfg, tokens, labels, split):
    return train_from_files(cfg, tokens, labels, split)


@flow(name="train")
def train_flow() -> None:
    p = params()
    with recorded("train", p) as facts:
        model, curves, run = train_task(p.train, p.paths.tokens, p.paths.labels, p.paths.split)
        save_checkpoint(model, run, p.train.model_dump(), p.paths.model)
        write_curves(curves, p.paths.reports / "plots" / "train_curve.csv")
        facts.update(device=run["device"], train_seconds=run["train_seconds"])
    get_run_logger().info("best validation tau-b %.4f at epoch %d", run["best_val_kendall_tau_b"], run["best_epoch"])


if __name__ == "__main__":
    train_flow()
