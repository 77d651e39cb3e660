"""Known answers for the faster paths of ``check`` and ``analyze`` (issue 17): each gives the
same numbers as the plain computation it replaced."""
import threading

import numpy as np
import pytest
import soundfile as sf

from resonator.pipeline import pipeline


def _noisy_tones(seconds: float, sr: int, seed: int = 3) -> np.ndarray:
    """(n, 2) float32: tones, a swell, pink-ish noise and one click: every scan measure sees
    something."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * sr)) / sr
    swell = 0.6 + 0.4 * np.sin(2 * np.pi * 0.1 * t)
    noise = np.cumsum(rng.standard_normal((t.size, 2)), axis=0)
    noise -= np.convolve(noise[:, 0], np.ones(64) / 64, "same")[:, None]
    x = np.stack([np.sin(2 * np.pi * 205 * t), np.sin(2 * np.pi * 195 * t)], axis=1)
    x = 0.3 * swell[:, None] * x + 0.01 * noise / np.max(np.abs(noise))
    x[int(2.5 * sr)] += 0.4
    return x.astype(np.float32)


def test_pipeline_keeps_order_and_raises_from_either_side():
    seen = []

    def consume(i):
        seen.append((i, threading.current_thread() is threading.main_thread()))

    pipeline(((i,) for i in range(6)), consume, depth=2)
    assert seen == [(i, False) for i in range(6)]  # in order, on the worker
    with pytest.raises(ZeroDivisionError):
        pipeline(((i,) for i in range(50)), lambda i: 1 / (i - 3))

    def bad():
        yield (1,)
        raise KeyError("reader")

    with pytest.raises(KeyError):
        pipeline(bad(), lambda i: None)


def test_scan_equals_the_plain_loop(tmp_path):
    """The scan's consumers on two threads give bit-identical results to one loop."""
    from resonator.check.scan import BLOCK, Scan
    from resonator.measure.dynamics import ClickStream
    from resonator.measure.loudness import LoudnessMeter, ScreenedTruePeak
    from resonator.measure.spectrum import SpectrumStream

    sr = 48000
    x = _noisy_tones(6.0, sr)
    path = tmp_path / "a.wav"
    sf.write(path, x, sr, subtype="PCM_16")
    y = sf.read(path, dtype="float32", always_2d=True)[0]
    meter, tp = LoudnessMeter(sr, 2, true_peak=False), ScreenedTruePeak(2)
    ck, spec = ClickStream(sr, 2), SpectrumStream(sr, 2)
    for i in range(0, y.shape[0], BLOCK):
        b = np.ascontiguousarray(y[i:i + BLOCK].T)
        for m in (meter, tp, ck, spec):
            m.update(b)
    ck.finish()
    s = Scan(path)
    assert s.frames == y.shape[0] > 4 * BLOCK
    assert s.meter.integrated() == meter.integrated()
    assert np.array_equal(s.meter.short_term()[1], meter.short_term()[1])
    assert s.true_peak_dbtp == tp.dbtp() and s.sample_peak == tp.peak
    assert s.clicks == ck.clicks and len(s.clicks) == 1 and s.click_score == ck.score
    assert np.array_equal(s.spec_db, spec.band_db)
    assert np.array_equal(s.centroid_hz, spec.centroid_hz, equal_nan=True)
    p = np.mean(y.astype(np.float64) ** 2, axis=1)
    hop = int(0.05 * sr)
    rms = 10 * np.log10(p[: p.size // hop * hop].reshape(-1, hop).mean(axis=1))
    np.testing.assert_allclose(s.rms_db, rms, rtol=0, atol=1e-9)


def test_scan_read_errors_still_name_the_file(tmp_path):
    from resonator.check.scan import Scan
    from resonator.errors import AudioFileError

    x = _noisy_tones(3.0, 8000)
    x[20000, 1] = np.nan
    path = tmp_path / "nan.wav"
    sf.write(path, x, 8000, subtype="FLOAT")
    with pytest.raises(AudioFileError, match="NaN"):
        Scan(path)


@pytest.mark.parametrize("sr", [44100, 22050])
def test_features_with_the_meter_beside_equal_the_plain_loop(tmp_path, sr):
    """features_from_file (the loudness meter on a worker thread) equals FeatureStream.update
    called block by block on one thread."""
    from resonator.analysis.features import READ_FRAMES, FeatureStream, features_from_file

    x = _noisy_tones(8.0, sr, seed=5)
    path = tmp_path / "t.wav"
    sf.write(path, x, sr, subtype="PCM_16")
    y = sf.read(path, dtype="float32", always_2d=True)[0]
    fs = FeatureStream(sr, 2)
    for i in range(0, y.shape[0], READ_FRAMES):
        fs.update(y[i:i + READ_FRAMES])
    ref = fs.finish(str(path))
    calls = []
    got = features_from_file(path, progress=lambda *a: calls.append(a))
    assert calls[-1] == ("reading", y.shape[0], y.shape[0]) and len(calls) == -(-y.shape[0]
                                                                               // READ_FRAMES)
    assert got.loudness == ref.loudness and got.loudness["integrated_lufs"] is not None
    for k, v in vars(ref).items():
        w = getattr(got, k)
        if isinstance(v, np.ndarray):
            assert np.array_equal(v, w), k
        else:
            assert v == w, k
