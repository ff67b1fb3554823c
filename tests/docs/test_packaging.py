"""The three packages as published: versions, the core range, metadata, licence, built files.

Each package's version is written twice, as ``version`` in its pyproject.toml
and as ``__version__`` in its ``__init__.py``; these tests fail when the two
disagree, when the adapters' ``maintenance-core`` range excludes the core's
version, or when CHANGELOG.md has no section for it (docs/support.md states
the policy). They also build the six distributions, as a release would, and
check what is inside: .ci/run checks the files it builds (and runs twine on)
with ``python -m tests.docs.test_packaging DIR``.
"""

from __future__ import annotations

import ast
import importlib
import importlib.metadata
import re
import shutil
import subprocess
import sys
import tarfile
import textwrap
import zipfile
from email.parser import HeaderParser
from pathlib import Path
from typing import Any

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

import pytest
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.version import Version

from tests.support.servers import ROOT

PACKAGES = {
    "maintenance-core": "maintenance_core",
    "fastapi-maintenance": "fastapi_maintenance",
    "litestar-maintenance": "litestar_maintenance",
}
ADAPTERS = ("fastapi-maintenance", "litestar-maintenance")
FRAMEWORK_CLASSIFIERS = {
    "fastapi-maintenance": "Framework :: FastAPI",
    "litestar-maintenance": "Framework :: Litestar",
}
PROJECT_URLS = ("Homepage", "Documentation", "Repository", "Issues", "Changelog")
VERSION_LINE = re.compile(r'^__version__ = "([^"]+)"$', re.MULTILINE)


def pyproject(name: str) -> dict[str, Any]:
    with (ROOT / "packages" / name / "pyproject.toml").open("rb") as file:
        return tomllib.load(file)


def project(name: str) -> dict[str, Any]:
    table: dict[str, Any] = pyproject(name)["project"]
    return table


def version_of(name: str) -> str:
    value: str = project(name)["version"]
    return value


def mkdocs_setting(key: str) -> str:
    match = re.search(rf"^{key}: (\S+)$", (ROOT / "mkdocs.yml").read_text(), re.MULTILINE)
    assert match, f"mkdocs.yml sets no {key}"
    return match.group(1)


# --- one version per package, and the range between them --------------------------------------


@pytest.mark.parametrize("name", PACKAGES)
def test_dunder_version_is_the_pyproject_version(name: str) -> None:
    init = ROOT / "packages" / name / "src" / PACKAGES[name] / "__init__.py"
    found = VERSION_LINE.findall(init.read_text())
    assert found == [version_of(name)], (
        f"{init.relative_to(ROOT)} says __version__ = {found}, but "
        f"packages/{name}/pyproject.toml says version = {version_of(name)!r}: make them equal"
    )


@pytest.mark.parametrize("name", PACKAGES)
def test_installed_metadata_is_the_pyproject_version(name: str) -> None:
    installed = importlib.metadata.version(name)
    assert installed == version_of(name), (
        f"the environment has {name} {installed}, the source says {version_of(name)}: "
        "run `uv sync --all-packages`"
    )


def core_requirements(name: str) -> list[Requirement]:
    table = project(name)
    texts = list(table["dependencies"])
    for extra in table.get("optional-dependencies", {}).values():
        texts.extend(extra)
    return [r for r in map(Requirement, texts) if r.name == "maintenance-core"]


@pytest.mark.parametrize("name", ADAPTERS)
def test_adapters_require_a_compatible_range_of_the_core(name: str) -> None:
    requirements = core_requirements(name)
    assert requirements, f"{name} does not require maintenance-core"
    specifiers = {str(r.specifier) for r in requirements}
    assert len(specifiers) == 1, f"{name} requires maintenance-core as {sorted(specifiers)}"
    specifier = SpecifierSet(specifiers.pop())
    # ">=0.1.0,<0.2": from a release up to the next minor version, never one exact version.
    lower = [s for s in specifier if s.operator == ">="]
    upper = [s for s in specifier if s.operator == "<"]
    policy = f"{name} requires maintenance-core{specifier}; docs/support.md: '>=X.Y.Z,<X.(Y+1)'"
    assert len(specifier) == 2, policy
    assert len(lower) == 1, policy
    assert len(upper) == 1, policy
    low = Version(lower[0].version)
    high = Version(upper[0].version)
    assert (high.major, high.minor) == (low.major, low.minor + 1), (
        f"{name}: maintenance-core{specifier} must stop at the next minor version"
    )
    core = version_of("maintenance-core")
    assert core in specifier, (
        f"{name} requires maintenance-core{specifier}, which excludes the core's {core}"
    )


