"""The mastering-stage cache: reused when it matches, rebuilt when it is stale or damaged."""
import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

import resonator.mastering as mastering
from resonator.cache import cache_dir, read_entry, write_entry
from resonator.recipe import render_recipe
from resonator.recipe.render import default_name
from resonator.recipe.session import build_session

RECIPE = """
title = "c"
loudness = "-5 LUFS"
fade_in = "0.5s"
fade_out = "0.5s"

[[phase]]
name = "a"
duration = "3s"

[[phase]]
name = "b"
duration = "3s"

[[layer]]
name = "bed"
kind = "noise"
color = "pink"
gain = "-20 dB"

[[layer]]
name = "beat"
kind = "binaural"
carrier = "300 Hz"
beat = { a = "6 Hz", b = "4 Hz", glide = "1s" }
gain = { a = "-12 dB", b = "-3 dB", glide = "0.2s" }
"""


@pytest.fixture
def recipe(tmp_path):
    p = tmp_path / "c.toml"
    p.write_text(RECIPE)
    return p


@pytest.fixture
def measured(monkeypatch):
    """Counts measuring passes."""
    calls = []
    real = mastering.master

    def counting(*a, **kw):
        calls.append(a[1])
        return real(*a, **kw)
    monkeypatch.setattr(mastering, "master", counting)
    return calls


def _stage(path):
    return json.loads(Path(path).with_suffix(".json").read_text())["loudness"]["stage"]


def test_second_render_takes_the_stage_from_the_cache_with_the_same_bits(recipe, tmp_path,
                                                                          measured):
    a = render_recipe(recipe, tmp_path / "a.wav", sr=16000)
    assert measured == [6.0] and _stage(a.path) == "measured"
    assert a.mastering["limited_hops"] > 0  # the loud phase is limited: the curve is cached too
    entries = list(cache_dir("mastering").glob("*.json"))
    assert len(entries) == 1
    b = render_recipe(recipe, tmp_path / "b.wav", sr=16000)
    assert measured == [6.0] and _stage(b.path) == "cached"
    assert (tmp_path / "a.wav").read_bytes() == (tmp_path / "b.wav").read_bytes()
    plan = {k: v for k, v in a.mastering.items()}
    assert b.mastering == plan
    # a window of the cached session: no measuring, the full render's samples
    w = render_recipe(recipe, tmp_path / "w.wav", sr=16000, bits="32f", start="2s",
                      duration="3s")
    f = render_recipe(recipe, tmp_path / "f.wav", sr=16000, bits="32f")
    assert measured == [6.0] and _stage(w.path) == _stage(f.path) == "cached"
    x, _ = sf.read(tmp_path / "f.wav", dtype="float32")
    y, _ = sf.read(tmp_path / "w.wav", dtype="float32")
    assert np.array_equal(x[32000:80000], y)


