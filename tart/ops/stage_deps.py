"""The code deps of every DVC stage, computed from what the stage's flow imports.

A stage must rerun when code it runs changes, and only then. The files Python loads to import a stage's flow module
(its own, everything it imports transitively, function-level imports included since they run too, and each parent
package's `__init__.py`), plus the non-Python files beside them (package data such as `op_embeddings.json`), are
the stage's code. A folder all of whose files belong to it is named as the folder.

`python -m tart.ops.stage_deps` lists each stage whose dvc.yaml code deps differ from this; `--write` rewrites them
(data deps, params and outputs are left as written). `tests/flows/test_dvc_graph.py` fails on any difference, in
every dvc.yaml of the repository, so an edit to a module reruns exactly the stages that import it.
"""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

import yaml

PACKAGES = ("flows", "tart")  # the repository's importable code, in the order dvc.yaml lists it
ROOT = Path(__file__).resolve().parents[2]
WIDTH = 118  # dvc.yaml's line length


class StageDepsError(ValueError):
    """A dvc.yaml whose stages this module cannot read or rewrite; the message names the file and the stage."""


def module_file(name: str, root: Path = ROOT) -> Path | None:
    """The file that defines module `name` under `root`, if it is one of the repository's."""
    as_module = root / (name.replace(".", "/") + ".py")
    if as_module.is_file():
        return as_module
    as_package = root / name.replace(".", "/") / "__init__.py"
    return as_package if as_package.is_file() else None


def imported_names(path: Path) -> set[str]:
    """Dotted names a file imports from the repository's packages (`from a import b` also gives `a.b`: b may be a
    module)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names |= {node.module} | {f"{node.module}.{alias.name}" for alias in node.names}
    return {n for n in names if n.split(".")[0] in PACKAGES}


def import_closure(module: str, root: Path = ROOT) -> set[Path]:
    """Files Python runs to import `module`: its own, what it imports transitively, and every parent package's
    `__init__.py` on the way."""
    seen: set[Path] = set()
    todo = [module]
    while todo:
        name = todo.pop()
        path = module_file(name, root)
        if path is None or path in seen:
            continue
        seen.add(path)
        parts = name.split(".")
        todo += [".".join(parts[:k]) for k in range(1, len(parts))]
        todo += sorted(imported_names(path))
    return seen


def _files_under(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file() and "__pycache__" not in p.parts]


def code_files(module: str, root: Path = ROOT) -> set[Path]:
    """`import_closure` plus the non-Python files in the folders of its modules (data a module reads)."""
    files = import_closure(module, root)
    if not files:
        raise StageDepsError(f"{module} is no module of the repository under {root}")
    data = {p for folder in {f.parent for f in files} for p in folder.iterdir()
            if p.is_file() and p.suffix != ".py" and not p.name.startswith(".")}  # fmt: skip
    return files | data


def compact(files: set[Path], root: Path = ROOT) -> list[str]:
    """`files` as paths relative to `root`, a folder standing for all its files when every one of them is in."""
    out: list[str] = []

    def visit(folder: Path) -> None:
        inside = _files_under(folder)
        if inside and all(p in files for p in inside):
            out.append(str(folder.relative_to(root)))
            return
        for child in sorted(folder.iterdir()):
            if child.is_dir() and child.name != "__pycache__":
                visit(child)
            elif child in files:
                out.append(str(child.relative_to(root)))

    for package in PACKAGES:
        visit(root / package)
    return out


def is_code(dep: str) -> bool:
    return dep.split("/")[0] in PACKAGES


def stage_body(stage: dict) -> dict:
    """The stage's own keys: a `foreach` stage's are under `do` (one body, run once per item)."""
    return stage["do"] if "foreach" in stage else stage


def stage_code_deps(stage: dict, dvc_file: Path, root: Path = ROOT) -> list[str]:
    """The code deps `stage` (as `dvc_file` holds it) should list. Stages run from the repository root (a dvc.yaml
    elsewhere says `wdir` up to it), so deps are relative to it. The flow module may take arguments (a `foreach`
    stage passes its item)."""
    stage = stage_body(stage)
    cmd = stage["cmd"].split()
    if cmd[:2] != ["python", "-m"] or len(cmd) < 3:
        raise StageDepsError(f"{dvc_file}: stage command {stage['cmd']!r} is not `python -m flows.<stage> [ARGS]`")
    if (dvc_file.parent / stage.get("wdir", ".")).resolve() != root.resolve():
        raise StageDepsError(f"{dvc_file}: stage {cmd[2]} does not run from the repository root (set its wdir)")
    return compact(code_files(cmd[2], root), root)


def dvc_files(root: Path = ROOT) -> list[Path]:
    """Every dvc.yaml of the repository (not under hidden folders such as .dvc or worktrees)."""
    return [f for f in sorted(root.rglob("dvc.yaml")) if not any(p.startswith(".") for p in f.relative_to(root).parts)]


def differences(dvc_file: Path, root: Path = ROOT) -> dict[str, tuple[list[str], list[str]]]:
    """{stage: (code deps missing from dvc.yaml, code deps dvc.yaml lists but the stage does not import)}."""
    out = {}
    for name, stage in yaml.safe_load(dvc_file.read_text())["stages"].items():
        want = stage_code_deps(stage, dvc_file, root)
        have = [d for d in stage_body(stage).get("deps", []) if is_code(d)]
        if set(want) != set(have):
            out[name] = (sorted(set(want) - set(have)), sorted(set(have) - set(want)))
    return out


def _flow_list(key_indent: str, entries: list[list[str]]) -> str:
    """`deps: [...]` in dvc.yaml's style: each group of entries starts a line, lines wrap at WIDTH."""
    head = f"{key_indent}deps: ["
    pad = " " * len(head)
    lines, line = [], head
    for g, group in enumerate(entries):
        for k, entry in enumerate(group):
            last = g == len(entries) - 1 and k == len(group) - 1
            text = entry + ("]" if last else ",")
            if line not in (head, pad) and len(line) + 1 + len(text) > WIDTH:
                lines.append(line)
                line = pad
            line += ("" if line in (head, pad) else " ") + text
        if g < len(entries) - 1:
            lines.append(line)
            line = pad
    return "\n".join([*lines, line])


