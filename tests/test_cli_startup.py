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


def test_rendering_imports_neither_numba_nor_scipy(tmp_path):
    """The render path runs on the compiled kernels (resonator._kernels): numba's import,
    registries and kernel loading (about 0.8 s) and scipy stay out of a render; a WAV is
    written without soundfile (and the ctypes, subprocess and platform it loads) and the
    library versions without importlib.metadata; nothing calls the numpy functions that
    import numpy.ma on first use (np.unique, np.median, np.percentile: 8 ms)."""
    sbg = tmp_path / "bench.sbg"
    sbg.write_text("-SE\nbench: pink/40 200+10/20\n00:00:00 bench\n00:00:03 bench\n")
    # and a recipe whose values follow the temperature (sampled control curves)
    toml = tmp_path / "warm.toml"
    toml.write_text('title = "w"\nfade_in = "0.5s"\nfade_out = "0.5s"\n[temperature]\nstart = 0.0\n[[phase]]\nname = "a"\n'
                    'duration = "3s"\ntemperature = { to = 1.0, schedule = "sigmoid" }\n'
                    '[[layer]]\nname = "b"\nkind = "binaural"\n'
                    'beat = { temperature = "4..8 Hz" }\n')
    code = ("import sys\nfrom resonator import cli\n"
            f"assert cli.main(['render', {str(sbg)!r}, '-o', {str(tmp_path / 'b.wav')!r}, '-q']) == 0\n"
            f"assert cli.main(['render', {str(toml)!r}, '-o', {str(tmp_path / 'w.wav')!r}, '-q']) == 0\n"
            "print(' '.join(sys.modules))")
    loaded = set(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                check=True, cwd=tmp_path).stdout.split())
    assert "resonator._kernels" in loaded and (tmp_path / "b.wav").stat().st_size > 500_000
    assert not [m for m in ("numba", "scipy", "llvmlite", "soundfile", "importlib.metadata",
                            "numpy.ma") if m in loaded]


def test_a_recipe_with_targets_renders_without_scipy(tmp_path):
    """Loading validates [[target]] tables through the check target kinds; their measuring
    modules import scipy only when a target is measured (resonator._lazy)."""
    code = ("import sys\nfrom resonator import cli\n"
            "assert cli.main(['render', 'theta-pulse', '--duration', '1s', '--no-normalize', "
            f"'-o', {str(tmp_path / 't.wav')!r}, '-q']) == 0\n"
            "import resonator.check.kinds as k; assert 'binaural_beat' in k.TARGET_KINDS\n"
            "print(' '.join(sys.modules))")
    loaded = set(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                check=True, cwd=tmp_path).stdout.split())
    assert "resonator.check.kinds.tones" in loaded and "scipy" not in loaded
    # a recipe (not a .sbg sequence) leaves the SBaGen importer out too (15 ms of dataclasses)
    assert not [m for m in loaded if m.startswith("resonator.sbg")]
    from resonator.measure import spectrum

    assert spectrum.signal.sosfilt.__module__.startswith("scipy.signal")  # imported on use


def test_the_first_music_frames_need_neither_scipy_nor_an_analysis(tmp_path):
    """mettannealing-music's first frames with an empty cache (the estimate, a prefetched
    tempo stretch): the bundled grooves' analysis ships with them, resampling and the
    binaural shift run without scipy (0.7 s of imports before the first sound)."""
    import os

    code = ("import sys\nfrom resonator.playback import SessionStream\n"
            "s = SessionStream('mettannealing-music', start_s=1200, measure=False)\n"
            "x = s.read(4096)\nassert s.mastering.estimated and abs(x).max() > 0\n"
            "print('@@ ' + ' '.join(sys.modules))")
    env = dict(os.environ, RESONATOR_CACHE_DIR=str(tmp_path / "empty"))
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                       check=True, cwd=tmp_path, env=env)
    loaded = set(p.stdout.rsplit("@@ ", 1)[1].split())
    assert "resonator.music.stretch" in loaded and "analysing" not in p.stderr
    assert not [m for m in ("scipy", "numba", "librosa") if m in loaded]
