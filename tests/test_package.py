"""Packaging checks: light imports, import time, version, installed copy.

The import checks run in fresh subprocesses, so what an earlier test (or
conftest) imported cannot hide a heavy import. The subprocesses import the
same copy of kerasette as this process (source tree or site-packages).

The installed-copy checks run only under `.ci/run`, which sets
KERASETTE_CI_INSTALLED=1 after `pip install ".[test]"` into a fresh venv.
"""

from __future__ import annotations

import configparser
import os
import re
import statistics
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

import kerasette

REPO = Path(__file__).resolve().parent.parent
SOURCE_PACKAGE = REPO / "kerasette"
IMPORTED_PACKAGE = Path(kerasette.__file__).resolve().parent

HEAVY_MODULES = ("matplotlib", "scipy", "cupy", "cupyx", "torch", "tensorflow", "pandas")
IMPORT_BUDGET_S = 0.4

# PEP 440, appendix B: canonical public version identifiers.
PEP440_CANONICAL = re.compile(
    r"^([1-9][0-9]*!)?(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))*"
    r"((a|b|rc)(0|[1-9][0-9]*))?(\.post(0|[1-9][0-9]*))?(\.dev(0|[1-9][0-9]*))?$"
)

in_ci_install = pytest.mark.skipif(
    os.environ.get("KERASETTE_CI_INSTALLED") != "1",
    reason="installed-package check; runs under .ci/run (KERASETTE_CI_INSTALLED=1)",
)


@pytest.fixture(autouse=True)
def backend():
    """Overrides conftest's per-backend fixture: these checks run once."""
    yield None


def _run_python(code: str, tmp_path: Path, *flags: str) -> subprocess.CompletedProcess:
    """Runs `code` in a fresh interpreter that imports this kerasette copy."""
    env = dict(os.environ)
    env.pop("KERASETTE_BACKEND", None)  # check the default backend
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(IMPORTED_PACKAGE.parent), env.get("PYTHONPATH")) if p
    )
    proc = subprocess.run(
        [sys.executable, *flags, "-c", code],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, (
        f"subprocess failed (exit {proc.returncode}).\n"
        f"stdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
    )
    return proc


def _slowest_imports(tmp_path: Path, count: int = 10) -> str:
    """The modules `import kerasette` spends most time on (-X importtime)."""
    code = "import numpy, h5py, sys\nprint('@@kerasette', file=sys.stderr)\nimport kerasette\n"
    stderr = _run_python(code, tmp_path, "-X", "importtime").stderr
    rows = []
    for line in stderr.split("@@kerasette", 1)[-1].splitlines():
        parts = line.split("|")
        if len(parts) == 3 and parts[1].strip().isdigit():
            rows.append((int(parts[1]), parts[2].strip()))
    rows.sort(reverse=True)
    return "\n".join(f"  {us / 1e6:.3f} s  {name}" for us, name in rows[:count])


def test_import_does_not_pull_in_heavy_modules(tmp_path):
    code = (
        "import sys, kerasette\n"
        f"heavy = {HEAVY_MODULES!r}\n"
        "print(kerasette.__file__)\n"
        "print(','.join(sorted(m for m in sys.modules if m.split('.')[0] in heavy)))\n"
    )
    imported_from, loaded = _run_python(code, tmp_path).stdout.splitlines()
    assert Path(imported_from).resolve().parent == IMPORTED_PACKAGE
    assert loaded == "", (
        f"`import kerasette` imported {loaded}; these must load lazily, "
        "only when the feature that needs them is used"
    )


def test_import_time_on_top_of_numpy_and_h5py(tmp_path):
    code = (
        "import time\n"
        "import numpy, h5py\n"
        "t0 = time.perf_counter()\n"
        "import kerasette\n"
        "print(time.perf_counter() - t0)\n"
    )
    times = [float(_run_python(code, tmp_path).stdout) for _ in range(3)]
    median = statistics.median(times)
    assert median < IMPORT_BUDGET_S, (
        f"`import kerasette` adds {median:.3f} s after numpy and h5py "
        f"(runs: {', '.join(f'{t:.3f}' for t in times)}); budget {IMPORT_BUDGET_S} s. "
        f"Slowest imports (cumulative):\n{_slowest_imports(tmp_path)}"
    )


def test_version_is_a_pep440_string():
    version = kerasette.__version__
    assert isinstance(version, str) and version, version
    assert PEP440_CANONICAL.match(version), (
        f"kerasette.__version__ must be a canonical PEP 440 version. Received: {version!r}"
    )


def test_setup_cfg_takes_the_version_from_the_package():
    setup_cfg = REPO / "setup.cfg"
    if not setup_cfg.is_file():
        pytest.skip("no setup.cfg beside the tests")
    config = configparser.ConfigParser()
    config.read(setup_cfg, encoding="utf-8")
    assert config.get("metadata", "version").strip() == "attr: kerasette.__version__"


@in_ci_install
def test_installed_metadata_matches_version():
    from importlib.metadata import version

    assert version("kerasette") == kerasette.__version__


@in_ci_install
def test_tests_import_the_installed_copy():
    site_dirs = {
        Path(sysconfig.get_paths()[key]).resolve() for key in ("purelib", "platlib")
    }
    assert any(IMPORTED_PACKAGE.is_relative_to(d) for d in site_dirs), (
        f"kerasette was imported from {IMPORTED_PACKAGE}, not from the venv's "
        f"site-packages {sorted(map(str, site_dirs))}; is the source tree on sys.path?"
    )
    assert IMPORTED_PACKAGE != SOURCE_PACKAGE.resolve()


@in_ci_install
def test_installed_copy_has_every_source_file():
    """Catches subpackages missing `__init__.py` and data left out of the wheel."""

    def files(root: Path) -> set[str]:
        found = {p for p in root.rglob("*.py") if "__pycache__" not in p.parts}
        found |= set(root.glob("datasets/*.csv"))
        return {p.relative_to(root).as_posix() for p in found}

    missing = sorted(files(SOURCE_PACKAGE) - files(IMPORTED_PACKAGE))
    assert not missing, (
        f"files in the source tree but not in the installed package: {missing}. "
        "Does every package folder have an __init__.py, and is data listed "
        "under [options.package_data] in setup.cfg?"
    )
