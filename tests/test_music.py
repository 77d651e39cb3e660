"""Known-answer tests of the music layer: streaming, playlists, stretch, shift, selection."""
from __future__ import annotations

import json
import math

import numpy as np
import pytest
import soundfile as sf

from layer_helpers import build, make_ctx
from resonator.errors import RecipeError
from resonator.measure.frequency import peak_frequency
from resonator.render import render_array


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    """Every test analyses into its own cache folder."""
    monkeypatch.setenv("RESONATOR_CACHE_DIR", str(tmp_path / "cache"))


def tone(path, seconds, sr, freq, amp=0.5, channels=2, subtype=None):
    t = np.arange(int(round(seconds * sr))) / sr
    x = amp * np.sin(2 * np.pi * freq * t)
    sf.write(str(path), np.stack([x] * channels, axis=1), sr, subtype=subtype)
    return x


def amp_at(x, sr, freq, a, b, others=()):
    """Least-squares amplitude of a sine of ``freq`` in samples [a, b) of one channel, fitted
    together with sines of the ``others`` frequencies."""
    t = np.arange(a, b) / sr
    cols = []
    for f in (freq, *others):
        cols += [np.sin(2 * np.pi * f * t), np.cos(2 * np.pi * f * t)]
    c, *_ = np.linalg.lstsq(np.stack(cols, axis=1), x[a:b], rcond=None)
    return float(np.hypot(c[0], c[1]))


# ----------------------------------------------------------------------------- tracks
def test_pages_join_exactly_and_resampling_keeps_pitch_and_level(tmp_path):
    from resonator.music.tracks import PAGE_FRAMES, TrackReader, track_info

    tone(tmp_path / "a.flac", 4.0, 22050, 441.0, subtype="PCM_24")
    info = track_info(tmp_path / "a.flac")
    whole = TrackReader(info, 48000).read(0, info.frames_at(48000))
    assert whole.shape == (2, int(math.ceil(4.0 * 48000)))
    r = TrackReader(info, 48000)
    step = 7919  # pages are 65536: blocks of a prime length cross every page boundary
    parts = np.concatenate([r.read(a, step) for a in range(0, whole.shape[1], step)], axis=1)
    assert np.array_equal(parts[:, : whole.shape[1]], whole)
    # a far window first (a seek), then an earlier one
    r2 = TrackReader(info, 48000)
    assert np.array_equal(r2.read(PAGE_FRAMES + 5, 3000), whole[:, PAGE_FRAMES + 5: PAGE_FRAMES + 3005])
    assert np.array_equal(r2.read(10, 3000), whole[:, 10:3010])
    # unpaged (an estimate's short reads): the same frames, across a page boundary too,
    # computed (nothing in the shared store, and nothing put there) and from stored pages
    from resonator.music.tracks import PAGES

    for stored in (False, True):
        if not stored:
            PAGES.clear()
        r3 = TrackReader(info, 48000, paged=False)
        for a, n in ((PAGE_FRAMES - 100, 3000), (3, 1), (whole.shape[1] - 50, 100)):
            assert np.array_equal(r3.read(a, n)[:, : max(0, min(n, whole.shape[1] - a))],
                                  whole[:, a: a + n])
        if not stored:
            assert PAGES.nbytes == 0
            TrackReader(info, 48000).read(0, whole.shape[1])  # pages 0..2 stored
            assert PAGES.nbytes == 3 * PAGE_FRAMES * 2 * 4
    mid = whole[0, 24000:168000]
    assert abs(peak_frequency(mid, 48000, 300, 600) - 441.0) < 1e-3
    assert abs(amp_at(whole[0], 48000, 441.0, 24000, 168000) - 0.5) < 2e-4
    # silence past the end, mono played in both ears
    assert not np.any(r2.read(whole.shape[1] + 10, 100))


