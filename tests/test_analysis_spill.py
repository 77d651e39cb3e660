"""Known answers for the spilled features (issue 17: ``resonator analyze`` memory flat in the
duration): beyond ``framewise.SPILL_BYTES`` each feature goes to an anonymous temporary file
and is read back in slices (:class:`~resonator.analysis.framewise.SpilledArray`). The values,
and every report computed from them, are those of the in-memory path, bit for bit; no file is
left behind, whatever ends the run; what the analysis holds does not grow with the duration."""
import gc
import json
import os
import tempfile
import tracemalloc

import numpy as np
import pytest

from resonator.analysis import beats, framewise, metre, modulation_report, tempo
from resonator.analysis.features import READ_FRAMES, FeatureStream, features_from_signal
from resonator.analysis.framewise import FrameStore, SpilledArray, percentiles
from resonator.analysis.report import _analyze, analyze_features

SR = 22050
BPM = 120.0


@pytest.fixture
def small(monkeypatch):
    """Spill beyond 4 kB; blocks of 1024 frames: a minute of audio spills every feature, and
    every blocked step crosses many block edges."""
    monkeypatch.setattr(framewise, "SPILL_BYTES", 1 << 12)
    monkeypatch.setattr(framewise, "BLOCK", 1024)
    monkeypatch.setattr(framewise, "WINDOW_ROWS", 64)
    monkeypatch.setattr(metre, "BLOCK_FRAMES", 256)
    monkeypatch.setattr(tempo, "ACF_BLOCK", 4)
    monkeypatch.setattr(modulation_report, "BLOCK_SEGMENTS", 4)


@pytest.fixture
def private_tmp(tmp_path, monkeypatch):
    """The temporary folder of this test alone."""
    d = tmp_path / "tmp"
    d.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(d))
    return d


def open_in(folder) -> int:
    """Descriptors of this process open on files in ``folder`` (named or not)."""
    n = 0
    for fd in os.listdir("/proc/self/fd"):
        try:
            n += os.readlink(f"/proc/self/fd/{fd}").startswith(str(folder))
        except OSError:  # (listdir's own descriptor, closed by now)
            pass
    return n


def groove_blocks(seconds, seed=0, channels=2):
    """A 120 BPM groove in blocks (never whole): a 880 Hz click on each beat, a 60 Hz bass
    note every other beat, a slow swell, a little noise."""
    rng = np.random.default_rng(seed)
    n, period = int(seconds * SR), 60.0 / BPM
    for a in range(0, n, READ_FRAMES):
        t = np.arange(a, min(a + READ_FRAMES, n)) / SR
        since = t % period
        click = np.exp(-since * 60.0) * np.sin(2 * np.pi * 880.0 * t)
        bass = (t % (2 * period) < period) * np.exp(-since * 12.0) * np.sin(2 * np.pi * 60.0 * t)
        x = (0.5 * click + 0.4 * bass) * (1.0 + 0.3 * np.sin(2 * np.pi * t / 10.0))
        x = x + 0.02 * rng.standard_normal(t.size)
        yield np.repeat(x[:, None], channels, axis=1).astype(np.float32)


def groove(seconds, **kw):
    return np.concatenate(list(groove_blocks(seconds, **kw))).T


# -- the store and the array it gives ------------------------------------------------------------
@pytest.mark.parametrize("width, dtype", [(None, np.float32), (12, np.float32), (None, np.int32)])
def test_store_spills_and_reads_back_the_same_rows(small, private_tmp, width, dtype):
    rng = np.random.default_rng(1)
    shape = (5000,) if width is None else (5000, width)
    x = (1000 * rng.random(shape)).astype(dtype)
    st = FrameStore(100, width, dtype, spill=True)
    a = 0
    for size in rng.integers(1, 700, 100):
        st.append(x[a:a + size])
        a += size
        if a >= x.shape[0]:
            break
    got = st.array()
    assert isinstance(got, SpilledArray) and list(private_tmp.iterdir()) == []
    assert len(got) == got.shape[0] == 5000 and got.dtype == dtype and got.ndim == x.ndim
    assert got.size == x.size and got.nbytes == x.nbytes
    np.testing.assert_array_equal(np.asarray(got), x)
    for key in (slice(5, 100), slice(-20, None), slice(None, None, 3), slice(4990, 6000),
                slice(10, 2, -2), slice(3000, 1000), 7, -1):
        np.testing.assert_array_equal(got[key], x[key])
    if width:
        np.testing.assert_array_equal(got[3:9, 2], x[3:9, 2])
    short = got.head(1234)
    assert len(short) == 1234 and len(got.head(10 ** 9)) == 5000
    np.testing.assert_array_equal(short[1200:1300], x[1200:1234])
    np.testing.assert_array_equal(st.array(4321)[-5:], x[4316:4321])
    with pytest.raises(TypeError):
        got[np.arange(3)]
    with pytest.raises(IndexError):
        got[5000]