def test_damaged_or_stale_entries_are_measured_again(recipe, tmp_path, measured, monkeypatch):
    render_recipe(recipe, tmp_path / "a.wav", sr=16000)
    (entry,) = cache_dir("mastering").glob("*.json")
    good = entry.read_text()
    data = json.loads(good)
    data["payload"]["gain_db"] += 3.0  # edited by hand: the checksum no longer matches
    for damaged in (good[: len(good) // 2], "not json", json.dumps(data)):
        entry.write_text(damaged)
        r = render_recipe(recipe, tmp_path / "b.wav", sr=16000, force=True)
        assert _stage(r.path) == "measured"
        assert entry.read_text() == good  # rebuilt whole
    assert len(measured) == 4
    # a changed recipe, rate, seed or code is another key: measured, never the old stage
    recipe.write_text(RECIPE.replace('"-20 dB"', '"-18 dB"'))
    assert _stage(render_recipe(recipe, tmp_path / "c.wav", sr=16000).path) == "measured"
    assert _stage(render_recipe(recipe, tmp_path / "d.wav", sr=12000).path) == "measured"
    assert _stage(render_recipe(recipe, tmp_path / "e.wav", sr=16000, seed=9).path) == \
        "measured"
    monkeypatch.setattr(mastering, "_CODE_DIGEST", "another version of the code")
    assert _stage(render_recipe(recipe, tmp_path / "f.wav", sr=16000).path) == "measured"
    assert len(measured) == 8
    assert len(list(cache_dir("mastering").glob("*.json"))) == 5


def test_a_cached_stage_round_trips_exactly(recipe):
    s = build_session(recipe, sr=16000)
    m = mastering.master(s.node, s.duration_s, sr=s.sr, seed=s.seed, target_lufs=-5.0,
                         ceiling_dbtp=-1.0)
    assert m._envelope is not None
    mastering.store_stage(s, m)
    back = mastering.cached_stage(s)
    x = np.random.default_rng(1).uniform(-0.3, 0.3, (2, 96000)).astype(np.float32)
    assert np.array_equal(back.apply(x, 1234), m.apply(x, 1234))
    assert back.report() == {k: v for k, v in m.report().items()}


def test_cache_folder_follows_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("RESONATOR_CACHE_DIR", str(tmp_path / "mine"))
    assert cache_dir("mastering") == tmp_path / "mine" / "mastering"
    monkeypatch.delenv("RESONATOR_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_dir("mastering") == tmp_path / "xdg" / "resonator" / "mastering"
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/ignored")  # the spec wants absolute paths
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert cache_dir("mastering") == tmp_path / "home" / ".cache" / "resonator" / "mastering"
    monkeypatch.setenv("RESONATOR_CACHE_DIR", "")
    assert cache_dir("mastering") is None
    assert write_entry("mastering", "k", {"a": 1}) is None and read_entry("mastering", "k") is None


def test_an_unwritable_cache_is_a_warning_not_a_failure(recipe, tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("")
    monkeypatch.setenv("RESONATOR_CACHE_DIR", str(blocker))  # a file: no folder can be made
    r = render_recipe(recipe, tmp_path / "a.wav", sr=16000)
    assert r.frames == 96000
    assert any("not cached" in w for w in r.warnings)


def test_a_window_without_output_name_says_which_window(recipe, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    r = render_recipe(recipe, None, sr=16000, start="2.5s", duration="1s")
    assert r.path == Path("renders/c_2.5s-3.5s.wav")
    assert default_name("focus", "wav", 1440, 30, 2700) == "focus_24m00s-24m30s.wav"
    assert default_name("x", "flac", 3723, 60.5, 9000) == "x_1h02m03s-1h03m03.5s.flac"
    assert default_name("x", "wav", 0, 10, 10) == "x.wav"
    assert default_name("x", "wav", 0, 5, 10) == "x_0s-5s.wav"


LONG = """
title = "e"

[[phase]]
name = "quiet"
duration = "30s"
temperature = { to = 1.0 }

[[phase]]
name = "loud"
duration = "40s"

[[layer]]
name = "bed"
kind = "noise"
color = "brown"
gain = { quiet = "-30 dB", loud = "-18 dB", glide = "10s" }

[[layer]]
name = "beat"
kind = "binaural"
carrier = "300 Hz"
beat = { temperature = "4..8 Hz" }
gain = { temperature = "-26..-14 dB" }
"""


def test_estimate_from_sparse_windows_lands_near_the_measurement_and_background_is_exact(
        tmp_path):
    p = tmp_path / "e.toml"
    p.write_text(LONG)
    s = build_session(p, sr=8000)
    full = mastering.master(s.node, s.duration_s, sr=s.sr, seed=s.seed, target_lufs=-20.0,
                            ceiling_dbtp=-1.0)
    est = mastering.estimate(s, windows=12, window_s=0.8)
    assert est.estimated and est.limited_hops == 0
    assert abs(est.measured_lufs - full.measured_lufs) < 0.5
    assert est.gain_db == pytest.approx(-20.0 - est.measured_lufs)
    # the background measurement gives the foreground's stage and stores it
    job = mastering.BackgroundMeasurement(s)
    bg = job.wait(120)
    assert job.error is None and bg is not None
    assert bg.gain_db == pytest.approx(full.gain_db, abs=1e-9)
    assert mastering.cached_stage(s).gain_db == bg.gain_db


def test_a_temperature_override_binds_the_parameters_to_it(tmp_path):
    from resonator.render import render_array
    from tests.conftest import peak_hz

    p = tmp_path / "e.toml"
    p.write_text(LONG)
    planned = build_session(p, sr=8000)
    hot = build_session(p, sr=8000, temperature=lambda t: np.ones_like(np.asarray(t, float)))
    # over 0.5-4.5 s the plan warms linearly from T = 1/60 to 9/60 (mean 1/12): beat 4 + 4 T
    for s, beat in ((planned, 4.0 + 4.0 / 12), (hot, 8.0)):
        x = render_array(s.node, 4.0, sr=8000, start_s=0.5)
        got = peak_hz(x[0], 8000, 250, 350) - peak_hz(x[1], 8000, 250, 350)
        assert got == pytest.approx(beat, abs=0.05)


def test_an_edited_music_file_makes_a_new_key(tmp_path):
    import os

    music = tmp_path / "m.wav"
    sf.write(music, np.zeros((8000, 2), dtype=np.float32), 8000)
    p = tmp_path / "m.toml"
    p.write_text('title = "m"\n\n[[phase]]\nname = "a"\nduration = "60s"\n\n[[layer]]\n'
                 'name = "song"\nkind = "music"\nfile = "m.wav"\n')
    k1 = mastering.stage_key(build_session(p, sr=8000))
    assert mastering.stage_key(build_session(p, sr=8000)) == k1
    sf.write(music, np.full((8000, 2), 0.1, dtype=np.float32), 8000)
    os.utime(music, ns=(1, 1))  # a new time as well as new content
    assert mastering.stage_key(build_session(p, sr=8000)) != k1


def test_play_takes_the_stage_a_render_stored(recipe, tmp_path):
    """The cache key does not depend on whether the graph was prepared: render looks it up
    before preparing its graph, play after (its filters and noise set warm-up lengths then)."""
    from resonator.playback import SessionStream
    from resonator.render import Renderer

    session = build_session(recipe, sr=16000)
    key = mastering.stage_key(session)
    next(Renderer(session.node, sr=16000, seed=session.seed).blocks(0, 4096))
    assert mastering.stage_key(session) == key
    render_recipe(recipe, tmp_path / "a.wav", sr=16000)
    stream = SessionStream(build_session(recipe, sr=16000), start_s=2.0, measure=False)
    try:
        assert not stream.mastering.estimated
        assert stream.mastering.gain_db == mastering.cached_stage(session).gain_db
    finally:
        stream.close()


def test_the_code_stamp_follows_every_module_and_the_kernels(tmp_path):
    """The stage key's code part changes with any module's or the compiled kernels' size or
    modification time, not with __pycache__ or other files."""
    import os

    from resonator.mastering import tree_stamp

    (tmp_path / "sub" / "__pycache__").mkdir(parents=True)
    for name in ("a.py", "sub/b.py", "_kernels.so", "notes.txt", "sub/__pycache__/b.pyc"):
        (tmp_path / name).write_text("x")
    first = tree_stamp(tmp_path)
    for name in ("notes.txt", "sub/__pycache__/b.pyc"):
        (tmp_path / name).write_text("changed")
    assert tree_stamp(tmp_path) == first
    for name in ("sub/b.py", "_kernels.so"):
        st = os.stat(tmp_path / name)
        os.utime(tmp_path / name, ns=(st.st_atime_ns, st.st_mtime_ns + 1000))
        now = tree_stamp(tmp_path)
        assert now != first
        first = now
    (tmp_path / "a.py").write_text("y2")  # size
    assert tree_stamp(tmp_path) != first

