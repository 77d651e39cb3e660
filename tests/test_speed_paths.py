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


def test_dtft_on_a_grid_equals_the_exponential_matrix():
    """The phasor-step DTFT (even grids) against every exponential written out."""
    from resonator.measure.tones import _dtft

    sr, n = 8000, 12001
    t = (np.arange(n) - 0.5 * (n - 1)) / sr
    rng = np.random.default_rng(7)
    x = np.sin(2 * np.pi * 201.7 * t + 0.4) + 0.2 * rng.standard_normal(n)
    for xw in (x * np.hanning(n), x * np.exp(-1j * 3.0 * t ** 2)):
        for grid in (0.0625 * np.arange(3200, 3260), 201.7 + 0.01 * np.arange(-2, 3),
                     np.array([150.0, 201.7, 260.0, 261.0])):  # the last: uneven
            ref = np.exp(-2j * np.pi * np.outer(grid, t)) @ xw
            got = _dtft(xw, t, grid)
            assert np.max(np.abs(got - ref)) <= 1e-12 * np.max(np.abs(ref))
    got = np.abs(_dtft(x * np.hanning(n), t, 0.0625 * np.arange(3200, 3260)))
    assert 0.0625 * (3200 + int(np.argmax(got))) == pytest.approx(201.7, abs=0.04)


def _tone_file(tmp_path, seconds=20.0, sr=8000, name="b.wav", nan_at=None):
    t = np.arange(int(seconds * sr)) / sr
    x = 0.25 * np.stack([np.sin(2 * np.pi * 205 * t), np.sin(2 * np.pi * 195 * t)], axis=1)
    fade = np.minimum(1.0, t / 2.0)[:, None]
    x = (x * fade).astype(np.float32)
    if nan_at is not None:
        x[int(nan_at * sr), 0] = np.nan
    path = tmp_path / name
    sf.write(path, x, sr, subtype="FLOAT")
    return path


CHECK_TARGETS = ["binaural_beat:3-13:10Hz:0.05", "clicks:0-end:0:0", "binaural_carrier:4-9:200:0.1",
                 "true_peak:0-end:-11.9:0.2", "loudness:0-end:-15:30"]


def test_check_with_the_scan_beside_gives_the_targets_in_order(tmp_path, monkeypatch):
    """Targets that need the scan wait for it (evaluated after the others) while the others
    run beside it; the report lists them in the order given, with known answers."""
    from resonator.check import check_file, parse_target_arg
    from resonator.check import scan as scan_mod
    from resonator.check import runner

    path = _tone_file(tmp_path)
    order, real_scan = [], scan_mod.Scan
    others_done = threading.Event()

    def late_scan(*a, **k):  # ends only after the targets that do not need it
        others_done.wait(120)
        s = real_scan(*a, **k)
        order.append("scan")
        return s

    evaluate = runner.evaluate

    def logged(t, ctx):
        r = evaluate(t, ctx)
        order.append(t.kind)
        if t.kind == "binaural_carrier":
            others_done.set()
        return r

    monkeypatch.setattr(scan_mod, "Scan", late_scan)
    monkeypatch.setattr(runner, "evaluate", logged)
    rep = check_file(path, targets=[parse_target_arg(s) for s in CHECK_TARGETS])
    assert [r.target.kind for r in rep.results] == [s.split(":")[0] for s in CHECK_TARGETS]
    assert order == ["binaural_beat", "binaural_carrier", "scan", "clicks", "true_peak",
                     "loudness"]
    got = {r.target.kind: r.measured for r in rep.results}
    assert got["binaural_beat"] == pytest.approx(10.0, abs=1e-3)
    assert got["binaural_carrier"] == pytest.approx(200.0, abs=1e-3)
    assert got["true_peak"] == pytest.approx(20 * np.log10(0.25), abs=0.01)
    assert rep.scan.frames == 160000 and rep.passed


def test_check_results_do_not_depend_on_when_the_scan_ends(tmp_path, monkeypatch):
    """The same report whether the scan ends first, last, or the header's length is wrong
    (the targets are then measured again on the scanned length)."""
    from resonator.check import check_file, parse_target_arg
    from resonator.check import runner
    from resonator.measure import io

    path = _tone_file(tmp_path)
    ts = [parse_target_arg(s) for s in CHECK_TARGETS]
    first = check_file(path, targets=ts).as_dict()
    real = io.open_audio

    def long_header(p):
        from dataclasses import replace

        info = real(p)
        return replace(info, frames=info.frames + 4000, duration_s=info.duration_s + 0.5)

    monkeypatch.setattr(runner, "open_audio", long_header)
    again = check_file(path, targets=ts).as_dict()
    assert again == first and first["duration_s"] == 20.0


def test_check_a_file_fault_is_reported_by_the_scan_first(tmp_path):
    from resonator.check import check_file, parse_target_arg
    from resonator.errors import AudioFileError

    path = _tone_file(tmp_path, nan_at=5.0)
    with pytest.raises(AudioFileError, match="NaN"):
        check_file(path, targets=[parse_target_arg("binaural_beat:3-13:10Hz:0.05")])


def test_analyze_file_known_tempo_and_beats_with_the_work_beside(tmp_path):
    """analyze_file (meter on a worker thread, the beat kernel loading beside the pass) on a
    click track at 120 BPM: the tempo, a beat every 0.5 s, the loudness of the features."""
    from resonator.analysis import analyze_file
    from resonator.analysis.features import features_from_file

    sr = 22050
    x = np.zeros(int(30 * sr))
    click = np.sin(2 * np.pi * 1000 * np.arange(220) / sr) * np.hanning(220)
    for k in range(60):
        i = int(round((0.25 + 0.5 * k) * sr))
        x[i:i + 220] += (1.0 if k % 4 == 0 else 0.6) * click
    path = tmp_path / "clicks.wav"
    sf.write(path, np.stack([x, x], axis=1).astype(np.float32), sr, subtype="FLOAT")
    r = analyze_file(path)
    assert r["tempo"]["bpm"] == pytest.approx(120.0, abs=0.5)
    beats = np.asarray(r["beats"])
    assert beats.size >= 55 and np.allclose(np.diff(beats), 0.5, atol=0.02)
    assert r["loudness"] == features_from_file(path, peaks=False).loudness
