"""What the pictures contain (axes, labels, ticks, where values are drawn, colours of pixels)
and what the progress bars say: the plan plot, the analyze plot, progress on a terminal."""
from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest

RECIPES = Path(__file__).resolve().parent.parent / "recipes"
SBG = Path(__file__).resolve().parent / "data" / "sbg"


def axes_by_label(fig):
    return {a.get_label(): a for a in fig.axes}


def png_pixels(fig):
    import matplotlib.image as mpimg

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    buf.seek(0)
    return mpimg.imread(buf)


def pixel_of(fig, ax, x, y_frac):
    """(row, col) in the saved PNG of data x and axes-fraction y (dpi 100)."""
    px, py = ax.transData.transform((x, 0))[0], ax.transAxes.transform((0, y_frac))[1]
    scale = 100.0 / fig.dpi
    h = fig.get_size_inches()[1] * 100
    return int(round(h - py * scale)), int(round(px * scale))


# ------------------------------------------------------------------------------ plan
def test_plan_plot_draws_layers_only_where_they_sound():
    import matplotlib.pyplot as plt

    from resonator.recipe.plan_plot import plan_figure

    fig = plan_figure(RECIPES / "mettannealing.toml", points=800)
    ax = axes_by_label(fig)
    assert list(ax)[:3] == ["phases", "temperature", "layers"]
    assert [t.get_text() for t in ax["phases"].texts] == ["energize", "metta", "cool"]
    layers = ax["layers"]
    rows = sorted(zip(layers.get_yticks(), (t.get_text() for t in layers.get_yticklabels())))
    assert [name for _, name in rows] == [  # top to bottom in recipe order
        "air (noise)", "breath (breath)", "beat (binaural)", "warm (drone)", "gamma (gamma)",
        "wimhof (breath)"]
    # gamma plays in energize (0-10 min) only: its gain is drawn there and nowhere else
    x, y = ax["gamma > gain"].lines[0].get_data()
    assert np.all(np.isfinite(y[(x > 0.5) & (x < 9.5)])) and np.all(np.isnan(y[x > 10.5]))
    assert y[np.isfinite(y)].min() == pytest.approx(-40.0, abs=0.1)
    # the breath patterns are drawn, named, with their pace
    assert ax["breath: wimhof"].get_title().startswith('breath "wimhof": wim-hof')
    assert "resonance" in ax["breath: breath"].get_title()
    # the close-ups say where they start as a clock ("9.83 minutes" before)
    assert ax["breath: wimhof"].get_xlabel() == "seconds from 0:00"
    assert ax["breath: breath"].get_xlabel() == "seconds from 9:50"
    # constant values get no axes (beat's carrier is 220 Hz throughout)
    assert "beat > carrier" not in ax and "beat > beat" in ax
    plt.close(fig)


def test_plan_plot_of_a_long_sequence_has_readable_phase_labels():
    import matplotlib.pyplot as plt

    from resonator.recipe.plan_plot import plan_figure

    fig = plan_figure("/work/shared/sbg/sbagen-1.4.5/contrib/ng-1.sbg"
                      if Path("/work/shared/sbg").is_dir() else SBG / "ch-einstein.sbg",
                      points=600)
    phases = axes_by_label(fig)["phases"]
    fig.canvas.draw()
    r = fig.canvas.get_renderer()
    boxes = sorted((t.get_window_extent(r) for t in phases.texts), key=lambda b: b.x0)
    assert boxes, "no phase label at all"
    assert all(a.x1 < b.x0 for a, b in zip(boxes, boxes[1:]))  # no label overlaps another
    assert "temperature" not in axes_by_label(fig)  # it never moves in an imported sequence
    plt.close(fig)