def test_changelog_has_a_section_for_each_version() -> None:
    changelog = (ROOT / "CHANGELOG.md").read_text()
    headings = re.findall(r"^## \[([^\]]+)\]", changelog, re.MULTILINE)
    for name in PACKAGES:
        assert version_of(name) in headings, (
            f"CHANGELOG.md has no '## [{version_of(name)}]' section for {name}"
        )
    for heading in headings:
        if heading != "Unreleased":
            assert re.search(rf"^\[{re.escape(heading)}\]: https://", changelog, re.MULTILINE), (
                f"CHANGELOG.md: the [{heading}] heading has no link"
            )


def test_docs_index_states_the_current_version() -> None:
    match = re.search(
        r"All three are version (\d+(?:\.\d+)+)", (ROOT / "docs" / "index.md").read_text()
    )
    if match is not None:
        assert {version_of(name) for name in PACKAGES} == {match.group(1)}


# --- metadata ---------------------------------------------------------------------------------


def test_license_is_mit_and_every_package_ships_the_same_file() -> None:
    text = (ROOT / "LICENSE").read_text()
    assert text.startswith("MIT License")
    for name in PACKAGES:
        assert (ROOT / "packages" / name / "LICENSE").read_text() == text, (
            f"packages/{name}/LICENSE differs from the root LICENSE: copy it again"
        )
        assert project(name)["license"] == "MIT"
        assert project(name)["license-files"] == ["LICENSE"]


@pytest.mark.parametrize("name", PACKAGES)
def test_metadata_is_complete(name: str) -> None:
    from trove_classifiers import classifiers as known

    table = project(name)
    assert table["authors"]
    assert table["readme"] == "README.md"
    urls = table["urls"]
    assert tuple(urls) == PROJECT_URLS
    site, repo = mkdocs_setting("site_url"), mkdocs_setting("repo_url")
    assert urls["Homepage"] == urls["Documentation"] == site
    assert urls["Changelog"] == f"{site}changelog/"
    assert urls["Repository"] == repo
    assert urls["Issues"] == f"{repo}/issues"

    classifiers = table["classifiers"]
    assert [c for c in classifiers if c not in known] == [], "unknown trove classifiers"
    assert classifiers == sorted(classifiers)
    assert "Typing :: Typed" in classifiers
    assert any(c.startswith("Development Status :: ") for c in classifiers)
    assert not any(c.startswith("License :: ") for c in classifiers), "the licence is `license`"
    if name in FRAMEWORK_CLASSIFIERS:
        assert FRAMEWORK_CLASSIFIERS[name] in classifiers
    minimum = Version(table["requires-python"].removeprefix(">="))
    pythons = [
        Version(c.rsplit(" ", 1)[-1])
        for c in classifiers
        if re.fullmatch(r"Programming Language :: Python :: 3\.\d+", c)
    ]
    assert pythons, "no Python version classifiers"
    assert min(pythons) == minimum, "the Python classifiers start at requires-python"
    assert (ROOT / "packages" / name / "src" / PACKAGES[name] / "py.typed").is_file()


