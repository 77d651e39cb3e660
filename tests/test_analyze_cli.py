"""analyze's first-hour edges: where plots go, same-stem inputs, outputs checked first."""
from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
import soundfile as sf

from resonator.cli import main
from resonator.commands.analyze import plot_paths

SR = 11025


def clicks(path, bpm=120.0, seconds=8.0):
    x = np.zeros(int(seconds * SR))
    hit = np.exp(-np.arange(400) / 60.0) * np.sin(2 * np.pi * 800 * np.arange(400) / SR)
    for t in np.arange(0.25, seconds - 0.1, 60.0 / bpm):
        k = int(t * SR)
        x[k:k + hit.size] += hit[: x.size - k]
    sf.write(path, 0.5 * x, SR)
    return path


def test_plot_names_never_collide():
    files = ["a/x.wav", "b/x.wav", "c/x.flac", "d/y.wav"]
    assert plot_paths(files, "p") == ["p/x.wav.png", "p/x.wav-2.png", "p/x.flac.png", "p/y.png"]
    assert plot_paths(["a/x.wav"], "one.png") == ["one.png"]


def test_plot_to_a_file_and_the_message_says_where(tmp_path, capsys):
    a = clicks(tmp_path / "a.wav")
    assert main(["analyze", str(a), "--no-loudness", "--plot", str(tmp_path / "x.png")]) == 0
    assert (tmp_path / "x.png").is_file()  # a picture, not a folder named x.png
    assert (tmp_path / "x.png").read_bytes()[:4] == b"\x89PNG"
    cap = capsys.readouterr()
    assert f"  plot {tmp_path / 'x.png'}" in cap.out
    assert f"resonator analyze: 1 plot written to {tmp_path / 'x.png'}" in cap.err


def test_same_stem_inputs_get_two_plots(tmp_path, capsys):
    (tmp_path / "one").mkdir()
    (tmp_path / "two").mkdir()
    a = clicks(tmp_path / "one" / "s.wav", bpm=100)
    b = clicks(tmp_path / "two" / "s.wav", bpm=140)
    plots = tmp_path / "plots"
    assert main(["analyze", str(a), str(b), "--no-loudness", "--plot", str(plots)]) == 0
    assert sorted(os.listdir(plots)) == ["s.wav-2.png", "s.wav.png"]
    assert (plots / "s.wav.png").read_bytes() != (plots / "s.wav-2.png").read_bytes()
    assert f"resonator analyze: 2 plots written to {plots}" in capsys.readouterr().err


@pytest.mark.parametrize("args, message", [
    (["{b}", "--plot", "{d}/one.png"], "--plot {d}/one.png: names one picture but 2 files are "
                                       "analyzed: give a folder for one plot per file"),
    (["--json", "{a}"], "--json {a}: the extension '.wav' is not supported; allowed: .json"),
    (["--plot", "{d}/p.jpg"], "--plot {d}/p.jpg: the extension '.jpg' is not a picture format "
                              "(.png, .svg, .pdf); for one plot per file give a folder name "
                              "without an extension"),
    (["--csv", "{d}/r.json", "--json", "{d}/r.json"], "--csv {d}/r.json: the extension '.json' "
                                                      "is not supported; allowed: .csv"),
    (["--json", "{d}/no/r.json"], "--json {d}/no/r.json: the folder {d}/no does not exist"),
    (["--plot", "{a}/p"], "--plot {a}/p: {a} is a file, not a folder"),
    (["--plot", "{d}/p.v2"], None),  # a folder named p.v2 is fine: it is created
])
def test_outputs_are_checked_before_any_analysis(tmp_path, capsys, monkeypatch, args, message):
    import resonator.analysis as analysis

    a = clicks(tmp_path / "a.wav")
    b = clicks(tmp_path / "b.wav")
    called = []
    monkeypatch.setattr(analysis, "analyze_file", lambda *x, **k: called.append(x) or
                        (_ for _ in ()).throw(RuntimeError("analysed")))
    fill = {"d": tmp_path, "a": a, "b": b}
    argv = ["analyze", str(a)] + [x.format(**fill) for x in args]
    before = sorted(os.listdir(tmp_path))
    rc = main(argv)
    err = capsys.readouterr().err
    if message is None:
        assert (tmp_path / "p.v2").is_dir()
        return
    assert rc == 2
    assert called == []
    assert f"resonator analyze: error: {message.format(**fill)}" in err
    assert "Traceback" not in err
    assert sorted(os.listdir(tmp_path)) == before


def test_summary_into_head_does_not_stop_the_json(tmp_path):
    a = clicks(tmp_path / "a.wav")
    b = clicks(tmp_path / "b.wav", bpm=90)
    p = subprocess.Popen([sys.executable, "-m", "resonator.cli", "analyze", str(a), str(b),
                          "--no-loudness", "--json", str(tmp_path / "r.json")],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    p.stdout.read(5)
    p.stdout.close()
    err = p.stderr.read().decode()
    assert p.wait(timeout=300) == 0
    assert "Traceback" not in err and "Broken" not in err
    import json

    assert len(json.loads((tmp_path / "r.json").read_text())) == 2


def test_a_run_that_analyzes_nothing_writes_no_report(tmp_path, capsys, monkeypatch):
    """It wrote an empty '[]' JSON (and a header-only CSV) before saying it failed."""
    monkeypatch.chdir(tmp_path)
    assert main(["analyze", "missing.wav", "--json", "a.json", "--csv", "a.csv"]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err == ["resonator analyze: skipped: missing.wav: no such file or folder",
                   "resonator analyze: error: missing.wav: no file could be analyzed (see the "
                   "messages above)"]
    assert list(tmp_path.iterdir()) == []


def test_a_stale_build_ends_a_run_once_not_once_per_file(tmp_path, capsys, monkeypatch):
    import resonator.analysis as analysis
    from resonator.errors import KernelsUnavailable

    for name in ("a.wav", "b.wav"):
        sf.write(tmp_path / name, np.zeros((4800, 2)), 48000)

    def stale(*a, **k):
        raise KernelsUnavailable("resonator's compiled kernels were built from another version")
    monkeypatch.setattr(analysis, "analyze_file", stale)
    assert main(["analyze", str(tmp_path / "a.wav"), str(tmp_path / "b.wav")]) == 2
    assert capsys.readouterr().err == ("resonator analyze: error: resonator's compiled kernels "
                                       "were built from another version\n")
