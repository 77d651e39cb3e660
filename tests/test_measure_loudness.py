"""Known-answer tests for resonator.measure.loudness (BS.1770-4, EBU Tech 3342, true peak)."""
import math

import numpy as np
import pytest
from scipy import signal

from resonator.errors import ResonatorError
from resonator.measure.loudness import (
    LoudnessMeter,
    integrated_loudness,
    k_weighting_sos,
    loudness_range,
    short_term_loudness,
    true_peak_dbtp,
)


def tone(freq_hz, dur_s, sr, amp=1.0, phase=0.0):
    t = np.arange(int(round(dur_s * sr))) / sr
    return amp * np.sin(2 * np.pi * freq_hz * t + phase)


def k_gain_sq(freq_hz, sr):
    _, h = signal.sosfreqz(k_weighting_sos(sr), worN=[freq_hz], fs=sr)
    return abs(h[0]) ** 2


def test_k_weighting_matches_bs1770_table_at_48k():
    sos = k_weighting_sos(48000)
    np.testing.assert_allclose(sos[0, :3], [1.53512485958697, -2.69169618940638, 1.19839281085285], atol=1e-12)
    np.testing.assert_allclose(sos[0, 4:], [-1.69065929318241, 0.73248077421585], atol=1e-12)
    np.testing.assert_allclose(sos[1, 4:], [-1.99004745483398, 0.99007225036621], atol=1e-12)


@pytest.mark.parametrize("sr", [48000, 44100])
def test_997hz_stereo_sine_closed_form(sr):
    amp = 10 ** (-20 / 20)  # -20 dBFS peak in both channels
    x = np.vstack([tone(997, 5, sr, amp)] * 2)
    # L = -0.691 + 10 log10(sum_i G_i * mean square_i * |K(997)|^2)
    expected = -0.691 + 10 * math.log10(2 * amp**2 / 2 * k_gain_sq(997, sr))
    got = integrated_loudness(x, sr)
    assert got == pytest.approx(expected, abs=0.01)
    # by hand: -20 dBFS peak = -23.01 dB mean square, +3.01 for two channels, -0.691 offset
    # cancelled by K's +0.69 dB at 997 Hz: -20.0 LUFS
    assert got == pytest.approx(-20.0, abs=0.02)


def _pink(n, rng):
    b = [0.049922035, -0.095993537, 0.050612699, -0.004408786]
    a = [1, -2.494956002, 2.017265875, -0.522189400]
    y = signal.lfilter(b, a, rng.standard_normal(n))
    return y / np.std(y)


@pytest.mark.parametrize("sr", [48000, 44100])
def test_integrated_matches_pyloudnorm(sr):
    pyln = pytest.importorskip("pyloudnorm")
    rng = np.random.default_rng(7)
    n = int(6.3 * sr)
    t = np.arange(n) / sr
    signals = {
        "white": 0.1 * rng.standard_normal((2, n)),
        "pink": 0.2 * np.vstack([_pink(n, rng), _pink(n, rng)]),
        "stepped": np.vstack([np.where(t < 3, 0.3, 0.01) * np.sin(2 * np.pi * 300 * t),
                              0.05 * rng.standard_normal(n)]),
        "mono_100hz": 0.2 * np.sin(2 * np.pi * 100 * t),
        "binaural": 0.25 * np.vstack([np.sin(2 * np.pi * 205 * t), np.sin(2 * np.pi * 195 * t)]),
    }
    meter = pyln.Meter(sr)
    for name, x in signals.items():
        ref = meter.integrated_loudness(x.T)
        assert integrated_loudness(x, sr) == pytest.approx(ref, abs=0.1), name