def test_plan_plot_masks_a_voice_switched_off_by_its_level(tmp_path):
    import matplotlib.pyplot as plt

    from resonator.recipe.plan_plot import plan_figure

    seq = tmp_path / "two.sbg"
    seq.write_text("a: 200+10/40\nb: 300+4/40\nNOW a\n+00:02:00 b\n+00:04:00 a\n")
    fig = plan_figure(seq, points=600)
    ax = axes_by_label(fig)
    beat = next(a for k, a in ax.items() if k.endswith("> beat"))
    x, y = beat.lines[0].get_data()
    assert np.isnan(y).any() and np.isfinite(y).any()
    plt.close(fig)


def test_plan_text_leaves_out_parameters_that_do_not_apply():
    from resonator.recipe import format_plan, plan

    text = format_plan(plan(RECIPES / "mettannealing.toml", lints=False))
    gamma = text.split("gamma (gamma)")[1].split("\n  warm")[0]
    assert "source = tone" in gamma and "pip_s" not in gamma     # mode am
    breath = text.split("breath (breath) in metta")[1].split("\n  air")[0]
    assert "ratio = 4:6" in breath and "hold_s" not in breath and "cue_level" not in breath
    assert "mod_rate" not in text.split("air (noise)")[1]        # no modulation: no rate
    assert "rounds = 3" in text.split("wimhof (breath)")[1].split("\n  gamma")[0]


# ------------------------------------------------------------------------------ analyze
def _analysis(seconds, sr=11025, period_s=0.6):
    from resonator.analysis.features import features_from_signal
    from resonator.analysis.report import _analyze

    t = np.arange(int(seconds * sr)) / sr
    x = 0.01 * np.random.default_rng(0).standard_normal(t.size)
    n = int(0.15 * sr)
    tt = np.arange(n) / sr
    kick = 0.6 * np.exp(-tt / 0.04) * np.sin(2 * np.pi * 60 * tt)
    for b in np.arange(0.3, seconds - 0.2, period_s):
        i = int(b * sr)
        x[i:i + n] += kick[: x.size - i]
    return _analyze(features_from_signal(x, sr, peaks=True), keep_acf=True, release=False)


def test_analyze_plot_axes_beats_and_plain_numbers():
    import matplotlib.pyplot as plt
    from matplotlib.colors import to_rgb

    from resonator.analysis.plot import BEAT_COLOUR, TEMPO_TICKS_BPM, analysis_figure

    report, internals = _analysis(40.0)
    fig = analysis_figure(report, internals)
    ax = axes_by_label(fig)
    assert list(ax) == ["waveform", "beats", "tempogram", "modulation"]
    tg = ax["tempogram"]
    assert tg.get_ylim() == pytest.approx((30.0, 400.0))
    fig.canvas.draw()
    assert [t.get_text() for t in tg.get_yticklabels()] == [str(b) for b in TEMPO_TICKS_BPM]
    assert [t.get_text() for t in ax["modulation"].get_xticklabels()][:4] == ["0.5", "1", "2",
                                                                            "4"]
    # the close-up draws each beat as a line, at the beat times
    beats = np.asarray(internals["beats"])
    lines = ax["beats"].collections[-1]
    xs = np.array([seg[0, 0] for seg in lines.get_segments()])
    lo, hi = ax["beats"].get_xlim()
    np.testing.assert_allclose(xs, beats[(beats >= lo) & (beats <= hi)])
    assert xs.size >= 15 and report["tempo"]["bpm"] == pytest.approx(100.0, abs=1.0)
    # and the beats are visible: beat-coloured pixels at two beats in the close-up
    img = png_pixels(fig)[..., :3]
    want = np.array(to_rgb(BEAT_COLOUR))
    for b in xs[2:4]:
        row, col = pixel_of(fig, ax["beats"], b, 0.5)
        patch = img[row - 2: row + 3, col - 2: col + 3].reshape(-1, 3)
        assert np.min(np.abs(patch - want).sum(axis=1)) < 0.1, (b, patch)
    plt.close(fig)