DEPS_BLOCK = re.compile(r"^(?P<indent>[ ]+)deps: \[[^\]]*\]", re.MULTILINE)
STAGE_LINE = re.compile(r"^  (?P<name>[A-Za-z0-9_]+):[ ]*(#.*)?$", re.MULTILINE)


def rewrite(dvc_file: Path, root: Path = ROOT) -> str:
    """dvc.yaml's text with each stage's code deps replaced by `stage_code_deps` (first, flows then tart), its
    other deps kept after them in their order; everything else as written."""
    text = dvc_file.read_text()
    stages = yaml.safe_load(text)["stages"]
    starts = {m.group("name"): m.start() for m in STAGE_LINE.finditer(text) if m.group("name") in stages}
    pieces, done = [], 0
    for name in sorted(starts, key=starts.get):
        block = DEPS_BLOCK.search(text, starts[name])
        following = [s for s in starts.values() if s > starts[name]]
        if block is None or (following and block.start() > min(following)):
            raise StageDepsError(f"{dvc_file}: stage {name!r} has no `deps: [...]` list to rewrite")
        data = [d for d in stage_body(stages[name])["deps"] if not is_code(d)]
        data = [f'"{d}"' if "${" in d else d for d in data]
        groups = [g for g in (stage_code_deps(stages[name], dvc_file, root), data) if g]
        pieces += [text[done : block.start()], _flow_list(block.group("indent"), groups)]
        done = block.end()
    return "".join([*pieces, text[done:]])


def main(argv: list[str]) -> int:
    write = argv == ["--write"]
    if argv and not write:
        print("usage: python -m tart.ops.stage_deps [--write]", file=sys.stderr)
        return 2
    if not (ROOT / "dvc.yaml").is_file():
        print(f"{ROOT}: no dvc.yaml; run this from a source checkout of the repository", file=sys.stderr)
        return 2
    stale = 0
    for dvc_file in dvc_files():
        found = differences(dvc_file)
        for name, (missing, extra) in found.items():
            print(f"{dvc_file.relative_to(ROOT)}: stage {name}: missing {missing or '-'}; not imported {extra or '-'}")
        stale += len(found)
        if write and found:
            dvc_file.write_text(rewrite(dvc_file))
            print(f"rewrote {dvc_file.relative_to(ROOT)}")
    if not stale:
        print("every stage's code deps match its imports")
    return 0 if write or not stale else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