def test_gating_closed_form():
    sr = 16000
    amp = 0.1
    loud = np.vstack([tone(997, 6, sr, amp)] * 2)
    expected = -0.691 + 10 * math.log10(amp**2 * k_gain_sq(997, sr))
    # 6 s of tone: 57 whole 400 ms blocks, then 3 blocks straddling the end of the tone
    # (3/4, 1/2, 1/4 of their samples loud) which pass both gates
    straddle = np.array([0.75, 0.5, 0.25])
    # silence after the tone is removed by the absolute gate
    x = np.concatenate([loud, np.zeros((2, 6 * sr))], axis=1)
    want = expected + 10 * math.log10((57 + straddle.sum()) / 60)
    assert integrated_loudness(x, sr) == pytest.approx(want, abs=0.005)
    # a part 30 dB quieter is removed by the relative gate (-10 LU)
    quiet = loud * 10 ** (-30 / 20)
    x = np.concatenate([loud, quiet], axis=1)
    want = expected + 10 * math.log10((57 + (straddle + (1 - straddle) * 1e-3).sum()) / 60)
    got = integrated_loudness(x, sr)
    assert got == pytest.approx(want, abs=0.005)
    ungated = -0.691 + 10 * math.log10(np.mean(x**2) * 2 * k_gain_sq(997, sr))
    assert got > ungated + 2.5


def test_silence_and_short_input_are_minus_inf():
    assert integrated_loudness(np.zeros((2, 48000)), 48000) == -math.inf
    assert integrated_loudness(tone(997, 0.3, 48000), 48000) == -math.inf
    assert true_peak_dbtp(np.zeros(4800), 48000) == -math.inf


def test_meter_is_independent_of_block_size():
    sr = 22050
    rng = np.random.default_rng(3)
    x = np.vstack([tone(440, 8, sr, 0.3) * np.linspace(0.1, 1, 8 * sr),
                   0.05 * rng.standard_normal(8 * sr)])
    m = LoudnessMeter(sr, 2)
    i = 0
    while i < x.shape[1]:
        n = int(rng.integers(1, 7000))
        m.update(x[:, i:i + n])
        i += n
    assert m.duration_s == pytest.approx(8.0)
    # bit for bit: each 100 ms sub-block is one running sum, wherever the blocks were cut
    assert m.integrated() == integrated_loudness(x, sr)
    assert m.true_peak_dbtp() == pytest.approx(true_peak_dbtp(x, sr), abs=1e-4)  # float32 FFTs
    assert m.loudness_range() == loudness_range(x, sr)
    t1, l1 = m.short_term()
    t2, l2 = short_term_loudness(x, sr)
    np.testing.assert_allclose(t1, t2)
    assert np.array_equal(l1, l2)


def test_true_peak_between_samples():
    sr = 48000
    # sr/4 sine at 45 degrees: every sample is +/-0.7071 (-3.01 dBFS) and the crest lies
    # exactly half way between samples, on the 4x grid: true peak 0.0 dBTP
    x = tone(sr / 4, 2, sr, 1.0, math.pi / 4)
    assert 20 * math.log10(np.max(np.abs(x))) == pytest.approx(-3.0103, abs=1e-3)
    assert true_peak_dbtp(x, sr) == pytest.approx(0.0, abs=0.01)
    m = LoudnessMeter(sr, 1)
    m.update(x)
    assert m.sample_peak_dbfs() == pytest.approx(-3.0103, abs=1e-3)


@pytest.mark.parametrize("freq_hz", [997.0, 5000.0, 15000.0])
def test_true_peak_of_sines_at_any_phase(freq_hz):
    sr = 48000
    # worst case the crest falls 1/8 sample from the 4x grid: under-read 1 - cos(2 pi f / 8 sr)
    allowed = -20 * math.log10(math.cos(2 * math.pi * freq_hz / sr / 8)) + 0.01
    for phase in np.linspace(0, 2 * math.pi, 7, endpoint=False):
        got = true_peak_dbtp(tone(freq_hz, 1, sr, 0.5, phase), sr)
        assert -6.0206 - allowed <= got <= -6.0206 + 0.01


def test_true_peak_above_ceiling_is_caught_although_samples_are_below():
    sr = 44100
    x = np.vstack([tone(sr / 4, 2, sr, 10 ** (-0.5 / 20), math.pi / 4)] * 2)
    assert 20 * math.log10(np.max(np.abs(x))) < -3.4  # sample peak -3.51 dBFS passes
    tp = true_peak_dbtp(x, sr)
    assert tp == pytest.approx(-0.5, abs=0.01)
    assert tp > -1.0  # a -1 dBTP ceiling fails