def test_support_page_names_the_tested_versions() -> None:
    page = (ROOT / "docs" / "support.md").read_text()
    script = (ROOT / "scripts" / "test").read_text()
    lock = tomllib.loads((ROOT / "uv.lock").read_text())
    locked: dict[str, set[str]] = {}
    for package in lock["package"]:
        locked.setdefault(package["name"], set()).add(package["version"])
    rows = {
        m.group(1): (m.group(2), m.group(3))
        for m in re.finditer(r"^\| (FastAPI|Starlette|Litestar) \| (\S+) \| (\S+) \|", page, re.M)
    }
    assert set(rows) == {"FastAPI", "Starlette", "Litestar"}
    for framework, (oldest, lock_version) in rows.items():
        variable = "OLDEST_LITESTAR" if framework == "Litestar" else f"OLDEST_{framework.upper()}"
        assert f'{variable}="{oldest}"' in script, f"scripts/test tests {framework} {oldest}?"
        assert lock_version in locked[framework.lower()], (
            f"uv.lock has no {framework} {lock_version}"
        )
    assert f"fastapi>={rows['FastAPI'][0]}" in project("fastapi-maintenance")["dependencies"]
    assert f"litestar>={rows['Litestar'][0]}" in project("litestar-maintenance")["dependencies"]


# --- the API reference covers the public API ---------------------------------------------------

REFERENCE_PAGES = {
    "maintenance_core": "maintenance-core.md",
    "maintenance_core.adapter": "adapter.md",
    "maintenance_core.testing": "testing.md",
    "maintenance_core.events": "maintenance-core.md",
    "maintenance_core.metrics": "maintenance-core.md",
    "fastapi_maintenance": "fastapi-maintenance.md",
    "litestar_maintenance": "litestar-maintenance.md",
}


@pytest.mark.parametrize("module", REFERENCE_PAGES)
def test_api_reference_covers_every_public_name(module: str) -> None:
    page = (ROOT / "docs" / "reference" / REFERENCE_PAGES[module]).read_text()
    public = importlib.import_module(module).__all__
    block = re.search(rf"^::: {re.escape(module)}\n((?:    .*\n)*)", page, re.MULTILINE)
    assert block, f"docs/reference/{REFERENCE_PAGES[module]} renders no '::: {module}'"
    members = re.search(r"^      members:\n((?:        - .*\n)+)", block.group(1), re.MULTILINE)
    if members is None:
        return  # the whole of __all__ is rendered
    covered = set(re.findall(r"- (\w+)", members.group(1)))
    covered |= set(re.findall(r"`(\w+)`", page))  # named in the page's text, documented elsewhere
    missing = [name for name in public if name not in covered and name != "__version__"]
    assert missing == [], f"{module}: public names the API reference leaves out"


# --- the READMEs are the PyPI pages ------------------------------------------------------------


@pytest.mark.parametrize("name", PACKAGES)
def test_readme_links_to_pages_that_exist_and_its_code_compiles(name: str) -> None:
    text = (ROOT / "packages" / name / "README.md").read_text()
    site, repo = mkdocs_setting("site_url"), mkdocs_setting("repo_url")
    links = re.findall(r"\]\((https?://[^)\s]+)\)", text)
    assert f"{site}support/" in links, "the README links to the support policy"
    assert f"{site}changelog/" in links
    for link in links:
        assert link.startswith((site, repo, "https://pypi.org/project/", "https://litestar.dev")), (
            f"{link}: another address than the documented site, repository or PyPI"
        )
        if link.startswith(site):
            page = link.removeprefix(site).split("#")[0].rstrip("/")
            candidates = [ROOT / "docs" / f"{page}.md", ROOT / "docs" / page / "index.md"]
            assert any(p.is_file() for p in candidates), f"{link}: no such page in docs/"
    for block in re.findall(r"```python\n(.*?)```", text, re.DOTALL):
        compile(textwrap.dedent(block), f"{name}/README.md", "exec", ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)


# --- the built distributions -------------------------------------------------------------------


