import json

from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from flows.common import params, recorded
from tart.evaluation.figures import comparison_bars, render_all, tau_vs_train_size
from tart.evaluation.report import (
    comparison_entries,
    comparison_markdown,
    cost_markdown,
    proxies_markdown,
    results_markdown,
    transfer_markdown,
    write_results,
)
from tart.training.checkpoint import read_card


@task(cache_policy=NO_CACHE)
def figures_task(p):
    return render_all(p.paths.predictions, p.paths.reports / "plots" / "train_curve.csv", p.paths.graphs,
                      p.figures.example_net, p.paths.figures)  # fmt: skip


@task(cache_policy=NO_CACHE)
def results_task(p):
    metrics = json.loads((p.paths.reports / "metrics.json").read_text())
    write_results(results_markdown(metrics, read_card(p.paths.model)), p.paths.reports / "results.md")


@task(cache_policy=NO_CACHE)
def comparison_task(p):
    metrics = json.loads((p.paths.reports / "metrics.json").read_text())
    baselines = json.loads((p.paths.reports / "baselines.json").read_text())
    rivals = [json.loads((p.paths.reports / f"{name}.json").read_text())
              for name in ("tart_grid", "narformer", "tgnas")]  # fmt: skip
    entries = comparison_entries(baselines, metrics, *rivals)
    comparison_bars(entries, p.paths.figures / "comparison.png")
    tau_vs_train_size(entries, p.paths.figures / "tau_vs_train_size.png")
    proxies = json.loads((p.paths.reports / "proxies.json").read_text())
    markdown = "\n\n".join([comparison_markdown(entries, baselines["n_nets"]), cost_markdown(entries),
                            transfer_markdown(entries), proxies_markdown(proxies)])  # fmt: skip
    write_results(markdown, p.paths.reports / "comparison.md")


@flow(name="figures")
def figures_flow() -> None:
    p = params()
    with recorded("figures", p, "draw the figures and write the result tables") as run:
        figures_task(p)
        results_task(p)
        comparison_task(p)
        run["result"] = f"wrote {p.paths.figures}, results.md and comparison.md"


if __name__ == "__main__":
    figures_flow()
