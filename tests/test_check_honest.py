"""Honest reports: the rule printed is the rule applied, explicit time bases, no pass without
the thing being there, no fail when the audio is right, inconclusive readings say why."""
from __future__ import annotations

import json
import textwrap

import numpy as np
import pytest
import soundfile as sf
from scipy import signal

from resonator.check import check_file, format_table, parse_target_arg
from resonator.check.targets import CheckInputError
from resonator.cli import main
from resonator.recipe import render_recipe

SR = 8000


def pink(n, seed=0, channels=2):
    b = [0.049922035, -0.095993537, 0.050612699, -0.004408786]
    a = [1, -2.494956002, 2.017265875, -0.522189400]
    x = signal.lfilter(b, a, np.random.default_rng(seed).standard_normal((channels, n)), axis=1)
    return x / x.std()


def write(path, x, sr=SR):
    sf.write(path, np.asarray(x).T, sr, subtype="FLOAT")
    return str(path)


def check(path, *targets, **kw):
    return check_file(path, targets=[parse_target_arg(t) for t in targets], **kw)


def tone_pair(seconds, carrier=200.0, beat=8.0, amp=0.3):
    t = np.arange(int(seconds * SR)) / SR
    return amp * np.vstack([np.sin(2 * np.pi * (carrier + beat / 2) * t),
                            np.sin(2 * np.pi * (carrier - beat / 2) * t)])


# ------------------------------------------------------------------------------ rules
def test_table_prints_the_rule_applied_with_units_and_precision(tmp_path):
    f = write(tmp_path / "b.wav", tone_pair(8.0) + 0.02 * pink(8 * SR))
    rep = check(f, "binaural_beat:0-8:8Hz:0.0719504", "binaural_beat:0-8:8Hz:0.0004")
    table = format_table(rep)
    assert "0.0719504" not in table
    ok, tight = rep.results
    assert ok.rule == "every window within 8.000 Hz +- 0.072 Hz" and ok.passed
    # a tolerance smaller than the unit's precision keeps two significant digits
    assert "within 8.000 Hz +- 0.00040 Hz" in tight.rule
    for r in rep.results:
        assert r.rule in table and "8.000 Hz" in table


def test_a_falling_centroid_prints_the_signed_rho_it_applies(tmp_path):
    """Noise low-passed from 3 kHz down to 300 Hz over 150 s: its centroid falls."""
    n = 150 * SR
    x = pink(n, channels=1)[0]
    out = np.zeros_like(x)
    for i, fc in enumerate(np.geomspace(3000, 300, 150)):
        sos = signal.butter(4, fc, fs=SR, output="sos")
        out[i * SR:(i + 1) * SR] = signal.sosfilt(sos, x[i * SR:(i + 1) * SR])
    f = write(tmp_path / "dark.wav", np.vstack([out, out]) * 0.2)
    r = check(f, "centroid_trend:0-end:falling:0.9").results[0]
    assert r.passed and r.measured < -0.9
    assert r.rule == "binned Spearman rho <= -0.9"
    up = write(tmp_path / "bright.wav", np.vstack([out, out])[:, ::-1] * 0.2)
    r = check(up, "centroid_trend:0-end:falling:0.9").results[0]
    assert not r.passed and r.measured > 0.9


def test_a_fade_is_measured_in_seconds(tmp_path):
    """A raised-cosine fade-in of 4 s reads 4 s; one of 8 s reads 8 s and fails a 4 s
    target."""
    t = np.arange(14 * SR) / SR
    noise = 0.2 * np.sin(2 * np.pi * 300 * t) + 0.05 * pink(t.size)
    for length, ok, near in ((4.0, True, 0.05), (8.0, False, 1.0)):
        g = 0.5 - 0.5 * np.cos(np.pi * np.clip(t / length, 0, 1))
        f = write(tmp_path / f"f{length:g}.wav", noise * g)
        r = check(f, "fade_in:0-9:4s:1s").results[0]
        assert r.passed is ok and abs(r.measured - length) < near, (length, r.measured)
        assert r.rule.startswith("length within 4.00 s +- 1.00 s")
        assert f"{r.measured:.2f} s" in format_table(check(f, "fade_in:0-9:4s:1s"))


# ------------------------------------------------------------------------------ time bases
SMALL = textwrap.dedent("""
    title = "small"
    sample_rate = 8000
    fade_in = "2s"
    fade_out = "2s"
    [[phase]]
    name = "one"
    duration = "40s"
    [[layer]]
    name = "beat"
    kind = "binaural"
    carrier = "300 Hz"
    beat = "6 Hz"
    """)


