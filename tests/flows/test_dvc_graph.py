"""The DVC graph cannot drift from the code: every stage's code deps are exactly the files its flow imports,
directly or through other modules (function-level imports and package data included), in every dvc.yaml of the
repository (tart/ops/stage_deps.py computes them)."""

import pytest
import yaml
from helpers import ROOT

from tart.ops.stage_deps import differences, dvc_files, rewrite


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


def test_stage_names_match_params_sections_and_flows():
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    for dvc_file, name, stage in stages():
        if "foreach" in stage:  # one stage per item (tart_grid_fits@781, ...): the flow takes the item
            stage = stage["do"]
            assert stage["cmd"] == f"python -m flows.{name} ${{item}}", f"{dvc_file}: stage {name} runs {stage['cmd']}"
            sections = {entry.split(".")[0] for entry in stage["params"]}
            assert sections <= set(params), f"{dvc_file}: stage {name} reads sections {sections - set(params)}"
        else:
            assert stage["cmd"] == f"python -m flows.{name}", f"{dvc_file}: stage {name} runs {stage['cmd']}"
            if "params" in stage:  # a stage without settings (package) has no section
                assert name in params, f"{dvc_file}: stage {name} has no params.yaml section of its name"
        assert (ROOT / "flows" / f"{name}.py").is_file()


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
