"""The DVC graph cannot drift from the code: every repository module a stage imports, directly or through other
modules (function-level imports included), lies under one of the stage's code deps, in every dvc.yaml of the
repository."""

import ast
from pathlib import Path

import pytest
import yaml
from helpers import ROOT

PACKAGES = ("tart", "flows")


def module_file(name: str) -> Path | None:
    as_module = ROOT / (name.replace(".", "/") + ".py")
    if as_module.is_file():
        return as_module
    as_package = ROOT / name.replace(".", "/") / "__init__.py"
    return as_package if as_package.is_file() else None


def imported_names(path: Path) -> set[str]:
    """Dotted names a file imports from the repository's packages (`from a import b` also gives `a.b`: b may be a
    module)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names |= {node.module} | {f"{node.module}.{alias.name}" for alias in node.names}
    return {n for n in names if n.split(".")[0] in PACKAGES}


def import_closure(module: str) -> set[Path]:
    """Files Python runs to import `module`: its own, what it imports transitively, and every parent package's
    `__init__.py` on the way."""
    seen: set[Path] = set()
    todo = [module]
    while todo:
        name = todo.pop()
        path = module_file(name)
        if path is None or path in seen:
            continue
        seen.add(path)
        parts = name.split(".")
        todo += [".".join(parts[:k]) for k in range(1, len(parts))]
        todo += sorted(imported_names(path))
    return seen


def stages() -> list[tuple[str, str, dict]]:
    """(dvc.yaml path, stage name, stage) for every stage of every dvc.yaml in the repository."""
    found = []
    for dvc_file in sorted(ROOT.rglob("dvc.yaml")):
        if any(part.startswith(".") for part in dvc_file.relative_to(ROOT).parts):
            continue
        for name, stage in yaml.safe_load(dvc_file.read_text())["stages"].items():
            found.append((str(dvc_file.relative_to(ROOT)), name, stage))
    return found


def uncovered(stage: dict, dvc_file: str) -> list[str]:
    """Repository modules the stage's command imports that none of its deps covers."""
    cmd = stage["cmd"].split()
    assert cmd[:3] == ["python", "-m", cmd[2]], f"{dvc_file}: a stage command is `python -m flows.<stage>`"
    wdir = (ROOT / dvc_file).parent / stage.get("wdir", ".")
    deps = [(wdir / d).resolve() for d in stage["deps"] if "${" not in d]
    files = sorted(import_closure(cmd[2]))
    assert files, f"{dvc_file}: {cmd[2]} is no module of the repository"
    return [str(f.relative_to(ROOT)) for f in files if not any(f == d or d in f.parents for d in deps)]


@pytest.mark.parametrize("dvc_file,name,stage", stages(), ids=[f"{f}:{n}" for f, n, _ in stages()])
def test_code_deps_cover_every_imported_module(dvc_file, name, stage):
    missing = uncovered(stage, dvc_file)
    assert not missing, f"{dvc_file} stage {name!r}: deps do not cover {missing}"


def test_the_check_finds_a_module_left_out(tmp_path):
    stage = {"cmd": "python -m flows.train", "deps": ["flows/__init__.py", "flows/common.py", "flows/train.py",
                                                      "tart/__init__.py", "tart/core", "tart/graphs", "tart/models",
                                                      "tart/training"]}  # fmt: skip
    assert "tart/tokens/token_set.py" in uncovered(stage, "dvc.yaml")


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
