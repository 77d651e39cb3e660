"""The built wheel works in a clean virtual environment: the recipes are inside it, the
``resonator`` command runs, a shipped recipe renders by name.

Offline: the wheel is built from this checkout with the test environment's setuptools (no build
isolation, nothing downloaded); the clean venv gets the wheel without dependencies and reaches
the test environment's numpy, scipy, ... through a ``.pth`` file listing its site-packages (but
not its editable resonator), so only the wheel provides ``resonator``.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import tomllib
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def source(tmp_path_factory) -> Path:
    """A copy of the checkout as a fresh clone has it (links kept; no venv, no build output),
    so building writes nothing into the checkout."""
    dst = tmp_path_factory.mktemp("src") / "resonator"
    shutil.copytree(ROOT, dst, symlinks=True, ignore=shutil.ignore_patterns(
        ".git", ".venv", "build", "*.egg-info", "renders", "__pycache__", ".pytest_cache",
        ".hypothesis", "out", "tests", "docs", "*.so"))
    assert (dst / "src" / "resonator" / "recipes").is_symlink()
    return dst


@pytest.fixture(scope="module")
def wheel(tmp_path_factory, source) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    r = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                        "--no-index", "-q", "-w", str(out), str(source)],
                       capture_output=True, text=True, cwd=out,
                       env=dict(os.environ, PIP_FIND_LINKS=""))
    assert r.returncode == 0, r.stderr[-3000:]
    (whl,) = out.glob("*.whl")
    return whl


def test_the_distribution_name_is_not_pypis_resonator():
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert meta["name"] == "resonator-entrainment"
    assert meta["scripts"]["resonator"] == "resonator.cli:main"


def test_the_wheel_holds_every_shipped_recipe(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    shipped = sorted(p.name for p in (ROOT / "recipes").glob("*.toml"))
    assert shipped  # the repository's recipes/ folder
    assert sorted(n.split("/")[-1] for n in names if n.startswith("resonator/recipes/")
                  and n.endswith(".toml")) == shipped
    assert wheel.name.startswith("resonator_entrainment-")


def test_the_wheel_holds_the_compiled_kernels_and_the_sdist_their_source(wheel, source,
                                                                        tmp_path):
    names = zipfile.ZipFile(wheel).namelist()
    assert [n for n in names if n.startswith("resonator/_kernels.") and n.endswith(".so")]
    assert "-linux_" in wheel.name or "-manylinux" in wheel.name  # a platform wheel
    r = subprocess.run([sys.executable, "-c", "import sys, setuptools.build_meta as b; "
                        "print(b.build_sdist(sys.argv[1]))", str(tmp_path)],
                       capture_output=True, text=True, cwd=source)
    assert r.returncode == 0, r.stderr[-3000:]
    import tarfile

    members = tarfile.open(tmp_path / r.stdout.split()[-1]).getnames()
    root = members[0].split("/")[0]
    assert {f"{root}/setup.py", f"{root}/src/resonator/_kernels.c"} <= set(members)
    assert not [m for m in members if m.endswith(".so")]


def _clean_venv(path: Path) -> Path:
    """A new venv with pip whose only view of the test environment is its site-packages
    (numpy, scipy, ...) through a .pth file; returns its python."""
    venv.EnvBuilder(with_pip=True).create(path)
    py = path / "bin" / "python"
    site = subprocess.run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()"
                           "['purelib'])"], capture_output=True, text=True, check=True)
    (Path(site.stdout.strip()) / "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    # its own (older) setuptools would shadow the test environment's, which builds offline
    subprocess.run([str(py), "-m", "pip", "uninstall", "-y", "-q", "setuptools"], check=True,
                   capture_output=True)
    return py


OFFLINE = ["--no-deps", "--no-index", "--no-build-isolation", "-q"]


@pytest.mark.parametrize("what", ["wheel", "source"])
def test_a_clean_venv_lists_and_renders_a_shipped_recipe(wheel, source, tmp_path, what):
    """pip install of the built wheel, and pip install . of the checkout (a copy without the
    test environment's editable install), both give a working command with the recipes."""
    py = _clean_venv(tmp_path / "venv")
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PIP_FIND_LINKS")}
    target = str(wheel) if what == "wheel" else str(source)
    r = subprocess.run([str(py), "-m", "pip", "install", *OFFLINE, target], capture_output=True,
                       text=True, env=env, cwd=tmp_path)
    assert r.returncode == 0, r.stderr[-3000:]
    work = tmp_path / "work"
    work.mkdir()
    where = subprocess.run([str(py), "-c", "import resonator; print(resonator.__file__)"],
                           capture_output=True, text=True, cwd=work, env=env, check=True)
    assert str(tmp_path / "venv") in where.stdout  # the installed copy, not the checkout
    resonator = tmp_path / "venv" / "bin" / "resonator"
    r = subprocess.run([str(resonator), "recipes"], capture_output=True, text=True, cwd=work,
                       env=env)
    assert r.returncode == 0, r.stderr
    assert [ln.split()[0] for ln in r.stdout.splitlines()] == sorted(
        p.stem for p in (ROOT / "recipes").glob("*.toml"))
    r = subprocess.run([str(resonator), "render", "focus", "--duration", "2s", "--rate", "16000",
                        "--no-normalize", "-q"], capture_output=True, text=True, cwd=work,
                       env=env)
    assert r.returncode == 0, r.stderr
    import soundfile as sf

    info = sf.info(str(work / "renders" / "focus_0s-2s.wav"))
    assert (info.frames, info.samplerate) == (32000, 16000)
