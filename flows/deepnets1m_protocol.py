"""Profile stage (profiles/deepnets1m/dvc.yaml): the DeepNets-1M property protocol on the published eval file."""

import sys
import tempfile
from pathlib import Path

from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from flows.common import params, recorded
from tart.core.files import write_json, write_text
from tart.evaluation.deepnets1m_protocol import MissingPublishedFile, protocol_markdown, require_inputs, run_protocol


@task(cache_policy=NO_CACHE)
def protocol_task(cfg, work):
    return run_protocol(cfg, work)


@flow(name="deepnets1m_protocol")
def deepnets1m_protocol_flow() -> None:
    p = params()
    what = "the DeepNets-1M property protocol: fit on the 500 val nets, score on the 500 test nets"
    with recorded("deepnets1m_protocol", p, what) as run, tempfile.TemporaryDirectory() as work:
        result = protocol_task(p.deepnets1m_protocol, Path(work))
        write_json(result, p.paths.reports / "deepnets1m_protocol.json")
        write_text(p.paths.reports / "deepnets1m_protocol.md", protocol_markdown(result) + "\n")
        run["result"] = "\n" + protocol_markdown(result)


if __name__ == "__main__":
    try:  # a missing published file is the common case here: one message, no traceback
        require_inputs(params().deepnets1m_protocol)
    except (MissingPublishedFile, FileNotFoundError) as exc:
        sys.exit(f"deepnets1m_protocol: {exc}")
    deepnets1m_protocol_flow()