def test_loudness_range_ebu_3342_cases():
    sr = 16000
    amp20 = 10 ** (-20 / 20)
    # Tech 3342 case 1: 20 s at -20 dBFS then 20 s at -30 dBFS -> 10 LU
    x = np.concatenate([tone(1000, 20, sr, amp20), tone(1000, 20, sr, amp20 / 10**0.5)])
    assert loudness_range(np.vstack([x, x]), sr) == pytest.approx(10.0, abs=0.1)
    # case 2: -20 then -15 -> 5 LU
    x = np.concatenate([tone(1000, 20, sr, amp20), tone(1000, 20, sr, amp20 * 10 ** (5 / 20))])
    assert loudness_range(x, sr) == pytest.approx(5.0, abs=0.1)
    # a steady tone has no range
    assert loudness_range(tone(1000, 20, sr, amp20), sr) == pytest.approx(0.0, abs=0.01)


def test_short_term_values_and_times():
    sr = 8000
    amp = 0.1
    x = np.concatenate([tone(997, 10, sr, amp), tone(997, 10, sr, amp / 10)])
    times, lufs = short_term_loudness(x, sr, window_s=3.0, hop_s=1.0)
    np.testing.assert_allclose(times, np.arange(1.5, 18.6, 1.0))
    level = -0.691 + 10 * math.log10(amp**2 / 2 * k_gain_sq(997, sr))
    np.testing.assert_allclose(lufs[times < 8.5], level, atol=0.01)
    np.testing.assert_allclose(lufs[times > 11.5], level - 20, atol=0.01)
    # a 2 s window with a 0.5 s hop
    times, _ = short_term_loudness(x, sr, window_s=2.0, hop_s=0.5)
    assert times[0] == pytest.approx(1.0) and times[1] - times[0] == pytest.approx(0.5)


def test_bad_input_raises_resonator_error():
    with pytest.raises(ResonatorError, match="transpose"):
        integrated_loudness(np.zeros((48000, 2)), 48000)
    with pytest.raises(ResonatorError, match="sample rate"):
        integrated_loudness(np.zeros(48000), 0)
    with pytest.raises(ResonatorError, match="multiple of 0.1"):
        short_term_loudness(np.zeros(48000), 48000, window_s=0.25)
    m = LoudnessMeter(48000, 2)
    with pytest.raises(ResonatorError, match=r"\(2, n\)"):
        m.update(np.zeros((3, 100)))
    with pytest.raises(ResonatorError, match="NaN"):
        true_peak_dbtp(np.array([0.0, np.nan] * 1000), 48000)


def test_meter_filters_like_scipy_sosfilt_and_firwin():
    """The numba K-weighting pass and the numpy Kaiser FIR equal scipy's reference routines."""
    from scipy import signal

    from resonator.measure.loudness import (LoudnessMeter, _true_peak_filter, kaiser_lowpass,
                                            k_weighting_sos)

    assert np.allclose(kaiser_lowpass(161, 0.23, 9.0),
                       signal.firwin(161, 0.23, window=("kaiser", 9.0)), rtol=0, atol=1e-15)
    assert _true_peak_filter().shape == (4, 41)
    rng = np.random.default_rng(3)
    sr = 44100
    x = rng.standard_normal((3, 3 * sr)) * 0.1  # a channel pair and a single channel
    meter = LoudnessMeter(sr, 3, true_peak=False)
    for i in range(0, x.shape[1], 7777):
        meter.update(x[:, i:i + 7777])
    y = signal.sosfilt(k_weighting_sos(sr), x, axis=-1)
    edges = np.rint(np.arange(31) * sr / 10).astype(int)
    ref = np.add.reduceat(y ** 2, edges[:-1], axis=1)[:, :30].T
    assert meter._nsub == 30
    assert np.allclose(meter._sub[:30], ref, rtol=1e-12, atol=0)
    assert meter.sample_peak_dbfs() == pytest.approx(20 * np.log10(np.abs(x).max()), abs=1e-12)