def distribution_problems(directory: Path) -> list[str]:
    """What is wrong with the six distributions in *directory* (nothing: ``[]``)."""
    problems: list[str] = []
    license_text = (ROOT / "LICENSE").read_text()
    for name, module in PACKAGES.items():
        stem = f"{module}-{version_of(name)}"
        wheel_path = directory / f"{stem}-py3-none-any.whl"
        sdist_path = directory / f"{stem}.tar.gz"
        missing = [p.name for p in (wheel_path, sdist_path) if not p.is_file()]
        if missing:
            problems += [f"{m}: not built" for m in missing]
            continue

        with zipfile.ZipFile(wheel_path) as wheel:
            members = wheel.namelist()
            dist_info = f"{stem}.dist-info"
            if f"{dist_info}/licenses/LICENSE" not in members:
                problems.append(f"{wheel_path.name}: no {dist_info}/licenses/LICENSE")
            elif wheel.read(f"{dist_info}/licenses/LICENSE").decode() != license_text:
                problems.append(f"{wheel_path.name}: the LICENSE is not the root LICENSE")
            metadata = wheel.read(f"{dist_info}/METADATA").decode()
        allowed = (f"{module}/", f"{dist_info}/")
        problems += [f"{wheel_path.name}: {m}" for m in members if not m.startswith(allowed)]
        problems += [f"{wheel_path.name}: {m}" for m in members if m.endswith((".pyc", ".orig"))]
        if f"{module}/py.typed" not in members:
            problems.append(f"{wheel_path.name}: no py.typed")
        problems += [f"{wheel_path.name}: {p}" for p in metadata_problems(name, metadata)]

        with tarfile.open(sdist_path) as sdist:
            files = {m.name.removeprefix(f"{stem}/") for m in sdist.getmembers() if m.isfile()}
            if "LICENSE" in files:
                license_member = sdist.extractfile(f"{stem}/LICENSE")
                if license_member is None or license_member.read().decode() != license_text:
                    problems.append(f"{sdist_path.name}: the LICENSE is not the root LICENSE")
        top = {"PKG-INFO", "pyproject.toml", "README.md", "LICENSE"}
        stray = sorted(
            f
            for f in files
            if f not in top
            and not (f.startswith(f"src/{module}/") and f.endswith((".py", "py.typed")))
        )
        problems += [f"{sdist_path.name}: {f} (a build leftover?)" for f in stray]
        problems += [f"{sdist_path.name}: {f} missing" for f in sorted(top - files)]
    return problems


def metadata_problems(name: str, metadata: str) -> list[str]:
    message = HeaderParser().parsestr(metadata)
    problems = []
    expected = {
        "Name": name,
        "Version": version_of(name),
        "License-Expression": "MIT",
        "License-File": "LICENSE",
        "Description-Content-Type": "text/markdown",
    }
    for field, value in expected.items():
        if message.get(field) != value:
            problems.append(f"{field} is {message.get(field)!r}, not {value!r}")
    labels = [url.split(",")[0] for url in message.get_all("Project-URL", [])]
    if sorted(labels) != sorted(PROJECT_URLS):
        problems.append(f"Project-URL labels are {labels}")
    for text in message.get_all("Requires-Dist", []):
        requirement = Requirement(text)
        if requirement.name == "maintenance-core" and any(
            s.operator in ("==", "===") for s in requirement.specifier
        ):
            problems.append(f"an exact pin: {text}")
    return problems


@pytest.mark.skipif(shutil.which("uv") is None, reason="uv builds the distributions")
def test_built_distributions_carry_the_licence_and_nothing_stray(tmp_path: Path) -> None:
    subprocess.run(
        ["uv", "build", "--all-packages", "--quiet", "--out-dir", str(tmp_path)],
        cwd=ROOT,
        check=True,
        timeout=300,
    )
    built = sorted(p.name for p in tmp_path.iterdir() if p.name.endswith((".whl", ".tar.gz")))
    assert len(built) == 6, built
    assert distribution_problems(tmp_path) == []


if __name__ == "__main__":
    # .ci/run: python -m tests.docs.test_packaging DIR checks the distributions built in DIR.
    found = distribution_problems(Path(sys.argv[1]))
    for problem in found:
        print(f"packaging: {problem}", file=sys.stderr)
    if not found:
        print(f"packaging: the six distributions in {sys.argv[1]} are as published")
    sys.exit(1 if found else 0)
