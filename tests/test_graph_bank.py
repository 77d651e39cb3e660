"""SineBank: a fused sum of constant-frequency sines equals the separate Sines."""
import numpy as np
import pytest

from resonator.errors import GraphError
from resonator.graph import Channels, Curve, FunctionOfTime, Sine, Sum
from resonator.graph.bank import SineBank
from resonator.render import render_array

SR = 48000


def _breath():
    return Curve([(0, 0.0), (0.7, 1.0, "cos"), (1.5, 1.0), (2.6, 0.0, "cos")])


def _lfo():
    return FunctionOfTime(lambda t: 0.5 + 0.4 * np.sin(2 * np.pi * 0.3 * t), bounds=(0.1, 0.9))


def _pair():
    """(bank, reference built from Sines) for 4 stereo partials with mixed amplitude forms."""
    b, lfo = _breath(), _lfo()
    freqs = np.array([[110.2, 109.8], [165.3, 164.7], [220.0, 219.5], [4123.4, 4121.1]])
    amps = [(b, 0, 0.3, 0.1), 0.25, lfo, (b, 0, -0.2, 0.5)]
    phases = [0.0, 0.25, 0.5, 0.9]
    bank = SineBank(freqs, amps, phases=phases)
    amp_nodes = [b * 0.3 + 0.1, 0.25, lfo, b * -0.2 + 0.5]
    ref = Channels([Sum([Sine(freqs[k, c], amplitude=amp_nodes[k], phase=phases[k])
                         for k in range(4)]) for c in range(2)])
    return bank, ref


def test_bank_equals_sum_of_sines():
    bank, ref = _pair()
    for start in (0.0, 1234.5):  # far into a session too (large phases)
        a = render_array(bank, 0.5, sr=SR, start_s=start)
        r = render_array(ref, 0.5, sr=SR, start_s=start)
        assert a.shape == (2, SR // 2)
        assert np.max(np.abs(a - r)) <= 1e-12


@pytest.mark.parametrize("bf", [1, 333, 1024, 1025, 4096, 65536])
def test_bank_is_bit_identical_for_any_block_split(bf):
    bank, _ = _pair()
    ref = render_array(bank, 0.2, sr=SR, block_frames=16384, start_s=3.0)
    other = render_array(bank, 0.2, sr=SR, block_frames=bf, start_s=3.0)
    assert np.array_equal(ref, other)


def test_bank_window_equals_full_render():
    bank, _ = _pair()
    full = render_array(bank, 2.0, sr=SR, block_frames=4096)
    win = render_array(bank, 0.7, sr=SR, block_frames=4096, start_s=1.1)
    i = round(1.1 * SR)
    assert np.array_equal(win, full[:, i:i + win.shape[1]])


def test_bank_constant_partials_and_known_answer():
    bank = SineBank([1000.0, 3000.0], [0.5, 0.25])  # one channel
    y = render_array(bank, 0.01, sr=SR)[0]
    t = np.arange(y.size) / SR
    want = 0.5 * np.sin(2 * np.pi * 1000 * t) + 0.25 * np.sin(2 * np.pi * 3000 * t)
    assert bank.channels == 1
    assert np.max(np.abs(y - want)) <= 1e-12


def test_bank_errors():
    with pytest.raises(GraphError, match="amplitudes"):
        SineBank([100.0, 200.0], [1.0])
    with pytest.raises(GraphError, match="row 1 does not exist"):
        SineBank([100.0], [(_breath(), 1, 1.0, 0.0)])
    with pytest.raises(GraphError, match="Nyquist"):
        render_array(SineBank([30000.0], [1.0]), 0.01, sr=SR)