def test_hop_true_peaks_place_each_peak_in_its_hop():
    """Exact per-hop true peaks: their maximum equals the meter's, an impulse lands in its own
    hop, a 12 kHz sine sampled at 45 degrees reads its amplitude, any cut gives the same."""
    from resonator.measure.loudness import TP_REACH, hop_true_peaks, true_peak_dbtp

    sr, hop = 48000, 480
    x = np.zeros((2, sr))
    x[1, 5000] = 0.5  # hop 10 (frames 4800..5279)
    t = np.arange(sr) / sr
    x[0, 20000:30000] = 0.3 * np.sin(2 * np.pi * 12000 * t[:10000] + 0.25 * np.pi)  # hops 41-62
    hops = np.arange(sr // hop)
    tp = hop_true_peaks(x, 0, hops, hop, sr)
    assert 20 * np.log10(tp.max()) == pytest.approx(true_peak_dbtp(x, sr), abs=1e-4)
    assert tp[10] >= 0.5 and np.argmax(tp[:40]) == 10
    assert tp[:9].max() == 0 and tp[12:40].max() == 0 and tp[64:].max() == 0
    assert np.abs(x[0, 20000:30000]).max() < 0.3 * 0.71
    assert tp[45] == pytest.approx(0.3, abs=2e-3)
    # from a piece of the signal holding just the hops' reach: the same bits
    lo, hi = 45 * hop - TP_REACH, 47 * hop + TP_REACH
    assert hop_true_peaks(x[:, lo:hi], lo, [45, 46], hop, sr).tolist() == tp[45:47].tolist()


def test_hop_true_peaks_above_a_level_are_exact_and_the_rest_stay_under_it():
    """exact_above: a hop whose true peak passes the level gets the same bits as without it;
    the others at most the level and at least their sample peak. A 12 kHz sine sampled at
    45 degrees (samples 0.71 of its 0.3 amplitude) passes 0.25 although no sample does."""
    from resonator.measure.loudness import hop_true_peaks

    sr, hop = 48000, 480
    t = np.arange(sr) / sr
    rng = np.random.default_rng(7)
    x = np.zeros((2, sr))
    x[0, 20000:30000] = 0.3 * np.sin(2 * np.pi * 12000 * t[:10000] + 0.25 * np.pi)
    x[1] = 0.05 * rng.standard_normal(sr)  # a bed around 0.1-0.2 at its peaks
    x[1, 40000:40200] += 0.2 * np.sign(np.sin(2 * np.pi * 300 * t[:200]))  # an edge near Nyquist
    x = x.astype(np.float32).astype(np.float64)
    hops = np.arange(sr // hop)
    exact = hop_true_peaks(x, 0, hops, hop, sr)
    sample = np.abs(x).reshape(2, -1, hop).max(axis=(0, 2))
    assert np.abs(x[0]).max() < 0.25 and exact[42:62].min() == pytest.approx(0.3, abs=2e-3)
    for level in (0.05, 0.15, 0.2, 0.25, 0.29, 0.35):
        got = hop_true_peaks(x, 0, hops, hop, sr, exact_above=level)
        over = exact > level
        assert got[over].tolist() == exact[over].tolist()
        assert np.all(got[~over] <= level) and np.all(got >= sample) and np.all(got <= exact)
    assert 20 <= np.sum(exact > 0.25) and np.sum(exact > 0.35) == 0
    # a level above every point: nothing is interpolated, each hop reads its sample peak
    assert hop_true_peaks(x, 0, hops, hop, sr, exact_above=1.0).tolist() == sample.tolist()


def test_meter_keeps_the_sample_peak_of_every_hop():
    """peak_hop: per-hop sample peaks from the K-weighting pass, for any cut and offset."""
    from resonator.measure.loudness import LoudnessMeter

    rng = np.random.default_rng(5)
    x = rng.standard_normal((2, 48000)) * np.linspace(0.01, 1, 48000)
    first = 4800 * 3 + 480 * 2  # the stream's frame of the meter's first sample
    for block in (480, 1000, 7777):
        meter = LoudnessMeter(48000, 2, true_peak=False, peak_hop=480, first_frame=first)
        for i in range(0, x.shape[1], block):
            meter.update(x[:, i:i + block])
        hp = meter.hop_peaks
        assert meter.hop_base == first // 480 and hp.size == 48000 // 480
        ref = np.abs(x).max(axis=0).reshape(-1, 480).max(axis=1)
        assert np.all(hp >= ref) and np.all(hp <= ref * (1 + 2.0 ** -22))  # float32, rounded up


def test_screened_true_peak_sees_every_sample_for_any_cut():
    """The screened estimate covers the first and last samples and the seams between blocks,
    and reads a 12 kHz sine sampled between its peaks at its true amplitude."""
    from resonator.measure.loudness import ScreenedTruePeak

    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 20000)) * 0.2
    x[0, 19995], x[1, 3], x[0, 4096] = 1.5, 1.2, 1.4  # the end, the start, a seam
    for block in (7, 60, 4096, 20000):
        s = ScreenedTruePeak(2)
        for i in range(0, x.shape[1], block):
            s.update(x[:, i:i + block])
        assert s.dbtp() == pytest.approx(20 * np.log10(1.5), abs=1e-12)
    t = np.arange(48000) / 48000
    y = 0.5 * np.sin(2 * np.pi * 12000 * t + np.pi / 4)[None]
    s = ScreenedTruePeak(1)
    for i in range(0, 48000, 5000):
        s.update(y[:, i:i + 5000])
    assert s.dbtp() == pytest.approx(20 * np.log10(0.5), abs=0.01)  # samples read -9 dB


