"""Known-answer tests of check's music readings in a mix: the metrical level a short window
cannot settle, splatter under music, and the plan rendered at the file's rate for music."""
from __future__ import annotations

import types

import numpy as np
import pytest
import soundfile as sf

from resonator.check.kinds import music as kinds_music


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("RESONATOR_CACHE_DIR", str(tmp_path / "cache"))


SWAY, DRIFT = "03-sway-108.ogg", "04-drift-92.ogg"


def _target(kind, expected, tolerance, start_s=0.0, end_s=15.0, **params):
    from resonator.check.targets import make_target

    return make_target(kind, start_s, end_s, expected, tolerance, layer="music",
                       source="layer", params=params)


def _evaluate(monkeypatch, readings, kind, expected, tolerance, *, span=(0.0, 15.0),
              **params):
    """Evaluate a music target on a window whose analysis gives ``readings`` (the chosen
    level first, then the runner-up levels: bpm, ratio, probability); a function of the
    read's start second gives them per read."""
    import resonator.measure.music as mm

    per_read = readings if callable(readings) else (lambda a: readings)
    monkeypatch.setattr(mm, "tempo_levels", lambda x, sr: [
        {"bpm": b, "ratio": r, "probability": p} for b, r, p in per_read(float(x[0, 0]))])
    ctx = types.SimpleNamespace(read=lambda a, b, limit=None: (np.full((2, 100), a), 1000),
                                offset_s=0.0)
    t = _target(kind, expected, tolerance, *span, **params)
    return kinds_music.__dict__[kind](t, ctx)


# the 15 s window at 10:03 of mettannealing-music: drones under the 106.39 BPM groove
HALF_READ = [(53.18, 1.0, 0.52), (106.36, 2.0, 0.45)]
PLANNED = {SWAY: 106.39, DRIFT: 90.63}


def test_an_unsettled_metrical_level_is_inconclusive_for_the_tempo(monkeypatch):
    r = _evaluate(monkeypatch, HALF_READ, "music_tempo", 106.39, 1.06)
    assert r.passed is None and r.measured == 53.18
    assert "2x its 53.18 BPM" in r.detail["inconclusive"]
    # a runner-up less than half as likely as the chosen level does not count: a failure
    weak = [(53.18, 1.0, 0.52), (106.36, 2.0, 0.25)]
    assert _evaluate(monkeypatch, weak, "music_tempo", 106.39, 1.06).passed is False
    # a runner-up level outside the tolerance is no excuse either (a wrong tempo fails)
    off = [(53.18, 1.0, 0.52), (110.0, 2.0, 0.45)]
    assert _evaluate(monkeypatch, off, "music_tempo", 106.39, 1.06).passed is False
    assert _evaluate(monkeypatch, [(106.40, 1.0, 0.9)], "music_tempo", 106.39, 1.06).passed


def test_the_file_is_told_at_the_level_that_matches_one(monkeypatch):
    r = _evaluate(monkeypatch, HALF_READ, "music_track", 1, 0, track=SWAY,
                  expected_bpm=PLANNED)
    assert r.passed and r.measured == 1.0 and "106.36 BPM (2x" in r.detail["told_by"]
    # the same reading does not make drift the file playing
    r = _evaluate(monkeypatch, HALF_READ, "music_track", 1, 0, track=DRIFT,
                  expected_bpm=PLANNED)
    assert not r.passed and r.measured == 2.0 and r.detail["best"] == SWAY
    # without the runner-up level, 53.18 BPM is nearest drift (as before): sway ranks 2
    weak = [(53.18, 1.0, 0.52), (106.36, 2.0, 0.2)]
    r = _evaluate(monkeypatch, weak, "music_track", 1, 0, track=SWAY, expected_bpm=PLANNED)
    assert not r.passed and r.measured == 2.0 and "told_by" not in r.detail
    # the chosen level comes first when it matches a file (a 2/3 runner-up matching sway at
    # 106.39 does not override drift at 90.6)
    both = [(90.6, 1.0, 0.5), (106.39, 1.5, 0.45)]  # (not a real 3/2 pair: the order rules)
    r = _evaluate(monkeypatch, both, "music_track", 1, 0, track=DRIFT, expected_bpm=PLANNED)
    assert r.passed and "told_by" not in r.detail