@pytest.fixture
def window(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "small.toml").write_text(SMALL)
    render_recipe(tmp_path / "small.toml", "w.wav", start="20s", duration="10s",
                  normalize=False)
    return tmp_path / "w.wav"


def test_targets_are_file_time_unless_they_say_session(window, capsys):
    rep = check(window, "binaural_beat:1-9:6Hz:0.05", "session:binaural_beat:21-29:6Hz:0.05")
    mine = [r for r in rep.results if r.target.source == "cli"]
    assert [(r.target.start_s, r.target.end_s) for r in mine] == [(1.0, 9.0), (1.0, 9.0)]
    assert all(r.passed for r in mine)
    assert "0:01.0-0:09.0 (0:21.0-0:29.0)" in format_table(rep)  # file (session) time
    # outside the audio: an error naming the target, before any measuring; never a skip
    for bad in ("am_rate:0-30:5Hz:0.1", "session:binaural_beat:0-8:6Hz", "clicks:5-12:0"):
        assert main(["check", str(window), "--target", bad]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and f"--target {bad}" in err and "not inside" in err
    with pytest.raises(CheckInputError, match="session: before the kind"):
        check(window, "am_rate:0-30:5Hz:0.1")


def test_an_empty_file_is_bad_input(tmp_path, capsys):
    f = write(tmp_path / "empty.wav", np.zeros((2, 0)))
    assert main(["check", f, "--target", "clicks:0-end:0"]) == 2
    err = capsys.readouterr().err
    assert "0 frames" in err and err.count("\n") == 1
    with pytest.raises(CheckInputError, match="holds no audio"):
        check_file(f, targets=[parse_target_arg("clicks:0-end:0")])


# ------------------------------------------------------------------------------ no pass
def test_a_rate_without_modulation_there_fails_with_depth_and_floor(tmp_path):
    t = np.arange(30 * SR) / SR
    x = np.sin(2 * np.pi * 300 * t) * (1 + 0.8 * np.cos(2 * np.pi * 10 * t)) / 1.8
    f = write(tmp_path / "am10.wav", 0.5 * np.vstack([x, x]))
    ten, forty = check(f, "am_rate:0-end:10:0.05", "am_rate:0-end:40:0.05").results
    assert ten.passed and abs(ten.measured - 10.0) < 0.005
    assert all(w["significant"] for w in ten.detail["windows"])
    assert forty.passed is False
    w = forty.detail["windows"][0]
    assert not w["significant"] and w["depth"] < 0.002
    assert "depth" in forty.detail["error"] and "noise floor" in forty.detail["error"]
    # real 40 Hz modulation under noise passes
    y = np.sin(2 * np.pi * 300 * t) * (1 + 0.5 * np.cos(2 * np.pi * 40 * t)) / 1.5
    f2 = write(tmp_path / "am40.wav", 0.3 * np.vstack([y, y]) + 0.03 * pink(t.size))
    assert check(f2, "am_rate:0-end:40:0.05").passed


# ------------------------------------------------------------------------------ no fail
def test_a_linear_fade_out_made_elsewhere_is_falling(tmp_path):
    """Steady pink noise, then a fade linear in amplitude over the last 40 s (its level in
    dB plunges at the end): falling. A 2 dB swell inside the fade (which falls 0.4 dB a
    second there) is not."""
    n = 80 * SR
    t = np.arange(n) / SR
    g = np.clip((80.0 - t) / 40.0, 0.0, 1.0)
    x = 0.2 * pink(n) * g
    ok = check(write(tmp_path / "fade.wav", x), "loudness_trend:30-end:falling:0.3").results[0]
    assert ok.passed, ok.detail
    assert ok.rule.startswith("never rises more than 0.30 dB above its lowest level so far")
    bump = x * np.where((t > 55) & (t < 60), 10 ** (2.0 / 20), 1.0)
    bad = check(write(tmp_path / "bump.wav", bump),
                "loudness_trend:30-end:falling:0.3").results[0]
    assert not bad.passed and 0.5 < bad.measured < 2.0


def test_a_voice_switched_on_and_off_is_read_or_inconclusive(tmp_path):
    """A binaural voice on for 6 s, off for 6 s, under pink noise: windows holding the
    tone read 8 Hz; where it switches, or is not there, the reading is inconclusive with the
    reason (never a pass; never a fail of a voice that may be buried in the noise)."""
    n = 36 * SR
    t = np.arange(n) / SR
    gate = ((t // 6) % 2 == 0).astype(float)
    gate = np.convolve(gate, np.hanning(int(0.05 * SR)) / np.hanning(int(0.05 * SR)).sum(),
                       "same")
    x = tone_pair(36.0) * gate + 0.1 * pink(n)
    f = write(tmp_path / "gated.wav", x)
    on, switch, off = check(f, "binaural_beat:0.5-5.5:8Hz", "binaural_beat:4-8:8Hz",
                            "binaural_beat:7-11:8Hz").results
    assert on.passed and abs(on.measured - 8.0) < 0.01
    assert switch.passed is None and switch.status == "inconclusive"
    assert "switched on or off" in switch.detail["inconclusive"]
    assert off.passed is None and "over the noise" in off.detail["inconclusive"]
    # a wrong beat where the tone is clear fails
    assert check(f, "binaural_beat:0.5-5.5:7.8Hz").passed is False
    table = format_table(check(f, "binaural_beat:4-8:8Hz"))
    assert "inconclusive (the " in table and "1 inconclusive" in table


def test_a_weak_tone_under_noise_reads_correctly_or_is_inconclusive(tmp_path):
    """A tone pair at amplitude 0.02 under pink noise 20x stronger: never a wrong failure."""
    n = 40 * SR
    x = tone_pair(40.0, beat=6.0, amp=0.02) + 0.4 * pink(n, seed=3)
    f = write(tmp_path / "weak.wav", x)
    r = check(f, "binaural_beat:0-40:6Hz:0.05").results[0]
    assert r.passed is not False, r.detail
    if r.passed:
        assert abs(r.measured - 6.0) <= 0.05
    else:
        assert "over the noise" in r.detail["inconclusive"]


def test_json_reports_status_rule_and_session_times(window, tmp_path):
    out = tmp_path / "r.json"
    assert main(["check", str(window), "--target", "binaural_beat:1-9:6Hz", "--json",
                 str(out), "-q"]) == 0
    d = json.loads(out.read_text())
    mine = [r for r in d["results"] if r["source"] == "cli"][0]
    assert mine["status"] == "pass" and mine["rule"].startswith("every window within 6.000 Hz")
    assert mine["window"]["session_start_s"] == 21.0 and mine["window"]["session_end_s"] == 29.0


def test_a_failed_row_shows_the_window_that_failed():
    """'every window within' rows: the median when every window passed, the value furthest
    out when one did not (a window render across a glide printed 15.969 Hz, inside
    16 +- 0.1 Hz, beside FAIL; the failing 14.99 Hz was only in the JSON)."""
    from resonator.check.kinds.base import within
    from resonator.check.targets import make_target

    t = make_target("am_rate", 0.0, 60.0, "16 Hz", "0.1 Hz")
    failed = within(t, [14.99, 15.969, 16.0])
    assert failed.passed is False and failed.measured == 14.99
    passed = within(t, [15.95, 16.0, 16.02])
    assert passed.passed is True and passed.measured == 16.0


def test_a_session_fade_is_not_read_against_a_layer_still_fading_on_its_own(tmp_path):
    """A drone from the session start with its own 40 s fade-in (mettannealing-preload's warm
    drone, which read the 10 s session fade as 13.5 s): the fade-in target is skipped, naming
    the layer; with a short layer fade, or at the end where nothing ramps, it is measured."""
    from resonator.check.targets import targets_from_session
    from resonator.recipe.session import build_session

    def fades(layer_fade):
        (tmp_path / "r.toml").write_text(
            'sample_rate = 16000\nfade_in = "10s"\nfade_out = "10s"\n'
            '[[phase]]\nname = "a"\nduration = "2m"\n'
            '[[layer]]\nname = "warm"\nkind = "drone"\nroot = "98 Hz"\n'
            f'fade_in = "{layer_fade}"\n')
        s = build_session(tmp_path / "r.toml")
        return {t.kind: t.params.get("unmeasurable") for t in targets_from_session(s)
                if t.kind.startswith("fade")}
    got = fades("40s")
    assert got["fade_in"] == ("layer warm fades in on its own across the session's fade-in "
                              "(0-15 s): the level next to the fade is not steady")
    assert got["fade_out"] is None
    assert fades("0.2s") == {"fade_in": None, "fade_out": None}