def test_screen_given_the_block_peak_counts_its_margin_from_it():
    """The measuring pass gives the screen each block's peak (LoudnessMeter.block_peak): on a
    fade-in the threshold then follows the rising level (fewer points interpolated) and the
    estimate is still the true peak: that of the samples' own full scan, for any block size."""
    from resonator.measure.loudness import LoudnessMeter, ScreenedTruePeak

    t = np.arange(60000) / 48000
    x = np.stack([np.sin(2 * np.pi * 997 * t), np.sin(2 * np.pi * 1409 * t)]) * t / t[-1] * 0.8
    for block in (100, 4096, 60000):
        own, fed, meter = ScreenedTruePeak(2), ScreenedTruePeak(2), LoudnessMeter(48000, 2)
        for i in range(0, x.shape[1], block):
            b = x[:, i:i + block]
            meter.update(b)
            assert meter.block_peak == np.abs(b).max()
            own.update(b)
            fed.update(b, meter.block_peak)
        assert fed.dbtp() == own.dbtp()


def test_numpy_stand_ins_give_numpys_numbers():
    """resonator._lazy.unique / median / percentile (the render path's, without numpy 2.4's
    numpy.ma import) return np.unique's, np.median's and np.percentile's values bit for bit."""
    from resonator._lazy import median, percentile, unique

    rng = np.random.default_rng(21)
    for t in range(400):
        x = rng.standard_normal(int(rng.integers(1, 300))) * 20 - 30
        if t % 3 == 0:
            x = np.round(x)  # ties
        q = [10.0, 95.0] if t % 2 else [0.0, 37.5, 50.0, 99.9, 100.0]
        assert np.array_equal(percentile(x, q), np.percentile(x, q))
        assert np.array_equal(unique(x), np.unique(x)) and median(x) == np.median(x)



@pytest.mark.parametrize("first_frame, hint", [(0, 150 * 8000), (12_345, 150 * 8000),
                                               (0, 20 * 8000)])
def test_hop_peaks_sized_once_from_the_expected_frames(first_frame, hint):
    """``LoudnessMeter(peak_hop=, frames=)``: the hop peaks are kept in one array made at the
    expected number of hops (a measuring lane knows its length), never grown by doubling,
    and equal the grown ones bit for bit; a short hint grows as before."""
    from resonator.measure.loudness import LoudnessMeter

    sr, n, hop = 8000, 150 * 8000, 80
    rng = np.random.default_rng(7)
    x = 0.1 * rng.standard_normal((2, n)) * np.linspace(0.2, 1.0, n)
    ref = LoudnessMeter(sr, 2, true_peak=False, peak_hop=hop, first_frame=first_frame)
    got = LoudnessMeter(sr, 2, true_peak=False, peak_hop=hop, first_frame=first_frame,
                        frames=hint)
    made = got._hop_peaks
    for a in range(0, n, 40_000):
        ref.update(x[:, a:a + 40_000])
        got.update(x[:, a:a + 40_000])
    assert (got._hop_peaks is made) == (hint == n)  # sized once: never replaced
    if hint == n:  # the hops frames [first, first + n) touch, counted from hop_base
        assert made.size == -(-(first_frame + n) // hop) - first_frame // hop
    np.testing.assert_array_equal(got.hop_peaks, ref.hop_peaks)
    assert got.hop_peaks.size == -(-(first_frame + n) // hop) - first_frame // hop
