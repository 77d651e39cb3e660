"""Playback: the stream gives a render's samples; seek, pause and the temperature override act
exactly; the player feeds a device what the stream gave; the real backend opens a null device."""
import os
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

from resonator.mastering import master
from resonator.playback import Player, SessionStream
from resonator.playback.stream import FADE_S, GAIN_GLIDE_S, GLIDE_S, _ramp
from resonator.recipe.session import build_session
from resonator.render import render_array
from tests.conftest import peak_hz
from tests.play_helpers import RecordingOutput, wait_buffered

SR = 8000
RECIPE = """
title = "p"
fade_in = "1s"
fade_out = "1s"

[temperature]
start = 0.5

[[phase]]
name = "one"
duration = "60s"

[[phase]]
name = "two"
duration = "60s"

[[layer]]
name = "beat"
kind = "binaural"
carrier = "300 Hz"
beat = { temperature = "2..10 Hz" }
gain = "-12 dB"

[[layer]]
name = "bed"
kind = "noise"
color = "pink"
gain = "-30 dB"
"""
F = int(round(FADE_S * SR))


@pytest.fixture(scope="module")
def recipe(tmp_path_factory):
    p = tmp_path_factory.mktemp("play") / "p.toml"
    p.write_text(RECIPE)
    return p


@pytest.fixture(scope="module")
def stage(recipe):
    s = build_session(recipe, sr=SR)
    return master(s.node, s.duration_s, sr=SR, seed=s.seed, target_lufs=-20.0, ceiling_dbtp=-1.0)


def rendered(recipe, stage, start_s, seconds):
    """What a render has there, after the mastering stage, before quantisation (float32)."""
    s = build_session(recipe, sr=SR)
    x = render_array(s.node, seconds, sr=SR, start_s=start_s)
    return stage.apply(x, int(round(start_s * SR))).T.astype(np.float32)


def stream(recipe, stage, start_s=0.0):
    return SessionStream(build_session(recipe, sr=SR), start_s=start_s, mastering=stage)


def fade_in(n):
    return _ramp(n, 0, F, rising=True)[:, None]


def test_stream_gives_the_samples_of_a_render(recipe, stage):
    st = stream(recipe, stage, start_s=13.3)
    got = np.concatenate([st.read(n) for n in (777, 1, 3000, 4096, 5126)])
    ref = rendered(recipe, stage, 13.3, 13000 / SR)
    assert got.shape == ref.shape == (13000, 2)
    # a 10 ms fade-in at the start (no click mid-session), then the render bit for bit
    assert np.array_equal(got[F:], ref[F:])
    assert np.allclose(got[:F], ref[:F] * fade_in(F), atol=1e-7)
    assert st.position == int(13.3 * SR) + 13000


def test_seek_lands_on_the_exact_frame(recipe, stage):
    st = stream(recipe, stage, start_s=2.0)
    st.read(2000)
    st.seek(31.2345)
    out, spans = st.read_spans(3000)
    # the fade-out plays the next F frames where it was, then the new place from its frame
    assert spans[0] == (0, F, 16000 + 2000)
    assert spans[1][0] == F and spans[1][2] == round(31.2345 * SR)
    old = rendered(recipe, stage, (16000 + 2000) / SR, F / SR)
    assert np.allclose(out[:F], old * (1 - fade_in(F)), atol=1e-7)
    new = rendered(recipe, stage, round(31.2345 * SR) / SR, (3000 - F) / SR)
    assert np.array_equal(out[2 * F:], new[F:])
    assert np.allclose(out[F:2 * F], new[:F] * fade_in(F), atol=1e-7)


def test_pause_and_resume_lose_nothing(recipe, stage):
    st = stream(recipe, stage, start_s=5.0)
    a = st.read(1000)
    st.pause()
    b, spans = st.read_spans(500)
    assert spans == [(0, F, 41000), (F, 500 - F, None)]
    assert not np.any(b[F:]) and st.position == 41000 + F
    assert not np.any(st.read(700))  # paused: silence, not moving
    st.resume()
    c = st.read(2000)
    played = np.concatenate([a, b[:F], c])
    ref = rendered(recipe, stage, 5.0, played.shape[0] / SR)
    gain = np.ones((played.shape[0], 1))
    gain[:F] = fade_in(F)
    gain[1000:1000 + F] = 1 - fade_in(F)
    gain[1000 + F:1000 + 2 * F] = fade_in(F)
    assert np.allclose(played, ref * gain, atol=1e-7)
    assert np.array_equal(played[1000 + 2 * F:], ref[1000 + 2 * F:])


def _beat(x):
    return peak_hz(x[:, 0], SR, 250, 350) - peak_hz(x[:, 1], SR, 250, 350)


