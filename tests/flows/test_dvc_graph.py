"""The DVC graph cannot drift from the code: every stage's code deps are exactly the files its flow imports,
directly or through other modules (function-level imports and package data included), in every dvc.yaml of the
repository (tart/ops/stage_deps.py computes them)."""

import pytest
import yaml
from helpers import ROOT

from tart.ops.stage_deps import StageDepsError, code_files, compact, differences, dvc_files, rewrite


def stages() -> list[tuple[str, str, dict]]:
    """(dvc.yaml path, stage name, stage) for every stage of every dvc.yaml in the repository."""
    return [(str(f.relative_to(ROOT)), name, stage) for f in dvc_files()
            for name, stage in yaml.safe_load(f.read_text())["stages"].items()]  # fmt: skip


@pytest.mark.parametrize("dvc_file", [str(f.relative_to(ROOT)) for f in dvc_files()])
def test_code_deps_are_exactly_the_imported_files(dvc_file):
    found = differences(ROOT / dvc_file)
    assert not found, (f"{dvc_file}: code deps differ from the imports (stage: (missing, not imported)): {found}; "
                       "run `python -m tart.ops.stage_deps --write`")  # fmt: skip
    assert rewrite(ROOT / dvc_file) == (ROOT / dvc_file).read_text()  # the writer keeps a matching file as it is


def test_a_module_left_out_or_a_folder_too_many_is_found(tmp_path):
    deps = ["flows/__init__.py", "flows/common.py", "flows/train.py", "tart/__init__.py", "tart/core", "tart/graphs",
            "tart/models", "tart/training", "tart/app", "${paths.tokens}"]  # fmt: skip
    stage = {"cmd": "python -m flows.train", "wdir": str(ROOT), "deps": deps}
    dvc_file = tmp_path / "dvc.yaml"
    dvc_file.write_text(yaml.safe_dump({"stages": {"train": stage}}, default_flow_style=None, width=1000))
    missing, extra = differences(dvc_file)["train"]
    assert "tart/tokens/token_set.py" in missing and "tart/app" in extra
    dvc_file.write_text(rewrite(dvc_file))  # the writer mends it, keeping the data dep
    assert not differences(dvc_file) and yaml.safe_load(dvc_file.read_text())["stages"]["train"]["deps"][-1] == (
        "${paths.tokens}")  # fmt: skip


def test_package_data_beside_an_imported_module_is_code_and_full_folders_compact():
    files = code_files("flows.tgnas")
    assert ROOT / "tart/models/op_embeddings.json" in files and ROOT / "tart/models/tgnas.py" in files
    assert ROOT / "tart/app/cli.py" not in files
    listed = compact(files)
    assert "tart/models/tgnas.py" in listed and "tart/app" not in listed
    assert compact({p for p in (ROOT / "tart/core").rglob("*.py")} | {ROOT / "tart/__init__.py"}) == [
        "tart/__init__.py", "tart/core"]  # fmt: skip


def test_a_stage_outside_the_repository_root_or_module_is_refused(tmp_path):
    dvc_file = tmp_path / "dvc.yaml"
    dvc_file.write_text(yaml.safe_dump({"stages": {"x": {"cmd": "python -m flows.train", "deps": []}}}))
    with pytest.raises(StageDepsError, match="repository root"):
        differences(dvc_file)
    dvc_file.write_text(yaml.safe_dump({"stages": {"x": {"cmd": "python -m flows.nothing", "wdir": str(ROOT)}}}))
    with pytest.raises(StageDepsError, match="flows.nothing is no module"):
        differences(dvc_file)


def test_stage_names_match_params_sections_and_flows():
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    for dvc_file, name, stage in stages():
        assert stage["cmd"] == f"python -m flows.{name}", f"{dvc_file}: stage {name} runs {stage['cmd']}"
        assert (ROOT / "flows" / f"{name}.py").is_file()
        if "params" in stage:  # a stage without settings (package) has no section
            assert name in params, f"{dvc_file}: stage {name} has no params.yaml section of its name"


def test_metrics_files_are_summaries():
    """`dvc metrics show` must fit on a screen: per-run records are plain outputs, metrics files stay small."""
    dvc = yaml.safe_load((ROOT / "dvc.yaml").read_text())
    declared = [next(iter(m)) if isinstance(m, dict) else m
                for stage in dvc["stages"].values() for m in stage.get("metrics", [])]  # fmt: skip
    assert declared == ["${paths.reports}/metrics.json"]
    assert (ROOT / "reports" / "metrics.json").stat().st_size < 4096


def test_dvc_sees_the_profile_only_once_enabled():
    from dvc.repo import Repo

    with Repo(str(ROOT)) as repo:
        names = {stage.name for stage in repo.index.stages}
    assert "deepnets1m_protocol" not in names and {"train", "evaluate", "package"} <= names
    assert "/profiles/" in (ROOT / ".dvcignore").read_text().splitlines()
