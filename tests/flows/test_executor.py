"""The fan-out stages on the Dask executor, run by DVC on the tiny profile: every output is the local executor's,
byte for byte (DVC records the same hashes); the proxies' scores are the same (their timings are not)."""

import sys

import pyarrow.parquet as pq
import pytest
import yaml
from helpers import copy_workspace, run, workspace_env

pytestmark = pytest.mark.integration
DVC = [sys.executable, "-m", "dvc"]


def test_fan_out_stages_on_a_local_dask_cluster_reproduce_the_lock(tiny_workspace, mirror, tmp_path):
    work = copy_workspace(tiny_workspace, tmp_path / "work")
    env = workspace_env(work, mirror)
    params = yaml.safe_load((work / "params.yaml").read_text())
    params["executor"] = {"kind": "dask", "scheduler": None}
    (work / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    for stage in ("build", "extract", "tokenize", "proxies"):
        run([*DVC, "repro", "-f", "--single-item", stage], work, env)
    lock = yaml.safe_load((work / "dvc.lock").read_text())["stages"]
    local = yaml.safe_load((tiny_workspace / "dvc.lock").read_text())["stages"]
    for stage in ("build", "extract", "tokenize"):
        assert lock[stage]["outs"] == local[stage]["outs"], f"{stage}: outputs differ from the local executor's"
    # the proxies' outputs also hold each net's scoring time, which differs run to run: compare the scores
    scores = params["proxies"]["scores"]
    on_dask, here = (pq.read_table(root / scores).drop(["seconds"]) for root in (work, tiny_workspace))
    assert on_dask.equals(here)