def test_analyze_plot_draws_a_long_waveform_as_an_envelope():
    import matplotlib.pyplot as plt

    from resonator.analysis.plot import WAVE_COLUMNS, analysis_figure

    report, internals = _analysis(600.0, sr=4000, period_s=0.5)
    fig = analysis_figure(report, internals)
    wave = axes_by_label(fig)["waveform"]
    fill = wave.collections[0]
    assert len(fill.get_paths()[0].vertices) <= 2 * WAVE_COLUMNS + 8
    assert [t.get_text() for t in wave.get_legend().get_texts()] == ["waveform (peak)",
                                                                   "envelope"]
    assert all(len(line.get_xdata()) <= WAVE_COLUMNS for line in wave.lines)
    plt.close(fig)


# ------------------------------------------------------------------------------ progress
def test_terminal_progress_draws_stages_only_when_asked():
    from resonator.progress import TerminalProgress

    out = io.StringIO()
    bar = TerminalProgress(stream=out, enabled=True, units={"reading": "frame"}, mininterval=0)
    for done in (1000, 2000, 3000):
        bar("reading", done, 3000)
    bar("analysing", 1, 1)
    bar.close()
    text = out.getvalue()
    assert "reading" in text and "3.00k/3.00k" in text and "analysing" in text
    quiet = io.StringIO()
    off = TerminalProgress(stream=quiet)  # a StringIO is no terminal
    off("reading", 1, 2)
    off.close()
    assert quiet.getvalue() == ""


def test_analyze_file_reports_its_progress(tmp_path):
    import soundfile as sf

    from resonator.analysis import analyze_file

    sr = 8000
    sf.write(tmp_path / "a.wav", 0.1 * np.sin(2 * np.pi * 220 * np.arange(20 * sr) / sr), sr)
    calls = []
    analyze_file(tmp_path / "a.wav", loudness=False, progress=lambda *a: calls.append(a))
    reading = [c for c in calls if c[0] == "reading"]
    assert reading[-1] == ("reading", 20 * sr, 20 * sr)
    assert all(a[1] < b[1] for a, b in zip(reading, reading[1:]))
    assert calls[-2:] == [("analysing", 0, 1), ("analysing", 1, 1)]