def test_a_short_store_stays_in_memory(small):
    st = FrameStore(10, spill=True)
    st.append(np.arange(1000, dtype=np.float32))  # 4 kB: the buffer's size
    got = st.array()
    assert isinstance(got, np.ndarray)
    np.testing.assert_array_equal(got, np.arange(1000))


@pytest.mark.parametrize("fail", ["open", "second write"])
def test_no_temporary_file_keeps_the_rows_in_memory(small, monkeypatch, fail):
    """No writable temporary folder, or a full disk after some rows went out: the store
    goes on in memory, with the same rows."""
    if fail == "open":
        def broken(self):
            raise OSError(28, "No space left on device")
        monkeypatch.setattr(framewise._SpillFile, "__init__", broken)
    else:
        real, calls = framewise._SpillFile.write, []

        def write(self, offset, data):
            calls.append(offset)
            if len(calls) > 1:
                raise OSError(28, "No space left on device")
            real(self, offset, data)
        monkeypatch.setattr(framewise._SpillFile, "write", write)
    x = np.random.default_rng(2).random(10_000).astype(np.float32)
    st = FrameStore(100, spill=True)
    for a in range(0, x.size, 300):
        st.append(x[a:a + 300])
    got = st.array()
    assert isinstance(got, np.ndarray)
    np.testing.assert_array_equal(got, x)


