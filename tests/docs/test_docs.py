"""The README and docs/ are a front door that cannot rot: small, every link and section anchor resolves, no diary,
the headline table is the pipeline's own, and every benchmark is listed."""

import importlib
import re
from pathlib import Path

import pytest
from helpers import ROOT

PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)\)")


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower().replace("`", ""))
    return text.replace(" ", "-")


def anchors(page: Path) -> set[str]:
    return {slug(line.lstrip("#")) for line in page.read_text().splitlines() if line.startswith("#")}


def test_readme_fits_on_a_few_screens():
    assert (ROOT / "README.md").stat().st_size <= 15_000


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_link_and_anchor_resolves(page):
    for target in LINK.findall(page.read_text()):
        if re.match(r"[a-z]+://", target):
            continue
        path, _, anchor = target.partition("#")
        resolved = (page.parent / path).resolve() if path else page
        assert resolved.exists(), f"{page.name}: link to missing {target}"
        if anchor:
            assert anchor in anchors(resolved), f"{page.name}: no section #{anchor} in {path or page.name}"


def test_quoted_section_references_resolve():
    """Code and params point into the docs as `docs/PAGE.md, "Section"`: that section must exist."""
    reference = re.compile(r'docs/(\w+\.md), "([^"]+)"')
    sources = [*ROOT.glob("tart/**/*.py"), *ROOT.glob("flows/*.py"), ROOT / "params.yaml", ROOT / "dvc.yaml",
               *ROOT.glob("profiles/*/dvc.yaml")]  # fmt: skip
    for path in sources:
        for page, section in reference.findall(path.read_text()):
            section = " ".join(section.split())  # a reference may wrap across lines
            assert slug(section) in anchors(ROOT / "docs" / page), f"{path}: no section {section!r} in docs/{page}"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_no_diary(page):
    text = page.read_text()
    assert not re.search(r"\b20\d\d-\d\d-\d\d\b", text), "dated text"
    assert not re.search(r"\b(this session|issue \d+|last session)\b", text, re.I)
    assert "DOMAIN.md" not in text and "../shared" not in text  # nothing outside the repository


def test_the_readme_headline_is_the_pipelines_table():
    readme = (ROOT / "README.md").read_text()
    block = readme.split("<!-- results:start -->\n", 1)[1].split("<!-- results:end -->", 1)[0]
    assert block == (ROOT / "reports" / "results.md").read_text(), "copy reports/results.md into the README block"


def test_every_benchmark_is_listed_with_its_command_and_table():
    page = (ROOT / "docs" / "benchmarks.md").read_text()
    dispatch = importlib.import_module("benchmarks.__main__")
    for name, bench in dispatch.BENCHMARKS.items():
        assert f"`python -m benchmarks {name}" in page, name
        if (ROOT / "reports" / "benchmarks" / f"{bench.output}.json").exists():
            assert f"(../reports/benchmarks/{bench.output}.md)" in page, name
        else:  # not run yet (the GPU checks): named, not linked, until its table exists
            assert f"`{bench.output}.md` (not run yet" in page, name
