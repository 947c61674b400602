"""Retraining: the workspace lock, failure handling, and the deployment served on a real Prefect server."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
import yaml
from helpers import copy_workspace, run, workspace_env

from tart.core.params import load_params
from tart.ops.retrain import (
    RetrainError,
    WorkspaceBusy,
    results_kept_on_failure,
    retrain_once,
    run_command,
    workspace_lock,
)

HOLD_LOCK = """
import sys, time
from pathlib import Path
from tart.ops.retrain import workspace_lock
with workspace_lock(Path(sys.argv[1])):
    print("held", flush=True)
    time.sleep(120)
"""


def quiet(line: str) -> None:
    pass


def test_second_run_is_refused_while_the_lock_is_held(tmp_path):
    lock = tmp_path / ".tart" / "retrain.lock"
    holder = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, str(lock)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(WorkspaceBusy, match=rf'another retraining run.*"pid": {holder.pid}'):
            with workspace_lock(lock):
                pass
    finally:
        holder.kill()
        holder.wait()
    with workspace_lock(lock):  # the OS released the dead holder's lock
        assert lock.with_name("retrain.lock.holder.json").exists()
    assert not lock.with_name("retrain.lock.holder.json").exists()


def test_failed_command_reports_its_exit_status_and_output(tmp_path):
    with pytest.raises(RetrainError, match=r"exited with 3; last output:\nstage train broke"):
        run_command([sys.executable, "-c", "print('stage train broke'); raise SystemExit(3)"], tmp_path, log=quiet)
    with pytest.raises(RetrainError, match="cannot start"):
        run_command(["tart-no-such-command"], tmp_path, log=quiet)


def test_reports_are_put_back_when_a_run_fails(tmp_path):
    reports = tmp_path / "reports"
    reports.mkdir()
    (reports / "metrics.json").write_text('{"tau": 0.7}')
    with pytest.raises(RuntimeError, match="boom"), results_kept_on_failure(tmp_path, Path("reports"), log=quiet):
        (reports / "metrics.json").write_text('{"tau": 0.1')
        (reports / "half_written.csv").write_text("epoch\n")
        raise RuntimeError("boom")
    assert (reports / "metrics.json").read_text() == '{"tau": 0.7}'
    assert not (reports / "half_written.csv").exists()


def _set_params(work, **sections):
    params = yaml.safe_load((work / "params.yaml").read_text())
    for section, values in sections.items():
        params[section].update(values)
    (work / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))


@pytest.mark.integration
def test_a_failing_pipeline_leaves_the_last_good_results(tiny_workspace, tmp_path, mirror, monkeypatch):
    work = copy_workspace(tiny_workspace, tmp_path / "work")
    monkeypatch.setenv("PATH", workspace_env(work, mirror)["PATH"])  # the stages' `python` is this interpreter
    model, metrics = work / "data" / "model" / "tart.pt", work / "reports" / "metrics.json"
    before = (model.read_bytes(), metrics.read_text(), (work / "dvc.lock").read_text())
    # A label the training stage cannot find: DVC removes the stage's outputs, then the stage fails.
    _set_params(work, train={"target": "no_such_label"},
                retrain={"command": [sys.executable, "-m", "dvc", "repro"], "retries": 0})  # fmt: skip
    with pytest.raises(RetrainError, match="no_such_label"):
        retrain_once(load_params(work / "params.yaml"), work, log=quiet)
    assert (model.read_bytes(), metrics.read_text(), (work / "dvc.lock").read_text()) == before


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _api(url: str, route: str, body: dict) -> list:
    request = urllib.request.Request(f"{url}/{route}", data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})  # fmt: skip
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def _wait_for(predicate, timeout: float, what: str, logs):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := predicate():
            return result
        time.sleep(2)
    tails = "\n".join(p.read_text()[-3000:] for p in logs)
    pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}\n{tails}")


def _healthy(api: str) -> bool:
    try:
        with urllib.request.urlopen(f"{api}/health", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def _finished_run(api: str) -> dict | None:
    finished = {"state": {"type": {"any_": ["COMPLETED", "FAILED", "CRASHED"]}}}
    runs = _api(api, "flow_runs/filter", {"flows": {"name": {"any_": ["tart-retrain"]}}, "flow_runs": finished})
    return runs[0] if runs else None


def _start_server(work, mirror, tmp_path, log) -> tuple[subprocess.Popen, str, dict]:
    """A Prefect server on a free loopback port (its own home, output to `log`); its API URL and the environment
    of the clients that use it from `work`."""
    port = _free_port()
    api = f"http://127.0.0.1:{port}/api"
    server_env = workspace_env(work, mirror, PREFECT_HOME=str(tmp_path / "server-home"), PREFECT_UI_ENABLED="false",
                               PREFECT_SERVER_ANALYTICS_ENABLED="false", DO_NOT_TRACK="1")  # fmt: skip
    server_env.pop("PREFECT_API_URL", None)
    server = subprocess.Popen([sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1",
                               "--port", str(port)], env=server_env, stdout=log.open("w"),
                              stderr=subprocess.STDOUT, start_new_session=True)  # fmt: skip
    return server, api, workspace_env(work, mirror, PREFECT_API_URL=api)


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


@pytest.mark.integration
def test_served_deployment_runs_on_its_schedule_and_publishes_the_diff(tiny_workspace, tmp_path, mirror, monkeypatch):
    work = copy_workspace(tiny_workspace, tmp_path / "work")
    _set_params(work, train={"seed": 1}, retrain={"cron": None, "interval_s": 10, "retries": 0})
    logs = [tmp_path / "server.log", tmp_path / "serve.log"]
    server, api, client_env = _start_server(work, mirror, tmp_path, logs[0])
    serve = None
    try:
        _wait_for(lambda: _healthy(api), 90, "the Prefect server", logs)
        serve = subprocess.Popen([sys.executable, "-m", "flows.retrain", "serve"], cwd=work, env=client_env,
                                 stdout=logs[1].open("w"), stderr=subprocess.STDOUT,
                                 start_new_session=True)  # fmt: skip

        run = _wait_for(lambda: _finished_run(api), 300, "a completed scheduled tart-retrain run", logs)
        assert run["state"]["type"] == "COMPLETED", run["state"]
        assert run["deployment_id"], "the run should come from the served deployment"
        artifacts = _api(api, "artifacts/filter", {"artifacts": {"key": {"any_": ["tart-retrain"]}}})
        text = artifacts[0]["data"]
        assert text.startswith("**Verdict: ") and "| test_all.kendall_tau_b |" in text
        assert "committed (HEAD)" in text and "this run" in text
    finally:
        for process in (serve, server):
            if process is not None:
                _stop(process)
    assert server.poll() is not None

    # The run changed the seed, so the working tree's results differ from HEAD: diff and plots see it.
    from typer.testing import CliRunner

    from tart.app.cli import app

    monkeypatch.chdir(work)
    diff = CliRunner().invoke(app, ["report", "diff", "HEAD", "workspace", "--format", "json"])
    assert diff.exit_code == 0, diff.output
    changes = {c["metric"]: c for c in json.loads(diff.output)["changes"]}
    assert changes["test_all.kendall_tau_b"]["verdict"] != "identical"
    plots = CliRunner().invoke(app, ["report", "plots", "HEAD", "workspace", "--out", str(tmp_path / "plots")])
    assert plots.exit_code == 0, plots.output
    page = (tmp_path / "plots" / "index.html").read_text()
    assert "<svg" in page and "<script" not in page and 'src="http' not in page
    assert (tmp_path / "plots" / "static").is_dir()


@pytest.mark.integration
def test_a_work_pool_worker_runs_the_deployed_retraining(tiny_workspace, tmp_path, mirror):
    """The cluster route (docs/cluster.md): a process work pool, the deployment registered with it, a worker that
    picks the scheduled run up and runs it in the workspace."""
    work = copy_workspace(tiny_workspace, tmp_path / "work")
    _set_params(work, train={"seed": 1}, retrain={"cron": None, "interval_s": 10, "retries": 0})
    logs = [tmp_path / "server.log", tmp_path / "worker.log"]
    server, api, client_env = _start_server(work, mirror, tmp_path, logs[0])
    worker = None
    try:
        _wait_for(lambda: _healthy(api), 90, "the Prefect server", logs)
        run([sys.executable, "-m", "prefect", "work-pool", "create", "tart-pool", "--type", "process"], work,
            client_env)  # fmt: skip
        run([sys.executable, "-m", "flows.retrain", "deploy", "tart-pool"], work, client_env)
        worker = subprocess.Popen([sys.executable, "-m", "prefect", "worker", "start", "--pool", "tart-pool"],
                                  cwd=tmp_path, env=client_env, stdout=logs[1].open("w"), stderr=subprocess.STDOUT,
                                  start_new_session=True)  # fmt: skip
        finished = _wait_for(lambda: _finished_run(api), 300, "a completed tart-retrain run from the pool", logs)
        assert finished["state"]["type"] == "COMPLETED", finished["state"]
        assert finished["deployment_id"], "the run should come from the deployment"
        artifacts = _api(api, "artifacts/filter", {"artifacts": {"key": {"any_": ["tart-retrain"]}}})
        assert artifacts[0]["data"].startswith("**Verdict: ")
    finally:
        for process in (worker, server):
            if process is not None:
                _stop(process)
