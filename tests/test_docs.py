"""The documentation holds: README.md stays short, every relative link resolves (anchors included), and every
command it names (`python -m fer...`, `python -m devtools...`) answers --help."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
PAGES = [README, *sorted((ROOT / "docs").glob("*.md")), ROOT / "model" / "README.md", ROOT / "web" / "README.md"]
README_MAX_BYTES = 12_000
QUICK_START = ["bash scripts/setup.sh && .venv/bin/python app.py", "bash scripts/test.sh"]
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")  # [text](target) and ![alt](target)
COMMAND = re.compile(r"python -m ((?:fer|devtools)(?:\.\w+)+)")


def anchors(page: Path) -> set[str]:
    """GitHub's anchors for a page's headings: lower case, punctuation dropped, spaces as hyphens."""
    headings = re.findall(r"^#+ (.+)$", re.sub(r"```.*?```", "", page.read_text(), flags=re.S), flags=re.M)
    return {re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-") for heading in headings}


def relative_links(page: Path) -> list[str]:
    return [target for target in LINK.findall(page.read_text()) if not re.match(r"[a-z]+:", target)]


def test_readme_is_short_and_keeps_the_quick_start():
    text = README.read_text()
    assert len(text.encode()) <= README_MAX_BYTES
    assert text.startswith("---\ntitle:")  # the Hugging Face Space's front matter
    for command in QUICK_START:
        assert f"```bash\n{command}\n```" in text


def test_each_docs_page_opens_with_a_title_and_a_two_line_summary():
    for page in sorted((ROOT / "docs").glob("*.md")):
        lines = page.read_text().splitlines()
        assert lines[0].startswith("# ") and lines[1] == "", page.name
        assert all(lines[2:4]) and lines[4] == "", f"{page.name}: the summary is two lines, then a blank line"


@pytest.mark.parametrize("page", PAGES, ids=lambda page: str(page.relative_to(ROOT)))
def test_every_relative_link_resolves(page):
    links = relative_links(page)
    broken = []
    for link in links:
        path, _, anchor = link.partition("#")
        target = (page.parent / path).resolve() if path else page
        if not target.exists():
            broken.append(link)
        elif anchor and target.suffix == ".md" and anchor not in anchors(target):
            broken.append(link)
    assert not broken, f"{page.name}: {broken}"


def test_the_link_check_sees_links():
    assert "docs/benchmarks.md" in relative_links(README)
    assert "docs/privacy.md#limits-honestly" in relative_links(README)


def test_every_command_the_docs_name_answers_help():
    modules = sorted({name for page in PAGES for name in COMMAND.findall(page.read_text())})
    assert {"fer.video", "fer.batch", "fer.training.train"} <= set(modules)
    runs = {name: subprocess.Popen([sys.executable, "-m", name, "--help"], cwd=ROOT, stdout=subprocess.PIPE,
                                   stderr=subprocess.STDOUT, text=True) for name in modules}  # side by side
    failed = {}
    for name, run in runs.items():
        output, _ = run.communicate(timeout=300)
        if run.returncode != 0 or "usage:" not in output:
            failed[name] = output[-500:]
    assert not failed, failed