def test_temperature_override_moves_a_bound_beat_by_the_planned_amount(recipe, stage):
    st = stream(recipe, stage, start_s=3.0)
    before = st.read(4 * SR)
    assert _beat(before) == pytest.approx(6.0, abs=0.02)  # T 0.5 on 2..10 Hz
    st.set_temperature(0.25)
    glide = st.read(int(GLIDE_S * SR))
    after = st.read(4 * SR)
    assert _beat(after) == pytest.approx(8.0, abs=0.02)  # T 0.75
    assert st.temperature() == pytest.approx((0.5, 0.75))
    # no click: the largest step between samples stays that of the steady sound
    steady = np.max(np.abs(np.diff(before, axis=0)))
    joined = np.concatenate([before[-100:], glide, after[:100]])
    assert np.max(np.abs(np.diff(joined, axis=0))) < 1.2 * steady
    # a seek keeps the offset
    st.seek(30.0)
    st.read(2 * F)
    assert _beat(st.read(4 * SR)) == pytest.approx(8.0, abs=0.02)


def test_rewind_reads_the_same_samples_again(recipe, stage):
    st = stream(recipe, stage, start_s=1.0)
    st.read(3000)
    first = st.read(2500)
    st.rewind(8000 + 3000)
    assert np.array_equal(st.read(2500), first)


def test_estimate_then_measured_stage_glides_without_a_jump(recipe, stage, tmp_path,
                                                            monkeypatch):
    monkeypatch.setenv("RESONATOR_CACHE_DIR", str(tmp_path / "cache"))
    s = build_session(recipe, sr=SR)
    st = SessionStream(s, start_s=4.0)
    assert st.mastering.estimated and abs(st.mastering.gain_db - stage.gain_db) < 0.5

    def measuring():
        return [t for t in threading.enumerate() if t.name == "resonator-measure-bg"]
    head = st.read(SR)
    assert not measuring()  # the first frames go out before the measurement competes
    assert st.wait_for_measurement(120)
    tail = st.read(int((GAIN_GLIDE_S + 1) * SR))
    assert not st.mastering.estimated and st.mastering.gain_db == pytest.approx(stage.gain_db)
    got = np.concatenate([head, tail])
    ref = rendered(recipe, stage, 4.0, got.shape[0] / SR)
    est_ratio = 10 ** ((SessionStream(s, start_s=4.0, mastering=None).mastering.gain_db
                        - stage.gain_db) / 20)
    assert est_ratio == 1.0  # the second stream found the measured stage in the cache
    ratio = np.abs(got[F:, 0]) / np.maximum(np.abs(ref[F:, 0]), 1e-9)
    loud = np.abs(ref[F:, 0]) > 1e-3
    r = ratio[loud]
    assert np.all(np.abs(np.diff(20 * np.log10(r))) < 0.01)  # gain moves smoothly
    assert np.array_equal(got[-SR:], ref[-SR:])  # after the glide: the render exactly


def test_player_feeds_the_device_what_a_render_has_and_controls_act_at_the_margin(
        recipe, stage):
    st = stream(recipe, stage, start_s=7.0)
    out = []
    player = Player(st, output=lambda fill, sr, channels: out.append(
        RecordingOutput(fill, sr=sr, channels=channels)) or out[-1]).start()
    try:
        dev = out[0]
        wait_buffered(player, 1.0)
        for _ in range(8):
            dev.pull(512)
        ref = rendered(recipe, stage, 7.0, 4096 / SR)
        assert np.array_equal(dev.fed[F:], ref[F:])
        assert player.position == 7 * SR + 4096
        player.seek(25.0)  # acts after the margin, though a second and more is buffered
        wait_buffered(player, 0.5)
        dev.pull(4000)
        fed = dev.fed[4096:]
        margin = int(0.1 * SR)
        assert np.array_equal(fed[:margin], rendered(recipe, stage, (7 * SR + 4096) / SR,
                                                      margin / SR))
        landed = rendered(recipe, stage, 25.0, (4000 - margin - F) / SR)
        assert np.array_equal(fed[margin + 2 * F:], landed[F:])
        assert player.underruns == 0
        player.pause()
        dev.pull(2000)
        assert not np.any(dev.fed[-(2000 - margin - F):])
    finally:
        player.stop()
    assert out[0].closed