def test_a_boundary_side_is_told_at_the_matching_level(monkeypatch):
    # sway before the join (read at half time, its double the runner-up), drift after it
    def side(a):
        return HALF_READ if a < 15.0 else [(90.7, 1.0, 0.8)]
    hints = dict(join_s=(15.0, 21.0), bpm_before=PLANNED, bpm_after=PLANNED)
    r = _evaluate(monkeypatch, side, "music_boundary", 2, 0, span=(3.0, 33.0), out=SWAY,
                  **{"in": DRIFT}, **hints)
    assert r.passed and r.measured == 2.0 and "2x level" in r.detail["before"]
    r = _evaluate(monkeypatch, side, "music_boundary", 2, 0, span=(3.0, 33.0), out=DRIFT,
                  **{"in": DRIFT}, **hints)
    assert not r.passed and r.measured == 1.0


def _tone_file(path, seconds, sr, hz):
    t = np.arange(int(seconds * sr)) / sr
    x = 0.3 * np.sin(2 * np.pi * hz * t) + 0.2 * np.sin(2 * np.pi * 1.5 * hz * t)
    sf.write(str(path), np.stack([x, x], 1), sr)


def test_splatter_is_not_read_where_music_plays_over_its_band(tmp_path):
    """An isochronic tone in two phases, music (a 330 Hz chord on 300 Hz's lines' band) in
    the first only: the first phase's splatter target is skipped with the reason, the
    second's is measured."""
    from resonator.check.targets import targets_from_session
    from resonator.recipe.session import build_session

    _tone_file(tmp_path / "chord.wav", 8.0, 16000, 330.0)
    (tmp_path / "r.toml").write_text(
        'sample_rate = 16000\n[[phase]]\nname = "a"\nduration = "30s"\n'
        '[[phase]]\nname = "b"\nduration = "30s"\n'
        '[[layer]]\nname = "iso"\nkind = "isochronic"\ncarrier = "300 Hz"\nrate = "10 Hz"\n'
        '[[layer]]\nname = "m"\nkind = "music"\nfile = "chord.wav"\nphases = ["a"]\n')
    ts = [t for t in targets_from_session(build_session(tmp_path / "r.toml"))
          if t.kind == "splatter"]
    by = {t.phase: t for t in ts}
    assert set(by) == {"a", "b"}
    assert "layer m's notes and transients cover iso's splatter band" in \
        by["a"].params["unmeasurable"]
    assert "unmeasurable" not in by["b"].params and "splatter_band" in by["b"].params


