"""Benchmarks write only their declared files, and the committed tables are what their JSONs render to."""

import importlib
import subprocess

from helpers import ROOT

from benchmarks import common

dispatch = importlib.import_module("benchmarks.__main__")


def test_a_result_becomes_exactly_its_json_and_its_table(tmp_path, monkeypatch):
    monkeypatch.setattr(common, "BENCHMARK_DIR", tmp_path)
    common.write_result("demo", {"value": 3}, lambda r: f"| value |\n|---|\n| {r['value']} |", quiet=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["demo.json", "demo.md"]
    assert common.read_result(tmp_path / "demo.json")["machine"]["cpus"] >= 1
    assert (tmp_path / "demo.md").read_text().endswith("| value |\n|---|\n| 3 |\n")


def test_committed_tables_are_what_their_json_renders_to(tmp_path, monkeypatch):
    committed = ROOT / "reports" / "benchmarks"
    for path in committed.iterdir():
        (tmp_path / path.name).write_bytes(path.read_bytes())
    monkeypatch.setattr(common, "BENCHMARK_DIR", tmp_path)
    monkeypatch.setattr(dispatch, "BENCHMARK_DIR", tmp_path)
    rendered = dispatch.render_all()
    assert rendered, "no benchmark JSON found"
    for table in rendered:
        expected = (committed / table.name).read_text()
        assert table.read_text() == expected, f"{table.name} differs: run python -m benchmarks render"


def test_reports_benchmarks_holds_only_declared_files():
    present = {p.name for p in (ROOT / "reports" / "benchmarks").iterdir() if not p.stem.endswith("_dry")}
    assert present <= dispatch.declared_outputs(), present - dispatch.declared_outputs()


def test_a_dry_run_is_named_apart_and_ignored_by_git():
    assert dispatch.output_name("gpu-train", {"size": "dry"}) == "gpu_train_dry"
    assert dispatch.output_name("gpu-train", {"size": "full"}) == "gpu_train"
    ignored = subprocess.run(["git", "check-ignore", "-q", "reports/benchmarks/gpu_train_dry.json"], cwd=ROOT)
    assert ignored.returncode == 0


def test_help_says_what_a_benchmark_measures_and_runs_nothing(capsys, monkeypatch, tmp_path):
    monkeypatch.setattr(common, "BENCHMARK_DIR", tmp_path)
    for name, bench in dispatch.BENCHMARKS.items():
        dispatch.main([name, "--help"])
        shown = capsys.readouterr().out
        assert shown.startswith(f"python -m benchmarks {bench.usage}\n\n"), name
        assert shown.split("\n\n", 1)[1].strip(), f"{name}: its module says nothing about what it measures"
    assert not any(tmp_path.iterdir())
