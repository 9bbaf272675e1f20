"""The repository documents itself: references point into docs/, and every section cited exists.

(a) No file of the repository (outside the generated stubs and docs/ itself) cites the behaviour
    notes that once lived outside the repository: no path into a ``spec`` folder of Markdown files
    and no numbered citation of "the spec" / "the specification".
(b) Every citation of the form ``docs/<file>.md §X.Y`` (several sections may follow one file, as
    in ``§6.4, §6.5`` or ``§6.4-§6.6``) names an existing file whose headings carry that section
    number. Inside docs/ the same holds for ``<file>.md §X`` and for a bare ``§X`` (which refers
    to the document it appears in).

Files are those git tracks plus untracked, non-ignored ones (new docs count before their first
commit); only text files are read.
"""

from __future__ import annotations

import pathlib
import re
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
SKIPPED_DIRS = ("quantamm_api/", "docs/")
THIS_FILE = "tests/test_docs.py"  # its own patterns and docstring describe what it forbids
MAX_BYTES = 2_000_000

# (a) A Markdown file in a spec folder, e.g. "see spec/training.md" or "../spec/simulation.md"
# (Kubernetes JSON-patch paths such as /spec/template/... do not end in .md), or the old folder.
SPEC_PATH = re.compile(r"(?<![\w-])spec/[\w./-]*\.md\b|shared/spec\b")
# (a) A numbered citation: "spec 6.5", "(Spec 6.4-6.6)", "specification 4.1.2",
# "specification section 3", "spec section 2".
SPEC_NUMBER = re.compile(r"\bspec(?:ification)?(?:'s)?\s+(?:section\s+)?\d+(?:\.\d+)*",
                         re.IGNORECASE)
# (a) The old documents cited by name without docs/ ("simulation.md section 7", "training.md
# 6.2") or the one that has no counterpart here by that name.
OLD_DOCUMENT = re.compile(r"(?<![\w/])(?:simulation|training)\.md\s+(?:section\s+)?\d"
                          r"|\bpools_breadth\.md\b")

SECTION = r"§\s?\d+(?:\.\d+)*"
SECTIONS = rf"{SECTION}(?:\s*(?:,|;|and|or|-|–|/)\s*{SECTION})*"
# (b) "docs/simulation.md §6.5" anywhere; inside docs/ also "simulation.md §6.5" and a bare "§6.5".
CITATION = re.compile(rf"(?P<file>(?:docs/)?[A-Za-z0-9_-]+\.md)[`)\]]*\s+(?P<refs>{SECTIONS})")
BARE = re.compile(SECTIONS)
NUMBER = re.compile(r"\d+(?:\.\d+)*")
HEADING = re.compile(r"^#{1,6}\s+(\d+(?:\.\d+)*)\.?(?:\s|$)", re.MULTILINE)


def repository_files() -> list[str]:
    out = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=ROOT, check=True, capture_output=True,
    ).stdout
    return sorted({name for name in out.decode().split("\0") if name})


def text_of(relative: str) -> str | None:
    path = ROOT / relative
    try:
        if not path.is_file() or path.stat().st_size > MAX_BYTES:
            return None  # moved or deleted in the working tree, or a large data file
        return path.read_bytes().decode("utf-8")
    except (OSError, UnicodeDecodeError):
        return None


FILES = {name: text for name in repository_files() if (text := text_of(name)) is not None}


def line_of(text: str, position: int) -> int:
    return text.count("\n", 0, position) + 1


def section_numbers(doc: pathlib.Path) -> set[str]:
    return set(HEADING.findall(doc.read_text(encoding="utf-8")))


def cited(refs: str) -> list[str]:
    return NUMBER.findall(refs)


def test_docs_exist():
    for name in ("README.md", "simulation.md", "training.md", "pools.md", "differences.md"):
        assert (DOCS / name).is_file(), f"docs/{name} is missing"


def test_no_reference_to_material_outside_the_repository():
    problems = []
    for name, text in FILES.items():
        if name.startswith(SKIPPED_DIRS) or name == THIS_FILE:
            continue
        for pattern in (SPEC_PATH, SPEC_NUMBER, OLD_DOCUMENT):
            for match in pattern.finditer(text):
                problems.append(f"{name}:{line_of(text, match.start())}: {match.group(0)!r}")
    assert not problems, "cite docs/<file>.md §X.Y instead:\n" + "\n".join(problems)


def _check(name: str, text: str, target: pathlib.Path, refs: str, position: int,
           headings: dict[pathlib.Path, set[str]], problems: list[str]) -> None:
    where = f"{name}:{line_of(text, position)}"
    if not target.is_file():
        problems.append(f"{where}: {target.relative_to(ROOT)} does not exist")
        return
    if target not in headings:
        headings[target] = section_numbers(target)
    for number in cited(refs):
        if number not in headings[target]:
            problems.append(f"{where}: {target.relative_to(ROOT)} has no section §{number}")


def test_every_cited_section_exists():
    problems: list[str] = []
    headings: dict[pathlib.Path, set[str]] = {}
    for name, text in FILES.items():
        in_docs = name.startswith("docs/")
        if name == THIS_FILE:
            continue
        covered = []
        for match in CITATION.finditer(text):
            file = match.group("file")
            if file.startswith("docs/"):
                target = ROOT / file
            elif in_docs:
                target = DOCS / file
            else:
                continue  # e.g. "README.md §2" of some other folder: not ours to check
            covered.append(match.span("refs"))
            _check(name, text, target, match.group("refs"), match.start(), headings, problems)
        if not in_docs:
            continue
        for match in BARE.finditer(text):
            if any(start <= match.start() < end for start, end in covered):
                continue
            _check(name, text, ROOT / name, match.group(0), match.start(), headings, problems)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("text, numbers", [
    ("see docs/simulation.md §6.4-§6.6 and §6.10", ["6.4", "6.6", "6.10"]),
    ("(docs/training.md §3.4, §3.6)", ["3.4", "3.6"]),
])
def test_citation_pattern(text, numbers):
    match = CITATION.search(text)
    assert match and cited(match.group("refs")) == numbers


@pytest.mark.parametrize("text, flagged", [
    ("Spec 6.4-6.6 and 6.10.", True),
    ("(training specification 4.1.2, with fixes)", True),
    ("training specification section 3", True),
    ("see `spec/training.md`", True),
    ("described in ../spec/training.md.", True),
    ("path: /spec/template/spec/containers/0/envFrom/-", False),
    ("for name, spec in schema.items()", False),
    ("isoformat(timespec=timespec)", False),
    ("written directly from simulation.md section 7 and", True),
    ("every return_val of simulation.md 7.2.", True),
    ("see docs/simulation.md §7.2", False),
])
def test_forbidden_patterns(text, flagged):
    patterns = (SPEC_PATH, SPEC_NUMBER, OLD_DOCUMENT)
    assert any(pattern.search(text) for pattern in patterns) is flagged
