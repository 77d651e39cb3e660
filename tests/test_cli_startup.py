"""The command line starts fast: no librosa (numba compile), no matplotlib, at import or --help."""
import subprocess
import sys

import pytest

HEAVY = ("librosa", "matplotlib", "pedalboard", "starlette", "uvicorn", "dask", "distributed")


def _modules_after(code: str) -> set[str]:
    # the modules after a marker: help texts printed before it name libraries too
    out = subprocess.run([sys.executable, "-c", code + "\nimport sys\nprint('@@ ' + ' '.join(sys.modules))"],
                         capture_output=True, text=True, check=True).stdout
    return set(out.rsplit("@@ ", 1)[1].split())


@pytest.mark.parametrize("code", [
    "import resonator",
    "import resonator.cli as c\ntry:\n    c.main(['--help'])\nexcept SystemExit as e:\n    assert e.code == 0",
    "import resonator.cli as c\nfor sub in ('render', 'plan', 'check', 'analyze', 'sweep', 'import', 'schema', 'studio'):\n"
    "    try:\n        c.main([sub, '--help'])\n    except SystemExit:\n        pass",
])
def test_startup_imports_nothing_heavy(code):
    loaded = _modules_after(code)
    assert not [m for m in HEAVY if m in loaded]


def test_help_lists_every_command_with_an_example():
    p = subprocess.run([sys.executable, "-m", "resonator.cli", "--help"], capture_output=True,
                       text=True)
    assert p.returncode == 0
    for name in ("render", "plan", "analyze", "sweep", "import", "schema", "studio"):
        assert f"  resonator {name} " in p.stdout  # one real example line each
