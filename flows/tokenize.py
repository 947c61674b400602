from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from flows.common import params, recorded
from tart.core.parallel import executing
from tart.tokens.tokenize import tokenize


@task(cache_policy=NO_CACHE)
def tokenize_task(graphs, out):
    return tokenize(graphs, out)


@flow(name="tokenize")
def tokenize_flow() -> None:
    p = params()
    with recorded("tokenize", p, f"tokenize the graph shards of {p.paths.graphs}") as run, executing(p.executor):
        tokenize_task(p.paths.graphs, p.paths.tokens)
        run["result"] = f"wrote {p.paths.tokens}"


if __name__ == "__main__":
    tokenize_flow()
