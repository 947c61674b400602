from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from flows.common import params, recorded
from tart.training.checkpoint import save_checkpoint
from tart.training.resume import clear_stage
from tart.training.train import train_from_files, write_curves


@task(cache_policy=NO_CACHE)
def train_task(cfg, tokens, labels, split, state_dir):
    return train_from_files(cfg, tokens, labels, split, state_dir)


@flow(name="train")
def train_flow() -> None:
    p = params()
    taught = "" if p.train.teacher == "none" else f" and {p.train.teacher}'s scores of the unlabelled nets"
    what = f"fit TART on the training split{taught} for {p.train.epochs} epochs, keeping the best validation epoch"
    with recorded("train", p, what) as facts:
        state_dir = p.paths.resume / "train"
        model, curves, run = train_task(p.train, p.paths.tokens, p.paths.labels, p.paths.split, state_dir)
        save_checkpoint(model, run, p.train.model_dump(), p.paths.model)
        write_curves(curves, p.paths.reports / "plots" / "train_curve.csv")
        clear_stage(state_dir)
        facts.update(device=run["device"], train_seconds=run["train_seconds"],
                     result=f"best validation tau-b {run['best_val_kendall_tau_b']:.4f} at epoch {run['best_epoch']}")


if __name__ == "__main__":
    train_flow()
