from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from flows.common import params, recorded
from tart.narformer import NarFormerConfig
from tart.train_narformer import FitConfig, narformer_from_files


@task(cache_policy=NO_CACHE)
def narformer_task(p):
    n = p.narformer
    fit = FitConfig(
        epochs=n.epochs,
        batch_size=n.batch_size,
        lr=n.lr,
        weight_decay=n.weight_decay,
        warmup=n.warmup,
        ema=n.ema,
        rank_weight=n.rank_weight,
        consistency_weight=n.consistency_weight,
        target_transform=n.target_transform,
        eval_every=n.eval_every,
        threads=n.threads,
        device=n.device,
    )
    model = NarFormerConfig(n_freq=n.n_freq, n_layers=n.n_layers, n_heads=n.n_heads, d_ff=n.d_ff, dropout=n.dropout)
    return narformer_from_files(p.paths.labels, p.train.target, p.evaluate.test_label, n.train_sizes, n.seeds,
                                p.split.val_size, fit, model, p.paths.reports / "narformer.json",
                                get_run_logger().info)  # fmt: skip


@flow(name="narformer")
def narformer_flow() -> None:
    p = params()
    with recorded("narformer", p):
        narformer_task(p)


if __name__ == "__main__":
    narformer_flow()