@pytest.mark.parametrize("n", [1025, 70_001])
@pytest.mark.parametrize("kind", ["skewed", "signed", "half zeros", "constant"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_percentiles_of_a_spilled_array_are_numpys_bit_for_bit(small, n, kind, dtype):
    """float32: the two-pass radix selection; float64: FrameSignal.kth."""
    rng = np.random.default_rng(n)
    x = (rng.random(n) ** 3).astype(dtype)
    if kind == "signed":  # both signs, -0.0, magnitudes 1e-30 to 1e30
        x = (rng.standard_normal(n) * 10.0 ** rng.integers(-30, 30, n)).astype(dtype)
        x[::5] = -0.0
    elif kind == "half zeros":
        x[: n // 2] = 0.0
    elif kind == "constant":
        x[:] = 0.25
    x[::7] = x[3]  # ties
    st = FrameStore(n, dtype=dtype, spill=True)
    st.append(x)
    sp = st.array()
    assert isinstance(sp, SpilledArray)
    for q in ([2, 98], [0, 50, 100], [33.3, 97.1]):
        got, ref = percentiles(sp, q), np.percentile(x, q)
        assert got.dtype == ref.dtype
        np.testing.assert_array_equal(got, ref)


def test_padded_power_is_the_padded_fft():
    from resonator.analysis.breathing import padded_power

    rng = np.random.default_rng(3)
    for n in (1, 100, 1500, 18_000):
        x = rng.standard_normal(n) * np.hanning(n)
        nfft = 1 << int(np.ceil(np.log2(16 * n)))
        ref = np.abs(np.fft.rfft(x, n=nfft)) ** 2
        k0, k1 = nfft // 40, nfft // 7 + 1
        np.testing.assert_allclose(padded_power(x, nfft, k0, k1), ref[k0:k1], rtol=0,
                                   atol=1e-13 * ref.max())


# -- the analysis on spilled features ------------------------------------------------------------
def test_spilled_features_give_the_same_features_and_report(small, private_tmp):
    """A 60 s groove at 120 BPM: every feature spilled (and every block edge crossed) gives
    byte for byte the features and the report of the in-memory path, and the known tempo."""
    x = groove(60.0)
    mem = features_from_signal(x, SR, loudness=False)
    disk = features_from_signal(x, SR, loudness=False, spill=True)
    assert open_in(private_tmp) == 6 and list(private_tmp.iterdir()) == []  # open, nameless
    for name in ("onset", "onset_low", "onset_kick", "chroma", "env", "peak"):
        a, b = getattr(mem, name), getattr(disk, name)
        assert isinstance(a, np.ndarray) and isinstance(b, SpilledArray), name
        assert b.dtype == a.dtype == np.float32 and b.shape == a.shape
        np.testing.assert_array_equal(np.asarray(b), a)
    ra, rb = analyze_features(mem), analyze_features(disk)
    assert json.dumps(ra, sort_keys=True) == json.dumps(rb, sort_keys=True)
    assert ra["tempo"]["bpm"] == pytest.approx(BPM, rel=0.01)
    ibi = np.diff(ra["beats"])
    assert ibi.size > 100 and np.median(ibi) == pytest.approx(60.0 / BPM, abs=0.01)
    assert ra["breathing"]["breaths_per_min"] == pytest.approx(6.0, rel=0.02)  # the 10 s swell
    del disk, a, b  # (b: the last spilled feature)
    gc.collect()
    assert open_in(private_tmp) == 0  # the files are closed with the features


def test_align_bass_of_a_spilled_bass_is_spilled_and_the_same(small):
    from test_analysis_framewise import FPS, groove as onset_groove

    o, low, _ = onset_groove(120.0, seed=2, swell=9)
    st = FrameStore(0, spill=True)
    st.append(low)
    spilled = st.array()
    got, ref = beats.align_bass(o, spilled, FPS), beats.align_bass(o, low, FPS)
    assert beats.bass_lag(o, spilled, FPS) == 9
    assert isinstance(got, SpilledArray)
    np.testing.assert_array_equal(np.asarray(got), ref)
    np.testing.assert_array_equal(ref, np.concatenate((low[9:], np.zeros(9, np.float32))))


@pytest.mark.parametrize("stop", [KeyboardInterrupt, OSError])
def test_no_file_is_left_when_the_run_is_interrupted(small, private_tmp, stop):

    def interrupted():
        for i, block in enumerate(groove_blocks(30.0)):
            if i == 6:  # 18 s in: every feature has spilled
                raise stop("stopped")
            yield block

    fs = FeatureStream(SR, 2, loudness=False, spill=True)
    with pytest.raises(stop):
        fs.feed(interrupted())
    assert open_in(private_tmp) == 6  # it had spilled
    assert list(private_tmp.iterdir()) == []
    del fs
    gc.collect()
    assert open_in(private_tmp) == 0 and list(private_tmp.iterdir()) == []


def test_analysis_memory_does_not_grow_with_the_duration(small):
    """tracemalloc, 60 against 120 s of audio with every block small (both far beyond every
    block size): what the pass keeps (``held``) and the peak of the whole analysis after it
    (``peak``). Measured (numpy 2.4): spilled, held +0.018 MB and peak +0.016 MB for the
    minute more (beats, one tempo per second); in memory, held +0.32 MB (the features: 5.1 kB
    a second) and peak +0.33 MB."""

    def measure(seconds, spill):
        tracemalloc.start()
        try:
            fs = FeatureStream(SR, 1, loudness=False, peaks=False, spill=spill,
                               frames=int(seconds * SR))
            fs.feed(groove_blocks(seconds, channels=1))
            feat = fs.finish()
            del fs
            held = tracemalloc.get_traced_memory()[0]
            tracemalloc.reset_peak()
            report, _ = _analyze(feat, release=True)
            assert report["tempo"]["bpm"] == pytest.approx(BPM, rel=0.01)
            return np.array([held, tracemalloc.get_traced_memory()[1]]) / 1e6
        finally:
            tracemalloc.stop()

    measure(30.0, True)  # (imports and caches on first use)
    held, peak = measure(120.0, True) - measure(60.0, True)
    assert held < 0.06 and peak < 0.06, (held, peak)
    held, peak = measure(120.0, False) - measure(60.0, False)
    assert held > 0.25 and peak > 0.25, (held, peak)  # (the test sees growth where there is)


@pytest.mark.parametrize("hint", [None, 150 * 8000, 20 * 8000])
def test_loudness_meter_sized_once_measures_the_same(hint):
    """``LoudnessMeter(frames=...)`` makes its sub-block arrays once at the expected size
    (exact, or short: they grow as before): the same integrated loudness, range and peak."""
    from resonator.measure.loudness import LoudnessMeter

    sr, n = 8000, 150 * 8000
    rng = np.random.default_rng(5)
    x = 0.1 * rng.standard_normal((2, n)) * np.linspace(0.2, 1.0, n)
    ref, got = LoudnessMeter(sr, 2), LoudnessMeter(sr, 2, frames=hint)
    for a in range(0, n, 40_000):
        ref.update(x[:, a:a + 40_000])
        got.update(x[:, a:a + 40_000])
    if hint == n:
        assert got._sub.shape[0] == 1512  # 1500 sub-blocks and a margin: never grown
    assert (got.integrated(), got.loudness_range(), got.true_peak_dbtp()) == \
        (ref.integrated(), ref.loudness_range(), ref.true_peak_dbtp())
    np.testing.assert_array_equal(got.block_powers(), ref.block_powers())