def test_the_plan_of_a_music_session_is_rendered_at_the_files_rate(tmp_path):
    """Music is decoded and time-stretched at the session's rate, so the plan check compares
    against is rendered at the file's rate: the beat lock of a render reads 0 ms against it
    (1.1 and 1.6 ms against a plan at half the rate), the same file 20 ms late reads 20 ms
    and fails; a session without music keeps the cheap low rate."""
    from resonator.check import check_file
    from resonator.check.runner import Plan
    from resonator.loading import load
    from resonator.music.synth import groove
    from resonator.recipe import render_recipe

    sf.write(str(tmp_path / "g.flac"), groove(120.0, 8, 22050, pattern="stride").T, 22050)
    (tmp_path / "r.toml").write_text(
        'sample_rate = 16000\nfade_in = "1s"\nfade_out = "1s"\n'
        '[[phase]]\nname = "main"\nduration = "30s"\n'
        '[[layer]]\nname = "m"\nkind = "music"\nfile = "g.flac"\ncrossfade_s = 0\n'
        'tempo = 0.9\nmod_depth = 0.5\nmod_sync = "beat"\n'
        '[[layer]]\nname = "air"\nkind = "noise"\ngain = "-30 dB"\n')
    assert Plan(load(tmp_path / "r.toml"), 0.0, sr_hint=16000).session().sr == 16000
    out = tmp_path / "r.wav"
    render_recipe(tmp_path / "r.toml", out, normalize=False, bits="32f")
    x, sr = sf.read(str(out), always_2d=True)
    late = tmp_path / "late.wav"
    d = int(0.020 * sr)
    sf.write(str(late), np.concatenate([np.zeros((d, 2)), x[:-d]]), sr, subtype="FLOAT")
    for wav, want, ok in ((out, 0.0, True), (late, 20.0, False)):
        rep = check_file(wav, tmp_path / "r.toml", use_sidecar=False)
        locks = [r for r in rep.results if r.target.kind == "music_beat_lock"]
        assert locks and all(abs(r.measured - want) < (1e-3 if ok else 2.0) and
                             r.passed is ok for r in locks), [(r.measured, r.passed)
                                                             for r in locks]
    (tmp_path / "n.toml").write_text(
        'fade_in = "1s"\nfade_out = "1s"\n[[phase]]\nname = "main"\nduration = "30s"\n'
        '[[layer]]\nname = "air"\nkind = "noise"\ngain = "-30 dB"\n')
    assert Plan(load(tmp_path / "n.toml"), 0.0, sr_hint=16000).session().sr == 8000


def test_a_long_plan_span_rendered_in_two_lanes_is_one_lanes_bit_for_bit(tmp_path, monkeypatch):
    """The plan renders a long span in two lanes (a second graph renders the second half
    into a temporary file): a music session (time-stretched, so Rubber Band's state) with a
    low-pass filter gives the same blocks, loudness and centroids as one lane, bit for bit."""
    import resonator.recipe.render as recipe_render
    from resonator.check.runner import Plan
    from resonator.loading import load
    from resonator.music.synth import groove

    sf.write(str(tmp_path / "g.flac"), groove(120.0, 8, 22050, pattern="stride").T, 22050)
    (tmp_path / "r.toml").write_text(
        'sample_rate = 16000\n[[phase]]\nname = "main"\nduration = "60s"\n'
        '[[layer]]\nname = "m"\nkind = "music"\nfile = "g.flac"\ncrossfade_s = 0\n'
        'tempo = 0.9\nmod_depth = 0.5\nmod_sync = "beat"\n'
        '[[layer]]\nname = "air"\nkind = "noise"\ngain = "-30 dB"\n'
        'lowpass = "1200 Hz"\n')
    twins = []
    real_twin = recipe_render.twin_graph
    monkeypatch.setattr(recipe_render, "twin_graph", lambda s: twins.append(1) or real_twin(s))

    def measured(lanes_min_s):
        plan = Plan(load(tmp_path / "r.toml"), 0.0, sr_hint=16000)
        plan.LANES_MIN_S = lanes_min_s
        blocks = [np.array(b) for b in plan._blocks(3.0, 50.3)]
        return blocks, plan._measure(3.0, 53.0)

    one, m_one = measured(1e9)
    assert twins == []
    two, m_two = measured(10.0)
    assert len(twins) == 2  # (the blocks, then the measure)
    assert [b.shape for b in two] == [b.shape for b in one]
    assert sum(b.shape[1] for b in one) == round(50.3 * 16000)
    assert all(np.array_equal(a, b) for a, b in zip(one, two))
    assert np.ptp(np.concatenate(one, axis=1)) > 0.1  # (music plays: not silence on both)
    for a, b in zip(m_one, m_two):
        assert a.size > 40 and np.array_equal(a, b, equal_nan=True)

    def no_temp(*a, **k):
        raise PermissionError("read-only")

    monkeypatch.setattr("tempfile.TemporaryFile", no_temp)  # nowhere to spill: one lane
    three, m_three = measured(10.0)
    assert len(twins) == 2 and all(np.array_equal(a, b) for a, b in zip(one, three))
    assert all(np.array_equal(a, b, equal_nan=True) for a, b in zip(m_one, m_three))