# ------------------------------------------------------------------------------ check
def test_spectrum_bands_have_no_empty_or_doubled_low_bands():
    # a flat spectrum (an impulse at each frame's centre): power per log band grows with the
    # band's width, 0.64 dB from one band to the next at 48 kHz (48 bands from 20 Hz to
    # 24 kHz) -- also for the bands narrower than an FFT bin below 150 Hz, which used to be
    # empty (white in the plot) or hold a whole bin (red); a full-scale sine reads -3 dB
    from resonator.measure.spectrum import SpectrumStream

    sr = 48000
    x = np.zeros((1, 5 * sr), dtype=np.float32)
    x[0, np.arange(5) * sr + SpectrumStream.NFFT // 2] = 1.0
    s = SpectrumStream(sr, 1)
    s.update(x)
    db = s.band_db[0]
    step = 10 * np.log10((sr / 2 / 20.0) ** (1 / 48))
    low = s.bands_hz < 200
    assert np.all(np.isfinite(db))
    np.testing.assert_allclose(np.diff(db[low])[1:], step, atol=0.05)
    t = np.arange(4 * sr) / sr
    s = SpectrumStream(sr, 1)
    s.update(np.sin(2 * np.pi * 1000 * t)[None, :].astype(np.float32))
    total = 10 * np.log10((10 ** (s.band_db / 10)).sum(axis=1))
    np.testing.assert_allclose(total, -3.01, atol=0.05)


@pytest.fixture(scope="module")
def check_reports(tmp_path_factory):
    """A render of a short recipe checked whole and as a window, with one failing target."""
    import textwrap

    from resonator.check import check_file, parse_target_arg
    from resonator.recipe import render_recipe

    d = tmp_path_factory.mktemp("check")
    rec = d / "r.toml"
    rec.write_text(textwrap.dedent("""
        title = "pictures"
        fade_in = "2s"
        fade_out = "2s"
        [[phase]]
        name = "one"
        duration = "30s"
        [[phase]]
        name = "two"
        duration = "30s"
        [[layer]]
        name = "iso"
        kind = "isochronic"
        carrier = "300 Hz"
        rate = { one = "6 Hz", two = "8 Hz", glide = "4s" }
        gain = "-12 dB"
        [[layer]]
        name = "bed"
        kind = "noise"
        gain = "-30 dB"
        """).lstrip())
    full = render_recipe(rec, d / "full.wav", sr=16000, normalize=False).path
    win = render_recipe(rec, d / "win.wav", sr=16000, normalize=False, start=20.0,
                        duration=30.0).path
    bad = parse_target_arg("am_rate:5-25:7Hz:0.05")  # the rate is 6 Hz there
    calls = []
    window = check_file(win, rec, progress=lambda *a: calls.append(a))
    return check_file(full, rec, targets=[bad]), window, calls


def test_check_plot_lanes_colours_and_failures(check_reports):
    import matplotlib.pyplot as plt
    from matplotlib.colors import to_rgba

    from resonator.check.plot import FAIL_COLOUR, PASS_COLOUR, check_figure

    report, _, _ = check_reports
    fig = check_figure(report)
    ax = axes_by_label(fig)
    assert list(ax) == ["spectrum", "colorbar", "envelope", "loudness", "targets"]
    assert ax["colorbar"].get_ylabel().startswith("dB")
    # all of the colour bar's label is in the picture (its end was cut off at the top)
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    box = ax["colorbar"].yaxis.label.get_window_extent(canvas.get_renderer())
    assert box.y0 >= 0 and box.y1 <= fig.bbox.height and box.x1 <= fig.bbox.width
    lanes = ax["targets"]
    labels = [t.get_text() for t in lanes.get_yticklabels()]
    assert len(labels) == len(report.results) == len(lanes.collections)
    assert "am_rate" in labels and "splatter (iso)" in labels and "loudness" not in labels
    bars = dict(zip(labels, lanes.collections))  # one bar per lane, top to bottom
    for lab, r in zip(labels, report.results):
        want = PASS_COLOUR if r.passed else FAIL_COLOUR
        faces = bars[lab].get_facecolor()
        assert np.allclose(faces[:, :3], to_rgba(want)[:3]), lab
        # a target read in a few windows of its span: the span pale, those windows solid
        read = [w for w in r.detail.get("windows") or [] if "start_s" in w]
        covered = sum(min(w["end_s"], r.target.end_s) - max(w["start_s"], r.target.start_s)
                      for w in read)
        if read and covered < 0.9 * (r.target.end_s - r.target.start_s):
            assert faces[0, 3] == pytest.approx(0.3) and np.all(faces[1:, 3] == 1.0), lab
            assert len(faces) == 1 + len(read), lab
        else:
            assert np.all(faces[:, 3] == 1.0), lab
    assert any(f.get_facecolor()[0, 3] < 1 for f in bars.values())  # some were sampled
    assert [r.passed for r in report.results if r.target.source == "cli"] == [False]
    assert sum(not r.passed for r in report.results) == 1
    (text,) = [t.get_text() for t in lanes.texts]
    assert "measured 6" in text and "vs expected 7 Hz" in text
    # a failure with nothing measured (a tone not there) says so (it read "measured -")
    import dataclasses

    gone = dataclasses.replace(report, results=[
        dataclasses.replace(r, measured=None) if r.passed is False else r
        for r in report.results])
    missing = check_figure(gone)
    (text,) = [t.get_text() for t in axes_by_label(missing)["targets"].texts]
    assert text.strip() == "not found (expected 7 Hz)"
    plt.close(missing)
    # in the picture: the failing bar is red, a passing one green (pixels at their left end)
    img = png_pixels(fig)[..., :3]
    for lab, want in (("am_rate", FAIL_COLOUR), ("splatter (iso)", PASS_COLOUR)):
        i = labels.index(lab)
        x = bars[lab].get_paths()[0].vertices[:, 0]
        row, col = pixel_of(fig, lanes, x.min() + 0.3, (len(labels) - 1 - i + 0.5) /
                            len(labels))
        alpha = bars[lab].get_facecolor()[0, 3]  # a pale span is the colour over white
        seen = alpha * np.array(to_rgba(want)[:3]) + (1 - alpha)
        assert np.abs(img[row, col] - seen).sum() < 0.05, lab
    plt.close(fig)


def test_check_plot_of_a_window_is_in_session_time(check_reports):
    import matplotlib.pyplot as plt

    from resonator.check.plot import check_figure

    _, report, _ = check_reports
    fig = check_figure(report)
    ax = axes_by_label(fig)
    assert ax["targets"].get_xlim() == pytest.approx((20.0, 50.0))
    assert fig._suptitle.get_text().endswith("this file is 0:20-0:50 of the session")
    fig.canvas.draw()
    shown = [(x, t.get_text()) for x, t in zip(ax["targets"].get_xticks(),
                                               ax["targets"].get_xticklabels()) if 20 <= x <= 50]
    assert shown[:3] == [(20.0, "0:20"), (25.0, "0:25"), (30.0, "0:30")]
    assert [t.get_text() for t in ax["spectrum"].texts] == ["one", "two"]
    assert ax["spectrum"].texts[1].get_position()[0] == pytest.approx(40.0)  # 30-50 shown
    plt.close(fig)


def test_check_reports_its_progress(check_reports):
    _, report, calls = check_reports
    scanning = [c for c in calls if c[0] == "scanning"]
    assert scanning[-1] == ("scanning", 30 * 16000, 30 * 16000)
    assert all(a[1] < b[1] for a, b in zip(scanning, scanning[1:]))
    measuring = [c for c in calls if c[0] == "measuring"]
    n = measuring[-1][2]  # every target kept for the file, evaluated or found unmeasurable
    assert [c[1] for c in measuring] == list(range(n + 1)) and n >= len(report.results) > 0
    assert calls.index(scanning[-1]) < calls.index(measuring[0])


def test_readme_shows_the_three_pictures():
    root = Path(__file__).resolve().parent.parent
    readme = (root / "README.md").read_text()
    for name in ("plan", "check", "analyze"):
        assert f"](docs/images/{name}.png)" in readme
        png = root / "docs" / "images" / f"{name}.png"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size < 200_000


# ------------------------------------------------------------------------------ sweep
def test_sweep_plot_shows_all_of_its_colour_bar_label(tmp_path, monkeypatch):
    """Two variants: the colour bar's label (what the colour means) lies inside the picture
    (it was cut off after 'failed' in a plot this short)."""
    import resonator.outputs
    from resonator.batch.tables import plot_summary

    figs = []
    monkeypatch.setattr(resonator.outputs, "save_figure",
                        lambda fig, path, **kw: figs.append(fig) or path)
    rows = [{"name": f"{i}-bed.gain={g}", "status": "ok",
             "targets": [{"label": lab, "passed": True, "measured": 16.02, "expected": 16.0,
                          "tolerance": 0.1} for lab in ("am_rate bed", "true_peak")]}
            for i, g in enumerate(("-20dB", "-14dB"))]
    plot_summary(tmp_path / "s.png", rows, "Sweep")
    (fig,) = figs
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(fig)  # plot_summary closed it
    canvas.draw()
    renderer = canvas.get_renderer()
    cbar = next(a for a in fig.axes if a.get_ylabel().startswith("error / tolerance"))
    box = cbar.yaxis.label.get_window_extent(renderer)
    assert box.y0 >= 0 and box.y1 <= fig.bbox.height and box.x1 <= fig.bbox.width