def test_real_backend_plays_to_a_null_device(recipe, tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    (home / ".asoundrc").write_text("pcm.!default { type null }\nctl.!default { type hw card 0 }\n")
    code = f"""
import time, resonator
p = resonator.play({str(recipe)!r}, start_s=12.0)
t = time.perf_counter()
while p.first_audio_s is None and time.perf_counter() - t < 30:
    time.sleep(0.01)
print("first audio", p.first_audio_s is not None, p.status()["phase"])
p.stop()
"""
    env = dict(os.environ, HOME=str(home), RESONATOR_CACHE_DIR=str(tmp_path / "c"))
    r = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 0, r.stderr
    assert "first audio True one" in r.stdout


def test_no_audio_output_is_one_line_and_exit_2(recipe, monkeypatch, capsys):
    import resonator.playback.backend as backend
    from resonator.cli import main

    def missing():
        raise backend.NoAudioOutput("no audio output: the PortAudio library is not installed "
                                    "(test); on Debian/Ubuntu: apt install libportaudio2")
    monkeypatch.setattr(backend, "_sd", missing)
    assert main(["play", str(recipe)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["resonator play: error: no audio output: the PortAudio library is not "
                   "installed (test); on Debian/Ubuntu: apt install libportaudio2"]
    monkeypatch.setattr(backend, "output_devices", lambda: [])
    assert main(["play", str(recipe)]) == 2
    assert "no audio output device found" in capsys.readouterr().err
    # the user's own mistake is named first, also without a device
    assert main(["play", str(recipe.with_name("missing.toml"))]) == 2
    assert "missing.toml: no such recipe file" in capsys.readouterr().err
    # listing no devices says so (it printed nothing and exited 0)
    assert main(["play", "--list-devices"]) == 2
    assert capsys.readouterr().err.strip() == ("resonator play: error: no audio output device "
                                               "found (PortAudio lists none)")


@pytest.mark.parametrize("start, start_s", [("two", 60.0), ("1:30", 90.0), ("one", 0.0)])
def test_play_starts_at_a_phase_by_its_name(recipe, monkeypatch, capsys, start, start_s):
    import resonator.playback.backend as backend
    import resonator.playback.stream as stream_module
    from resonator.cli import main
    from resonator.errors import ResonatorError

    class Opener:  # no device opened
        def __init__(self, **kw):
            pass

        def close(self):
            pass

    class Stream:  # stops the command where the stream would start playing
        def __init__(self, session, start_s):
            raise ResonatorError(f"stream asked to start at {start_s!r}")

    monkeypatch.setattr(backend, "output_devices", lambda: [(0, "fake", True)])
    monkeypatch.setattr(backend, "OutputOpener", Opener)
    monkeypatch.setattr(stream_module, "SessionStream", Stream)
    assert main(["play", str(recipe), "--start", start, "--rate", "8000"]) == 2
    assert capsys.readouterr().err == (f"resonator play: error: stream asked to start at "
                                       f"{start_s!r}\n")


TMUX_SCRIPT = """
import json, sys
sys.path.insert(0, {root!r})
from resonator.playback import Player, SessionStream
from resonator.playback.keys import run_terminal
from resonator.recipe.session import build_session
from tests.play_helpers import PacedOutput

s = build_session({recipe!r}, sr=8000)
player = Player(SessionStream(s, start_s=5.0, measure=False),
                output=lambda fill, sr, channels: PacedOutput(fill, sr=sr, channels=channels))
player.start()
how = run_terminal(player)
st = player.status()
player.stop()
open({result!r}, "w").write(json.dumps(dict(st, how=how)))
"""


def _pane(name):
    return subprocess.run(["tmux", "capture-pane", "-p", "-t", name], capture_output=True,
                          text=True).stdout


def _until(name, text, timeout=30.0):
    end = time.perf_counter() + timeout
    while time.perf_counter() < end:
        pane = _pane(name)
        if text in pane:
            return pane
        time.sleep(0.1)
    raise AssertionError(f"{text!r} never appeared:\n{pane}")


def test_keys_in_a_real_terminal(recipe, tmp_path):
    """tmux runs a player (a device paced in real time) in a terminal; keys go in with
    send-keys, the status line comes back with capture-pane."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    script = tmp_path / "run.py"
    result = tmp_path / "result.json"
    script.write_text(TMUX_SCRIPT.format(root=root, recipe=str(recipe), result=str(result)))
    name = f"resonator-test-{os.getpid()}"
    env = dict(os.environ, RESONATOR_CACHE_DIR=str(tmp_path / "cache"))
    subprocess.run(["tmux", "new-session", "-d", "-s", name, "-x", "160", "-y", "10",
                    f"{sys.executable} {script}; sleep 30"], check=True, env=env)
    try:
        _until(name, "layers: beat, bed")
        subprocess.run(["tmux", "send-keys", "-t", name, "Up"], check=True)
        _until(name, "T 0.55 (plan 0.50 +0.05)")
        subprocess.run(["tmux", "send-keys", "-t", name, "Right"], check=True)
        _until(name, "0:3")  # 0:05 + 30 s (+ the seconds played)
        subprocess.run(["tmux", "send-keys", "-t", name, "n"], check=True)
        _until(name, "  two  ")
        subprocess.run(["tmux", "send-keys", "-t", name, "Space"], check=True)
        _until(name, "PAUSED")
        subprocess.run(["tmux", "send-keys", "-t", name, "Down", "Down"], check=True)
        _until(name, "(plan 0.50 -0.05)")  # set while paused: it glides there on resume
        subprocess.run(["tmux", "send-keys", "-t", name, "q"], check=True)
        end = time.perf_counter() + 30
        while not result.exists() and time.perf_counter() < end:
            time.sleep(0.1)
    finally:
        subprocess.run(["tmux", "kill-session", "-t", name], capture_output=True)
    import json

    st = json.loads(result.read_text())
    assert st["how"] == "quit" and st["paused"] and st["phase"] == "two"
    assert st["temperature_offset"] == pytest.approx(-0.05)
    assert 60.0 <= st["position_s"] < 62.0  # n jumped to the start of phase two (60 s)
