"""A cold window render keeps only its own frames and those its true peaks need
(mastering.WindowCache), and still gives the full render's samples and stage."""
import json
import tempfile
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

import resonator.mastering as mastering
import resonator.recipe.render as recipe_render
from resonator.measure.loudness import TP_REACH
from resonator.recipe import render_recipe

SR = 8000
# 70 s: a quiet tone, with a loud pulse train from 30 s to 36 s (limited under the ceiling)
RECIPE = """
title = "burst"
loudness = "-16 LUFS"
fade_in = "0.5s"
fade_out = "0.5s"

[[phase]]
name = "calm"
duration = "30s"

[[phase]]
name = "burst"
duration = "6s"

[[phase]]
name = "after"
duration = "34s"

[[layer]]
name = "tone"
kind = "binaural"
carrier = "300 Hz"
beat = "6 Hz"
gain = "-20 dB"

[[layer]]
name = "pulse"
kind = "isochronic"
carrier = "700 Hz"
rate = "8 Hz"
gain = { calm = "-60 dB", burst = "-2 dB", after = "-60 dB", glide = "1s" }
"""


@pytest.fixture(scope="module")
def full(tmp_path_factory):
    """The recipe and its full render (32-bit float, measured cold)."""
    d = tmp_path_factory.mktemp("burst")
    p = d / "burst.toml"
    p.write_text(RECIPE)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("RESONATOR_CACHE_DIR", tempfile.mkdtemp(dir=d))
        f = render_recipe(p, d / "f.wav", sr=SR, bits="32f", mastering_cache=False)
    x, _ = sf.read(d / "f.wav", dtype="float32")
    return p, f, x


@pytest.fixture
def spies(monkeypatch):
    """The WindowCaches made and the frames rendered again for true peaks."""
    made, again = [], []

    class Spy(mastering.WindowCache):
        def __init__(self, *a, **kw):
            super().__init__(*a, **kw)
            made.append(self)
    real = mastering._ForwardReader.read

    def counted(self, lo, hi):
        again.append((lo, hi))
        return real(self, lo, hi)
    monkeypatch.setattr(mastering, "WindowCache", Spy)
    monkeypatch.setattr(mastering._ForwardReader, "read", counted)
    return made, again


def _stage(path):
    """The sidecar's loudness result, less what the output meter saw of this file."""
    res = json.loads(Path(path).with_suffix(".json").read_text())["loudness"]["result"]
    return {k: v for k, v in res.items() if not k.startswith("output_")}


def _window(p, tmp_path, start_s, dur_s):
    return render_recipe(p, tmp_path / "w.wav", sr=SR, bits="32f", start=f"{start_s}s",
                         duration=f"{dur_s}s", mastering_cache=False)


def test_a_cold_window_keeps_its_frames_and_the_loud_ones_only(full, spies, tmp_path):
    p, f, x = full
    made, again = spies
    assert f.mastering["limited_hops"] > 0  # the burst passes the ceiling: true peaks matter
    w = _window(p, tmp_path, 50, 5)
    y, _ = sf.read(tmp_path / "w.wav", dtype="float32")
    assert np.array_equal(x[50 * SR:55 * SR], y)
    assert _stage(tmp_path / "w.wav") == _stage(f.path)
    assert w.mastering["limited_hops"] == f.mastering["limited_hops"]
    (cache,) = made
    # nothing but the window went to disk; the true peaks of the hops around the burst's
    # pulses (within 6 s of 80-frame hops: 600) were measured during the pass, not the quiet rest
    assert cache.bytes_written == 5 * SR * 2 * 4
    assert 100 < cache.measured_hops < 800
    # rendered again: at most the seam of the two measuring lanes (a few hops)
    assert sum(hi - lo for lo, hi in again) < 0.5 * SR


def test_what_a_window_did_not_keep_is_rendered_again_exactly(full, spies, tmp_path,
                                                              monkeypatch):
    p, f, x = full
    made, again = spies
    # an estimate far too loud: no frame outside the window passes the keep level
    monkeypatch.setattr(recipe_render, "WINDOW_KEEP_MARGIN_DB", -40.0)
    _window(p, tmp_path, 12, 3)
    y, _ = sf.read(tmp_path / "w.wav", dtype="float32")
    assert np.array_equal(x[12 * SR:15 * SR], y)
    assert _stage(tmp_path / "w.wav") == _stage(f.path)
    (cache,) = made
    assert cache.measured_hops == 0 and cache.bytes_written == 3 * SR * 2 * 4
    assert sum(hi - lo for lo, hi in again) > 5 * SR // 2  # the burst's candidates


def test_window_cache_measures_the_hops_around_loud_ones_as_they_pass(tmp_path):
    """The true peaks of hops h - 1 .. h + 1 of every loud hop h, measured block by block
    (across block edges, from the float32 samples), equal hop_true_peaks of the whole
    signal; exact above the known peak (capped at the keep level), never above it
    otherwise; the window's own frames are read back as stored."""
    from resonator.measure.loudness import hop_true_peaks

    hop, n = 100, 4000
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, n)) * 0.01
    x[1, 1234] = 0.9  # loud hops: 12 and 30 (30 at an edge of the 512-frame blocks)
    x[0, 3050] = -0.8
    x[0, 3070] = 0.25  # under the keep level, with a true peak above 0.2
    exact = hop_true_peaks(x, 0, np.arange(n // hop), hop, n, round32=True)
    for known, thr in ((None, None), (0.2, 0.2), (0.9, 0.5)):
        with mastering.WindowCache(tmp_path, 2, 2000, 500, 512, hop=hop, keep_level=0.5,
                                   session_frames=n) as c:
            for pos in range(0, n, 512):  # one lane, in order
                c.store(pos, x[:, pos:pos + 512], known_peak=known)
            assert c.measured_hops == 6 and c.bytes_written == 500 * 2 * 4
            want = np.array([11, 12, 13, 29, 30, 31, 35])
            values, ok = c.true_peaks(want, thr)
            assert ok.tolist() == [True] * 6 + [False]
            over = ok & (exact[want] > (thr or 0))
            assert values[over].tolist() == exact[want][over].tolist()
            assert np.all(values[ok & ~over] <= thr)
            if thr == 0.5:
                assert over.sum() == 2  # hops 12 and 30 only
            # a caller needing exact values above less than the level measured at: none
            assert not c.true_peaks(want, 0.1)[1].any() if known else True
            assert c.holds(2000, 2500) and not c.holds(1990, 2010)
            assert np.array_equal(c.read(2100, 2400), x[:, 2100:2400].astype(np.float32))
            w = np.concatenate([b for _, b in c.blocks()], axis=1)
            assert np.array_equal(w, x[:, 2000:2500].astype(np.float32))