def test_readers_share_pages_within_a_budget_and_a_changed_file_is_read_again(
        tmp_path, monkeypatch):
    """Every reader of a file (a looping playlist, a second measuring lane, a stand-in pass)
    decodes and resamples each page once; the store keeps to its budget; a file rewritten
    under the same name is a new file."""
    import threading

    import resonator.kernels as kernels
    from resonator.music.tracks import PAGE_FRAMES, PAGES, TrackReader, track_info

    tone(tmp_path / "a.flac", 6.0, 22050, 441.0, subtype="PCM_24")
    info = track_info(tmp_path / "a.flac")
    n = info.frames_at(48000)  # 288000 frames: pages 0..4
    calls = []
    real = kernels.resample
    monkeypatch.setattr(kernels, "resample", lambda *a: calls.append(1) or real(*a))
    PAGES.clear()
    whole = TrackReader(info, 48000).read(0, n)
    assert len(calls) == 5
    again = TrackReader(info, 48000).read(0, n)  # another reader: from the store
    assert len(calls) == 5 and np.array_equal(whole, again)
    # two threads reading at once get the same frames
    PAGES.clear()
    got = [None, None]

    def run(i):
        got[i] = TrackReader(info, 48000).read(0, n)
    threads = [threading.Thread(target=run, args=(i,)) for i in (0, 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert np.array_equal(got[0], whole) and np.array_equal(got[1], whole)
    # the budget: two pages' worth keeps two pages, the most recent
    page_bytes = PAGE_FRAMES * 2 * 4
    monkeypatch.setattr(PAGES, "budget", 2 * page_bytes)
    PAGES.clear()
    TrackReader(info, 48000).read(0, n)
    assert PAGES.nbytes == 2 * page_bytes
    calls.clear()
    TrackReader(info, 48000).read(3 * PAGE_FRAMES, n - 3 * PAGE_FRAMES)  # pages 3, 4: kept
    assert len(calls) == 0
    TrackReader(info, 48000).read(0, 100)  # page 0 was dropped
    assert len(calls) == 1
    # the file rewritten (another tone, same name and length): read again, not from the store
    tone(tmp_path / "a.flac", 6.0, 22050, 882.0, subtype="PCM_24")
    new = TrackReader(track_info(tmp_path / "a.flac"), 48000).read(3 * PAGE_FRAMES, 4800)
    assert abs(amp_at(new[0], 48000, 882.0, 0, 4800, others=(441.0,)) - 0.5) < 1e-3
    assert amp_at(new[0], 48000, 441.0, 0, 4800, others=(882.0,)) < 1e-3


def test_resampler_equals_scipy_upfirdn_with_the_same_filter(tmp_path):
    """The compiled polyphase resampler is scipy's upfirdn with a Kaiser firwin, to float32
    rounding, at a rate pair that is not an integer ratio (44.1 -> 48 kHz)."""
    from scipy.signal import firwin, upfirdn

    from resonator.music.tracks import KAISER_BETA, TrackReader, track_info

    rng = np.random.default_rng(7)
    x = (0.3 * rng.standard_normal((9000, 2))).astype(np.float32)
    sf.write(str(tmp_path / "n.wav"), x, 44100, subtype="FLOAT")
    r = TrackReader(track_info(tmp_path / "n.wav"), 48000)
    got = r.read(0, r.frames)
    h = firwin(2 * r.half + 1, 1.0 / max(r.up, r.down), window=("kaiser", KAISER_BETA)) * r.up
    want = upfirdn(h, x.T.astype(np.float64), r.up, r.down, axis=1)
    want = want[:, r.half // r.down: r.half // r.down + r.frames]
    assert got.shape == want.shape == (2, 9796)
    assert np.max(np.abs(got - want)) < 1e-6


def test_running_median_is_scipys_median_filter():
    from scipy.ndimage import median_filter

    from resonator.music.beats import _running_median

    rng = np.random.default_rng(3)
    for n in range(1, 30):
        d = rng.random(n)
        size = min(9, n)
        assert np.array_equal(_running_median(d, size), median_filter(d, size=size,
                                                                       mode="nearest"))


def test_unreadable_and_missing_files_name_the_path(tmp_path):
    (tmp_path / "bad.wav").write_bytes(b"not audio")
    with pytest.raises(RecipeError, match="nothere.wav.*no such music file"):
        build("music", make_ctx(16000, 4.0, recipe_dir=tmp_path), file="nothere.wav")
    with pytest.raises(RecipeError, match="bad.wav.*WAV, FLAC, OGG and MP3 work"):
        build("music", make_ctx(16000, 4.0, recipe_dir=tmp_path), files=["bad.wav"])
    with pytest.raises(RecipeError, match="holds no audio files"):
        (tmp_path / "empty").mkdir()
        build("music", make_ctx(16000, 4.0, recipe_dir=tmp_path), folder="empty")
    with pytest.raises(RecipeError, match="needs file"):
        build("music", make_ctx(16000, 4.0, recipe_dir=tmp_path))
    with pytest.raises(RecipeError, match="not files and folder"):
        build("music", make_ctx(16000, 4.0, recipe_dir=tmp_path), files=["a.wav"],
              folder="x")


# ----------------------------------------------------------------------------- playlists
def test_playlist_order_boundaries_and_equal_power_crossfades(tmp_path):
    sr = 16000
    freqs = {"a.wav": 300.0, "b.wav": 500.0, "c.wav": 700.0}
    for name, f in freqs.items():
        tone(tmp_path / name, 3.0, sr, f)
    ctx = make_ctx(sr, 12.0, recipe_dir=tmp_path)
    node = build("music", ctx, files=["b.wav", "a.wav", "c.wav"], crossfade_s=0.5)
    x = render_array(node, 12.0, sr=sr)[0]
    # b [0, 3), a [2.5, 5.5), c [5, 8), b again [7.5, 10.5), a [10, 13)
    plays = [("b", 0.0), ("a", 2.5), ("c", 5.0), ("b", 7.5), ("a", 10.0)]
    for name, start in plays:
        a, b = int((start + 0.75) * sr), int(min(start + 2.25, 12.0) * sr)
        assert abs(amp_at(x, sr, freqs[name + ".wav"], a, b) - 0.5) < 1e-3, name
        for other, f in freqs.items():
            if other != name + ".wav":
                assert amp_at(x, sr, f, a, b) < 1e-3
    # the crossfade b -> a over [2.5, 3.0): cos / sin gains, equal power at the middle
    c = int(2.75 * sr)
    h = int(0.02 * sr)
    assert abs(amp_at(x, sr, 500.0, c - h, c + h, [300.0]) - 0.5 * math.cos(math.pi / 4)) < 0.003
    assert abs(amp_at(x, sr, 300.0, c - h, c + h, [500.0]) - 0.5 * math.sin(math.pi / 4)) < 0.003


def test_gapless_loop_is_sample_exact(tmp_path):
    sr = 16000
    x0 = tone(tmp_path / "loop.wav", 1.0, sr, 250.0, subtype="FLOAT")  # 250 whole cycles
    node = build("music", make_ctx(sr, 5.0, recipe_dir=tmp_path), file="loop.wav",
                 crossfade_s=0.0)
    x = render_array(node, 5.0, sr=sr)
    want = np.tile(x0, 5)
    np.testing.assert_allclose(x[0], want, atol=1e-7)
    np.testing.assert_allclose(x[1], want, atol=1e-7)


def test_per_phase_playlists_change_at_the_boundary_and_render_windows(tmp_path):
    sr = 16000
    tone(tmp_path / "hot.wav", 2.0, sr, 400.0)
    tone(tmp_path / "cold.wav", 2.0, sr, 250.0)
    phases = [("energize", 0.0, 5.0), ("cool", 5.0, 10.0)]
    ctx = make_ctx(sr, 10.0, phases=phases, recipe_dir=tmp_path)
    node = build("music", ctx, files={"energize": ["hot.wav"], "cool": ["cold.wav"]},
                 crossfade_s=0.4)
    x = render_array(node, 10.0, sr=sr, block_frames=4096)
    assert amp_at(x[0], sr, 400.0, int(4.0 * sr), int(4.7 * sr)) > 0.49
    assert amp_at(x[0], sr, 250.0, int(5.3 * sr), int(6.0 * sr)) > 0.49
    # the crossfade is centred on the phase boundary
    c, h = 5 * sr, int(0.02 * sr)
    assert abs(amp_at(x[0], sr, 400.0, c - h, c + h, [250.0]) - 0.5 * math.cos(math.pi / 4)) \
        < 0.003
    assert amp_at(x[0], sr, 400.0, c + int(0.25 * sr), c + int(0.5 * sr), [250.0]) < 1e-3
    w = render_array(node, 1.5, sr=sr, start_s=4.5)
    np.testing.assert_array_equal(w, x[:, int(4.5 * sr): int(6.0 * sr)])
    with pytest.raises(RecipeError, match="unknown phase 'coool'.*did you mean 'cool'"):
        build("music", ctx, files={"energize": ["hot.wav"], "coool": ["cold.wav"]})


def test_shuffle_follows_the_session_seed(tmp_path):
    from resonator.music.plan import plan_music

    sr = 8000
    names = [f"{i}.wav" for i in range(8)]
    for i, n in enumerate(names):
        tone(tmp_path / n, 1.0, sr, 200.0 + 50 * i)

    def order(seed):
        ctx = make_ctx(sr, 7.0, recipe_dir=tmp_path)
        ctx.seed = seed
        plan = plan_music({"files": names, "order": "shuffle", "crossfade_s": 0.0}, ctx)
        return [plan.tracks[i].path.name for i in plan.runs[0].order]
    assert order(1) == order(1)
    assert order(1) != order(2)
    assert sorted(order(1)) == names and order(1) != names


# ----------------------------------------------------------------------------- analysis
def _grooves(folder, sr=22050, bars=4):
    from resonator.music.synth import groove

    folder.mkdir(exist_ok=True)
    bpms = {"fast.flac": 132.0, "mid.flac": 120.0, "slow.flac": 96.0}
    for (name, bpm), pattern in zip(bpms.items(), ("drive", "stride", "drift")):
        sf.write(str(folder / name), groove(bpm, bars, sr, pattern=pattern).T, sr)
    return bpms


def test_selection_ordering_and_the_analysis_cache(tmp_path, monkeypatch):
    from resonator.music import library
    from resonator.music.plan import plan_music

    bpms = _grooves(tmp_path / "lib")
    seen = []
    cache = library.AnalysisCache(progress=seen.append)
    ctx = make_ctx(16000, 20.0, recipe_dir=tmp_path)
    plan = plan_music({"folder": "lib", "order": "tempo-descending", "crossfade_s": 0.0,
                       "select": {"tempo": "100..140 BPM", "pulse": "significant"}}, ctx,
                      cache=cache)
    assert [plan.tracks[i].path.name for i in plan.runs[0].order] == ["fast.flac", "mid.flac"]
    for t, rep in zip(plan.tracks, plan.reports):
        assert abs(rep["tempo"]["bpm"] / bpms[t.path.name] - 1) < 0.01
    assert len(seen) == 3  # each file analysed once
    files = list((tmp_path / "cache" / "music-analysis").glob("*.json"))
    assert len(files) == 3 and "tempo" in json.loads(files[0].read_text())["payload"]
    # a new run reads the cache (no analysis), also for a renamed copy of a file
    (tmp_path / "lib" / "slow.flac").rename(tmp_path / "lib" / "renamed.flac")
    seen2 = []
    plan = plan_music({"folder": "lib", "order": "tempo-ascending", "crossfade_s": 0.0}, ctx,
                      cache=library.AnalysisCache(progress=seen2.append))
    assert seen2 == []
    assert [plan.tracks[i].path.name for i in plan.runs[0].order] == \
        ["renamed.flac", "mid.flac", "fast.flac"]
    # new content or a new analysis version: analysed again
    sf.write(str(tmp_path / "lib" / "mid.flac"), np.zeros((2000, 2)), 22050)
    monkeypatch.setattr(library, "_VERSION", "other")
    seen3 = []
    library.AnalysisCache(progress=seen3.append).reports(
        sorted((tmp_path / "lib").glob("*.flac")))
    assert len(seen3) == 3


def test_a_folder_carries_its_analysis(tmp_path, monkeypatch):
    """A folder's resonator-analysis.json serves an empty user cache (no analysis), for the
    same bytes under any name; other bytes or other analysis code miss it."""
    from resonator.music import library

    _grooves(tmp_path / "lib")
    written = library.write_folder_analysis(tmp_path / "lib", progress=lambda m: None)
    assert written == tmp_path / "lib" / library.FOLDER_ANALYSIS
    files = sorted((tmp_path / "lib").glob("*.flac"))
    monkeypatch.setenv("RESONATOR_CACHE_DIR", str(tmp_path / "empty"))
    (tmp_path / "lib" / "slow.flac").rename(tmp_path / "lib" / "renamed.flac")
    files = sorted((tmp_path / "lib").glob("*.flac"))
    seen = []
    reps = library.AnalysisCache(progress=seen.append).reports(files)
    assert seen == []
    entries = json.loads(written.read_text())["entries"]
    assert reps == [entries[library.analysis_key(library.file_sha256(f))] for f in files]
    assert reps[0]["beat_onsets"] and not (tmp_path / "empty" / "music-analysis").exists()
    sf.write(str(tmp_path / "lib" / "mid.flac"), np.zeros((2000, 2)), 22050)
    seen = []
    library.AnalysisCache(progress=seen.append).reports(files)
    assert seen == ["analysing music 2/3: mid.flac (once; cached in "
                    f"{tmp_path / 'empty' / 'music-analysis'})"]
    monkeypatch.setattr(library, "_VERSION", "other")
    seen = []
    library.AnalysisCache(progress=seen.append).reports(files)
    assert len(seen) == 3


def test_the_bundled_music_ships_its_current_analysis():
    """Every bundled groove has an entry for the current analysis code, equal to a fresh
    analysis: the first play of mettannealing-music does not analyse for seconds. When the
    analysis code changes, regenerate: python -m resonator.music.library recipes/music"""
    from resonator import shipped
    from resonator.music import library

    folder = shipped.recipes_dir() / "music"
    entries = library.folder_analysis(folder)
    for f in library.folder_tracks(folder):
        key = library.analysis_key(library.file_sha256(f))
        assert key in entries, (
            f"{folder / library.FOLDER_ANALYSIS} has no entry for {f.name} from the current "
            "analysis code: regenerate it with python -m resonator.music.library recipes/music")
        assert entries[key] == json.loads(json.dumps(library.analyse(f))), f.name


def test_nothing_selected_lists_the_closest_candidates(tmp_path):
    from resonator.music.plan import plan_music

    _grooves(tmp_path / "lib")
    ctx = make_ctx(16000, 20.0, recipe_dir=tmp_path)
    with pytest.raises(RecipeError) as e:
        plan_music({"folder": "lib", "select": {"tempo": "60..80 BPM"}}, ctx)
    msg = str(e.value)
    assert "no music matches select (tempo 60..80 BPM) among 3 file(s)" in msg
    # the slowest first, with its value
    assert msg.index('"slow.flac" (tempo 96.') < msg.index('"mid.flac" (tempo 120.')
    with pytest.raises(RecipeError, match="unknown selection criterion 'tempi'.*'tempo'"):
        plan_music({"folder": "lib", "select": {"tempi": "60..80 BPM"}}, ctx)


def test_an_unwritable_cache_only_warns(tmp_path, monkeypatch):
    from resonator.music.library import AnalysisCache

    _grooves(tmp_path / "lib")
    (tmp_path / "file").write_text("not a folder")
    monkeypatch.setenv("RESONATOR_CACHE_DIR", str(tmp_path / "file" / "cache"))
    warned, seen = [], []
    cache = AnalysisCache(progress=seen.append, warn=warned.append)
    reps = cache.reports(sorted((tmp_path / "lib").glob("*.flac")))
    assert len(reps) == 3 and len(seen) == 3
    assert len(warned) == 1 and "cannot be written" in warned[0]


# ----------------------------------------------------------------------------- shift
def test_binaural_shift_moves_the_left_ear_only(tmp_path):
    sr = 16000
    tone(tmp_path / "t.wav", 4.0, sr, 440.0, subtype="FLOAT")
    node = build("music", make_ctx(sr, 8.0, recipe_dir=tmp_path), file="t.wav",
                 crossfade_s=0.0, binaural_shift=4.0)
    x = render_array(node, 8.0, sr=sr)
    a, b = sr, 7 * sr
    assert abs(peak_frequency(x[0, a:b], sr, 400, 480) - 444.0) < 0.05
    assert abs(peak_frequency(x[1, a:b], sr, 400, 480) - 440.0) < 0.05
    # single sideband: the image at 436 Hz is more than 40 dB down; the level is kept
    assert amp_at(x[0], sr, 444.0, a, b) > 0.498
    assert amp_at(x[0], sr, 436.0, a, b) < 0.005
    w = render_array(node, 1.0, sr=sr, start_s=3.3, block_frames=1000)
    np.testing.assert_allclose(w, x[:, int(3.3 * sr): int(4.3 * sr)], atol=1e-6)


# ----------------------------------------------------------------------------- tempo
def test_tempo_follows_the_planned_stretch_by_beat_tracking(tmp_path):
    """A 120 BPM groove at tempo 1, gliding to 0.8 between 10 and 20 s: the output's beats,
    tracked by resonator's analysis, sit where the plan puts them, at 120 and 96 BPM."""
    from resonator.analysis import analyze_signal
    from resonator.graph.curves import Curve
    from resonator.music.plan import plan_music
    from resonator.music.synth import groove

    sr = 16000
    sf.write(str(tmp_path / "g.flac"), groove(120.0, 8, 22050, pattern="drift").T, 22050)
    ctx = make_ctx(sr, 40.0, recipe_dir=tmp_path)
    tempo = Curve([(0.0, 1.0), (10.0, 1.0), (20.0, 0.8)])
    node = build("music", ctx, file="g.flac", crossfade_s=0.0, tempo=tempo)
    x = render_array(node, 40.0, sr=sr)
    for (a, b), want in (((1.0, 9.5), 120.0), ((21.0, 39.0), 96.0)):
        rep = analyze_signal(x[:, int(a * sr): int(b * sr)], sr, loudness=False)
        assert abs(rep["tempo"]["bpm"] / want - 1) < 0.01, (a, rep["tempo"]["bpm"])
    # every kick (bar starts, every 2 s of the source) peaks where the plan puts it: the
    # band-limited envelope's peak, against the same peak in the source
    from scipy.signal import butter, hilbert, sosfiltfilt

    sos = butter(4, [30.0, 120.0], btype="band", fs=sr, output="sos")

    def kick_peaks(y, times):
        env = np.abs(hilbert(sosfiltfilt(sos, y.mean(axis=0))))
        w = int(0.05 * sr)
        return np.array([(int(t * sr) - w + np.argmax(env[int(t * sr) - w: int(t * sr) + w]))
                         / sr - t for t in times])
    src = render_array(build("music", ctx, file="g.flac", crossfade_s=0.0), 16.0, sr=sr)
    delay = np.median(kick_peaks(src, np.arange(1, 8) * 2.0))
    plan = plan_music({"file": "g.flac", "crossfade_s": 0.0}, ctx, tempo=tempo)
    kicks = plan.timemap.session_s(np.arange(1, 17) * 2.0)
    off = kick_peaks(x, kicks[kicks < 39.0]) - delay
    assert np.max(np.abs(off)) < 0.010, off
    # a window and another block size give the same samples
    w = render_array(node, 3.0, sr=sr, start_s=15.2, block_frames=5000)
    np.testing.assert_array_equal(w, x[:, int(15.2 * sr): int(18.2 * sr)])


def test_a_prefetched_stretch_gives_the_same_samples(tmp_path):
    """prefetch() stretches the segments a read needs on a worker thread (both sides of a
    join when the read starts in one); the read then gives what a plain read gives."""
    from resonator.music.plan import plan_music
    from resonator.music.stretch import FADE_S, SEGMENT_S

    sr = 16000
    tone(tmp_path / "t.wav", 6.0, sr, 330.0, subtype="FLOAT")
    ctx = make_ctx(sr, 40.0, recipe_dir=tmp_path)
    plan = plan_music({"file": "t.wav", "crossfade_s": 0.0}, ctx, tempo=0.9)
    S, half = int(SEGMENT_S * sr), int(round(FADE_S * sr)) // 2  # the join: 2 S +- half
    for start, frames, want in ((2 * S - half + 10, 1000, [1, 2]), (2 * S + half, 1000, [2]),
                                (2 * S + half, S, [2, 3])):
        ahead, plain = plan.source(), plan.source()
        ahead.prefetch(start, frames)
        assert sorted(ahead._pending) == want
        got = ahead.read(start, frames)
        assert not ahead._pending
        assert np.array_equal(got, plain.read(start, frames))
        assert np.max(np.abs(got)) > 0.3
    # before the session there is nothing: the music fades in over the half join after 0
    src = plan.source()
    assert not src._segment(-1).any() and src._segment(0).any()
    h = src.fade // 2
    gain_in = np.sin(0.5 * np.pi * (np.arange(src.fade) + 0.5) / src.fade)[h:]
    np.testing.assert_allclose(src.read(0, h), src._segment(0)[:, h: 2 * h] * gain_in,
                               rtol=0, atol=1e-7)


def test_the_stretch_latency_is_measured_once_and_kept_in_the_cache(tmp_path, monkeypatch):
    import pedalboard

    from resonator.music import stretch

    monkeypatch.setattr(stretch, "_LATENCY", {})
    k = stretch.stretch_latency(16000)
    assert 400 < k < 900  # Rubber Band R2's offset at 16 kHz, in frames
    assert len(list((tmp_path / "cache" / "music-stretch").glob("*.json"))) == 1

    def no_stretch(*a, **kw):
        raise AssertionError("measured again")
    monkeypatch.setattr(stretch, "_LATENCY", {})
    monkeypatch.setattr(pedalboard, "time_stretch", no_stretch)
    assert stretch.stretch_latency(16000) == k


def test_stretch_joins_are_click_free_and_keep_the_level(tmp_path):
    """Tones through a tempo of 0.85: no sample-level discontinuity at the segment joins
    (every SEGMENT_S) and the level there within 1 dB of the level around them."""
    from resonator.measure.dynamics import click_score
    from resonator.music.stretch import SEGMENT_S

    sr = 16000
    t = np.arange(12 * sr) / sr  # loops seamlessly (whole cycles)
    x0 = 0.3 * np.sin(2 * np.pi * 220 * t) + 0.2 * np.sin(2 * np.pi * 331 * t + 1) + \
        0.1 * np.sin(2 * np.pi * 1250 * t)
    sf.write(str(tmp_path / "t.wav"), np.stack([x0, x0], 1), sr, subtype="FLOAT")
    node = build("music", make_ctx(sr, 34.0, recipe_dir=tmp_path), file="t.wav",
                 crossfade_s=0.0, tempo=0.85)
    x = render_array(node, 34.0, sr=sr)
    assert click_score(x[:, sr:], sr) < 4.0
    for k in (1, 2, 3):
        n = int(k * SEGMENT_S * sr)

        def level(a, b):
            return 10 * np.log10(np.mean(x[:, n + a: n + b] ** 2))
        around = 0.5 * (level(-4000, -1000) + level(1000, 4000))
        assert abs(level(-500, 500) - around) < 1.0, k


@pytest.mark.slow
def test_memory_does_not_grow_with_the_playlist(tmp_path):
    """A 5-minute and a 60-minute playlist (resampled, crossfaded, shifted) rendered in
    subprocesses: peak RSS within 20 MB. (With the tempo stretch too: benchmarks/music.py.)"""
    import subprocess
    import sys

    base = tmp_path / "base.wav"
    t = np.arange(300 * 11025) / 11025
    sf.write(str(base), 0.3 * np.sin(2 * np.pi * 330 * t) * (1 + 0.5 * np.sin(4 * np.pi * t)),
             11025)
    for i in range(12):
        (tmp_path / f"{i}.wav").symlink_to(base)
    script = (
        "import resource, sys\n"
        "sys.path.insert(0, sys.argv[3])\n"
        "from layer_helpers import build, make_ctx\n"
        "from resonator.render import iter_blocks\n"
        "dur = float(sys.argv[1]) * 60\n"
        "names = [f'{i}.wav' for i in range(int(sys.argv[1]) // 5)]\n"
        "node = build('music', make_ctx(8000, dur, recipe_dir=sys.argv[2]), files=names,\n"
        "             crossfade_s=1.0, binaural_shift=4.0)\n"
        "frames = sum(b.shape[1] for _, b in iter_blocks(node, dur, sr=8000))\n"
        "print(frames, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)\n")
    here = str(__import__("pathlib").Path(__file__).parent)
    rss = {}
    for minutes in (5, 60):
        out = subprocess.run([sys.executable, "-c", script, str(minutes), str(tmp_path), here],
                             capture_output=True, text=True, check=True).stdout.split()
        assert int(out[0]) == minutes * 60 * 8000
        rss[minutes] = int(out[1]) / 1024  # MB
    assert abs(rss[60] - rss[5]) < 20.0, rss


# ----------------------------------------------------------------------------- beats
def click_track(path, bpm=120.0, beats=16, sr=22050, bed_hz=300.0):
    """Clicks (10 ms Hann bursts of 2 kHz, accents every 4th) on a steady tone bed; returns the
    click onsets in seconds."""
    period = 60.0 / bpm
    n = int(round(beats * period * sr))
    t = np.arange(n) / sr
    x = 0.15 * np.sin(2 * np.pi * bed_hz * t)
    m = int(0.01 * sr)
    burst = np.hanning(m) * np.sin(2 * np.pi * 2000.0 * np.arange(m) / sr)
    onsets = np.arange(beats) * period
    for k, o in enumerate(onsets):
        i = int(round(o * sr))
        x[i: i + m] += burst * (0.9 if k % 4 == 0 else 0.6)
    sf.write(str(path), np.stack([x, x], 1), sr, subtype="FLOAT")
    return onsets


def _session(tmp_path, layers: str, minutes="30s", sr=16000):
    from resonator.recipe.session import build_session

    (tmp_path / "r.toml").write_text(
        f'sample_rate = {sr}\nfade_in = "1s"\nfade_out = "1s"\n'
        f'[[phase]]\nname = "main"\nduration = "{minutes}"\n' + layers)
    return build_session(tmp_path / "r.toml")


def test_beat_locked_modulation_peaks_on_the_clicks(tmp_path):
    """A click track at 120 BPM under a tempo of 0.9: with mod_sync = "beat" the tone bed's
    envelope peaks within 10 ms of every (stretched) click; with "bar" once a bar."""
    from resonator.measure.music import modulation_peak_offsets

    onsets = click_track(tmp_path / "clicks.wav")
    sr = 16000
    for sync, k in (("beat", 1.0), ("bar", 0.25)):
        s = _session(tmp_path, f'[[layer]]\nname = "m"\nkind = "music"\nfile = "clicks.wav"\n'
                     f'crossfade_s = 0\ntempo = 0.9\nmod_depth = 1\nmod_sync = "{sync}"\n')
        x = render_array(s.node, 30.0, sr=sr)
        # the clicks' onsets in session time: the loop repeats every 8 s of music
        music = np.concatenate([onsets + 8.0 * j for j in range(4)])
        clicks = music / 0.9
        grid = clicks[(clicks > 2.0) & (clicks < 28.0)]
        if sync == "bar":
            grid = grid[::4] if np.isclose(grid[0] * 0.9 % 2.0, 0.0, atol=0.01) else \
                grid[(np.round(grid * 0.9 / 0.5) % 4) == 0]
        off = modulation_peak_offsets(x, sr, grid, band=(250.0, 350.0))
        assert off.size >= (6 if sync == "bar" else 40)
        assert np.max(np.abs(off)) < 0.010, (sync, off)


def test_pulses_follow_the_beats_and_breaths_span_whole_bars(tmp_path):
    from resonator.measure.breath import breath_rate

    onsets = click_track(tmp_path / "clicks.wav")
    s = _session(tmp_path, '[[layer]]\nname = "m"\nkind = "music"\nfile = "clicks.wav"\n'
                 'crossfade_s = 0\ngain = "-40 dB"\n'
                 '[[layer]]\nname = "p"\nkind = "pulse"\nfollow = "m"\nstyle = "thump"\n'
                 '[[layer]]\nname = "b"\nkind = "breath"\nfollow = "m"\n', minutes="60s")
    by = {i.name: i for i in s.layers}
    sr = 16000
    pulses = render_array(by["p"].source, 60.0, sr=sr)[0]
    on = np.abs(pulses) > 0
    quiet_before = np.convolve(on, np.ones(int(0.1 * sr)), mode="full")[: on.size] - on == 0
    starts = np.flatnonzero(on[1:] & quiet_before[1:]) / sr  # the first sample of each thump
    starts = starts[(starts > 1.0) & (starts < 59.0)]
    beats = np.concatenate([onsets + 8.0 * j for j in range(8)])
    near = np.array([np.min(np.abs(beats - t)) for t in starts])
    assert starts.size >= 110 and np.max(near) < 0.010
    # breath: 20 beats = 5 bars = 10 s a breath (6/min at 120 BPM), each from a bar line
    tb = [t for t in s.targets if t["kind"] == "breath_rate" and t["layer"] == "b"]
    assert tb and all(abs(t["expected"] - 6.0) < 0.01 for t in tb)
    bars = beats[::4]
    assert all(np.min(np.abs(bars - t["start_s"])) < 0.01 for t in tb)
    env = render_array(by["b"].source, 60.0, sr=sr)
    assert abs(breath_rate(env[:, 10 * sr: 50 * sr], sr) - 6.0) < 0.15


# ----------------------------------------------------------------------------- check
def test_check_measures_music_targets_and_catches_broken_renders(tmp_path):
    """A playlist of three grooves (132, 120, 96 BPM) at tempo 0.9, shifted 4 Hz, modulated on
    the beat: every music target passes on the render; the same measurements read a click at
    a join, swapped ears and the unstretched music as wrong."""
    from resonator.check import check_file
    from resonator.recipe import render_recipe

    _grooves(tmp_path / "lib", bars=10)
    (tmp_path / "r.toml").write_text(
        'sample_rate = 16000\nfade_in = "1s"\nfade_out = "1s"\n'
        '[[phase]]\nname = "main"\nduration = "60s"\n'
        '[[layer]]\nname = "m"\nkind = "music"\nfolder = "lib"\ncrossfade_s = 2\n'
        'tempo = 0.9\nbinaural_shift = "4 Hz"\nmod_depth = 0.5\nmod_sync = "beat"\n'
        '[[layer]]\nname = "air"\nkind = "noise"\ngain = "-30 dB"\n')
    out = tmp_path / "r.wav"
    render_recipe(tmp_path / "r.toml", out, normalize=False, bits="32f")
    rep = check_file(out)
    kinds = {r.target.kind for r in rep.results}
    assert {"music_track", "music_tempo", "music_beat_lock", "music_join", "music_boundary",
            "music_shift"} <= kinds
    bad = [(r.target.kind, r.measured, r.detail) for r in rep.results
           if not r.passed and r.target.kind.startswith("music")]
    assert not bad, bad  # (1 s session fades over drums are not this test's business)
    # the same measurements catch a click at a join, swapped ears and a wrong tempo
    from resonator.measure.music import join_click_ratio, music_tempo, shift_hz

    x, sr = sf.read(str(out), always_2d=True)
    x = x.T
    join = next(r.target for r in rep.results if r.target.kind == "music_join")
    j0, j1 = join.params["join_s"]
    a = int(join.start_s * sr)
    w = x[:, a: int(join.end_s * sr)].copy()
    assert join_click_ratio(w, sr, j0 - join.start_s, j1 - join.start_s) <= 1.5
    w[:, int((0.5 * (j0 + j1) - join.start_s) * sr)] += 0.3
    assert join_click_ratio(w, sr, j0 - join.start_s, j1 - join.start_s) > 3.0
    sh = next(r.target for r in rep.results if r.target.kind == "music_shift")
    seg = x[:, int(sh.start_s * sr): int(sh.end_s * sr)]
    assert abs(shift_hz(seg, sr, band=(2000.0, 7000.0), expected_hz=4.0) - 4.0) < 0.05
    assert abs(shift_hz(seg[::-1], sr, band=(2000.0, 7000.0), expected_hz=4.0) - 4.0) > 0.05
    tt = next(r.target for r in rep.results if r.target.kind == "music_tempo")
    bpm, _ = music_tempo(x[:, int(tt.start_s * sr): int(tt.end_s * sr)], sr)
    assert abs(bpm / tt.expected - 1) < 0.01
    unstretched = render_array(build("music", make_ctx(sr, 60.0, recipe_dir=tmp_path),
                                     folder="lib", crossfade_s=2.0), 60.0, sr=sr)
    bpm, _ = music_tempo(unstretched[:, int(tt.start_s * sr): int(tt.end_s * sr)], sr)
    assert abs(bpm / tt.expected - 1) > 0.05


def test_an_edited_music_file_makes_a_new_mastering_key(tmp_path):
    from resonator.mastering import stage_key
    from resonator.recipe.session import build_session

    tone(tmp_path / "a.wav", 2.0, 16000, 300.0)
    (tmp_path / "r.toml").write_text(
        'sample_rate = 16000\nfade_in = "1s"\nfade_out = "1s"\n[[phase]]\nname = "p"\n'
        'duration = "10s"\n[[layer]]\nname = "m"\nkind = "music"\nfiles = ["a.wav"]\n')
    before = stage_key(build_session(tmp_path / "r.toml"))
    assert stage_key(build_session(tmp_path / "r.toml")) == before
    tone(tmp_path / "a.wav", 3.0, 16000, 300.0)
    assert stage_key(build_session(tmp_path / "r.toml")) != before


# ----------------------------------------------------------------------------- estimate
def test_unstretched_stand_in_plays_the_music_at_its_place_at_its_own_tempo():
    """Cell k of the stand-in reads the music on from where the tempo map has it at the
    cell's centre, one music frame per session frame (a ramp source shows the frame read)."""
    from resonator.music.stretch import CELL_S, TimeMap, UnstretchedSource

    class Ramp:
        def read(self, start, frames):
            return np.tile(np.arange(start, start + frames, dtype=np.float32), (2, 1))

    sr = 1000
    C = int(CELL_S * sr)
    src = UnstretchedSource(Ramp(), TimeMap(0.8), sr)
    got = src.read(1500, 2000)[0]  # cells 1, 2 and 3
    n = np.arange(1500, 3500)
    k = n // C
    want = np.round(0.8 * (k + 0.5) * C - 0.5 * C) + n - k * C
    assert np.array_equal(got, want)
    assert np.array_equal(src.read(1500, 700), got[:700][None].repeat(2, 0))  # any block


def test_the_loudness_estimate_of_stretched_music_skips_the_stretch(tmp_path, monkeypatch):
    """A playlist of grooves slowing from tempo 1 to 0.85, shifted and beat-modulated: the
    first-play estimate (48 windows) lands within 0.5 dB of the full measurement without a
    single Rubber Band call; a render of the same graph afterwards stretches again."""
    import pedalboard

    from resonator import mastering

    _grooves(tmp_path / "lib", bars=10)
    (tmp_path / "r.toml").write_text(
        'sample_rate = 16000\nfade_in = "1s"\nfade_out = "1s"\n[temperature]\nstart = 1.0\n'
        '[[phase]]\nname = "main"\nduration = "90s"\ntemperature = { to = 0.0 }\n'
        '[[layer]]\nname = "m"\nkind = "music"\nfolder = "lib"\ncrossfade_s = 2\n'
        'tempo = { temperature = "0.85..1.0" }\nbinaural_shift = "4 Hz"\nmod_depth = 0.3\n'
        'mod_sync = "beat"\n[[layer]]\nname = "air"\nkind = "noise"\ngain = "-40 dB"\n')
    from resonator.recipe.session import build_session

    s = build_session(tmp_path / "r.toml")
    full = mastering.master(s.node, s.duration_s, sr=s.sr, seed=s.seed, target_lufs=-20.0,
                            ceiling_dbtp=-1.0)
    calls = []
    real = pedalboard.time_stretch
    monkeypatch.setattr(pedalboard, "time_stretch",
                        lambda *a, **k: calls.append(1) or real(*a, **k))
    s = build_session(tmp_path / "r.toml")
    renderer = mastering.Renderer(s.node, sr=s.sr, seed=s.seed, block_frames=4096)
    est = mastering.estimate(s, renderer=renderer)
    assert est.estimated and len(calls) == 0
    # (the measured stage's gain comes from the same stand-ins: compare with the music's own
    # loudness, measured in the same pass)
    assert full.stand_in and math.isfinite(full.exact_lufs)
    assert abs(est.measured_lufs - full.exact_lufs) < 0.5, (est.measured_lufs, full.exact_lufs)
    for _ in renderer.blocks(30 * s.sr, 31 * s.sr):
        pass
    assert len(calls) > 0


def _shift_hz_reference(x, sr, band, expected_hz, search_hz):
    """shift_hz as first written: one FFT of 8 times the window's length (a 40 s window at
    48 kHz held 1.1 GB)."""
    from resonator.measure.music import _analytic_band

    a, b = _analytic_band(x[0], sr, band), _analytic_band(x[1], sr, band)
    z = a * np.conj(b)
    n = z.size
    nfft = 8 * (1 << int(math.ceil(math.log2(n))))
    spec = np.abs(np.fft.fft(z * np.hanning(n), nfft))
    f = np.fft.fftfreq(nfft, 1.0 / sr)
    sel = (f >= 0.2) & (f <= 40.0) if expected_hz is None else \
        np.abs(f - expected_hz) <= search_hz
    idx = np.flatnonzero(sel)
    k = idx[int(np.argmax(spec[idx]))]
    y0, y1, y2 = np.log(spec[k - 1: k + 2] + 1e-300)
    den = y0 - 2 * y1 + y2
    p = 0.5 * (y0 - y2) / den if den != 0 else 0.0
    return float(f[k] + max(-0.5, min(0.5, p)) * sr / nfft)


def test_shift_hz_computes_only_its_band_of_the_padded_spectrum():
    """Eight FFTs of the window's own length give the band's bins of the 8x zero-padded
    spectrum: the same reading as one FFT of all of it (to 1e-9 Hz), at well under half the
    peak memory."""
    import tracemalloc

    from resonator.measure.music import shift_hz

    sr = 8000
    rng = np.random.default_rng(3)
    t = np.arange(6 * sr) / sr
    common = 0.3 * rng.standard_normal(t.size)
    for shift in (4.0, -1.3, 0.7):
        x = np.stack([np.sin(2 * np.pi * (500 + shift) * t) + common,
                      np.sin(2 * np.pi * 500 * t) + common])
        for expected in (None, shift, shift / 2):  # (the last band holds 0 Hz)
            got = shift_hz(x, sr, band=(100.0, 2000.0), expected_hz=expected)
            want = _shift_hz_reference(x, sr, (100.0, 2000.0), expected, 2.0)
            assert abs(got - want) < 1e-9, (shift, expected, got, want)
        assert abs(shift_hz(x, sr, band=(100.0, 2000.0), expected_hz=shift) - shift) < 0.02
    peaks = []
    for fn in (lambda: _shift_hz_reference(x, sr, (100.0, 2000.0), None, 2.0),
               lambda: shift_hz(x, sr, band=(100.0, 2000.0))):
        tracemalloc.start()
        fn()
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
    assert peaks[1] < 0.5 * peaks[0], peaks
