"""Compressed output (MP3, OGG/Vorbis, Opus through soundfile's libsndfile): streamed like WAV,
decoded and measured after encoding, kept under the true-peak ceiling."""
from __future__ import annotations

import json
import math

import numpy as np
import pytest
import soundfile as sf

from resonator.cli import main
from resonator.graph import Channels, Sine
from resonator.render import LOSSY, lossy_rate, render_file

from conftest import peak_hz

SR = 48000
FORMATS = [("mp3", "MP3", "MPEG_LAYER_III"), ("ogg", "OGG", "VORBIS"), ("opus", "OGG", "OPUS")]


@pytest.mark.parametrize("fmt, container, subtype", FORMATS)
def test_a_lossy_render_decodes_to_the_planned_tones_and_loudness(tmp_path, fmt, container,
                                                                  subtype):
    """A 1 kHz tone at amplitude 0.5 in both ears is -6.02 LUFS (BS.1770: K-weighting is
    +0.69 dB at 1 kHz, the -0.691 offset takes it back); decoded, the file still is."""
    node = Channels([Sine(1000.0, amplitude=0.5), Sine(1000.0, amplitude=0.5)])
    res = render_file(node, tmp_path / f"t.{fmt}", 3.0, sr=SR)
    info = sf.info(str(res.path))
    assert (info.format, info.subtype, info.samplerate, info.channels) == (container, subtype,
                                                                            SR, 2)
    x, sr = sf.read(res.path, dtype="float64")
    assert abs(len(x) - 3 * SR) <= 2048  # (encoders pad to whole frames at most)
    assert peak_hz(x[SR:2 * SR, 0], SR) == pytest.approx(1000.0, abs=0.05)
    enc = res.encoded
    assert enc["loudness_lufs"] == pytest.approx(-6.02, abs=0.3)
    assert enc["true_peak_dbtp"] == pytest.approx(-6.02, abs=0.5)
    assert enc["attempts"] == 1 and enc["quality"] == LOSSY[fmt][3]
    assert enc["bytes"] == res.path.stat().st_size < 3 * SR * 2 * 2 / 4  # < 1/4 of 16-bit WAV
    side = json.loads(res.sidecar.read_text())
    assert side["format"] == fmt and side["encoded"] == enc
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["t.json", f"t.{fmt}"])


def test_an_encoder_overshoot_is_encoded_again_under_the_ceiling(tmp_path):
    """A tone at -0.09 dBFS against a -1 dBTP ceiling: the first encoding is over by about
    0.9 dB, the second is lowered by that plus the margin and stays under."""
    node = Channels([Sine(997.0, amplitude=0.99), Sine(1003.0, amplitude=0.99)])
    res = render_file(node, tmp_path / "t.ogg", 2.0, sr=SR, ceiling_dbtp=-1.0)
    enc = res.encoded
    assert enc["attempts"] == 2
    assert -1.4 < enc["trim_db"] < -1.0
    assert enc["true_peak_dbtp"] <= -1.0
    assert res.peak_dbfs == pytest.approx(-0.09 + enc["trim_db"], abs=0.01)  # what was encoded
    x, _ = sf.read(res.path)
    assert 20 * math.log10(np.abs(x).max()) <= -1.0


def test_quality_trades_size(tmp_path):
    node = Channels([Sine(440.0, amplitude=0.3), Sine(3520.0, amplitude=0.1)])
    small = render_file(node, tmp_path / "s.ogg", 4.0, sr=SR, quality=0.1)
    big = render_file(node, tmp_path / "b.ogg", 4.0, sr=SR, quality=0.9)
    assert big.encoded["bytes"] > 1.5 * small.encoded["bytes"]


def test_rates_the_encoders_take():
    assert lossy_rate("opus", 44100) == 48000
    assert lossy_rate("opus", 48000) is None
    assert lossy_rate("mp3", 96000) == 48000
    assert lossy_rate("mp3", 22050) is None
    assert lossy_rate("ogg", 96000) is None


RECIPE = """title = "t"
sample_rate = 44100
fade_in = "1s"
fade_out = "1s"
[[phase]]
name = "a"
duration = "8s"
[[layer]]
name = "beat"
kind = "binaural"
carrier = "300 Hz"
beat = "8 Hz"
gain = "-12 dB"
"""


def test_render_opus_from_a_44100_recipe(tmp_path, capsys):
    (tmp_path / "r.toml").write_text(RECIPE)
    out = tmp_path / "r.opus"
    assert main(["render", str(tmp_path / "r.toml"), "-o", str(out)]) == 0
    err, printed = capsys.readouterr().err, capsys.readouterr
    assert "warning: rendered at 48000 Hz: opus encodes 8000, 12000, 16000, 24000, 48000 Hz, " \
           "not the recipe's 44100 Hz" in err
    side = json.loads(out.with_suffix(".json").read_text())
    assert side["sample_rate"] == 48000 and side["format"] == "opus"
    assert side["encoded"]["true_peak_dbtp"] <= side["loudness"]["ceiling_dbtp"]
    assert side["encoded"]["loudness_lufs"] == pytest.approx(side["loudness"]["target_lufs"],
                                                             abs=0.5)
    x, sr = sf.read(out)
    assert sr == 48000
    # the binaural beat survives encoding: 304 Hz left, 296 Hz right
    assert peak_hz(x[2 * sr:6 * sr, 0], sr, 250, 350) == pytest.approx(304.0, abs=0.05)
    assert peak_hz(x[2 * sr:6 * sr, 1], sr, 250, 350) == pytest.approx(296.0, abs=0.05)


def test_mp3_read_in_blocks_equals_the_whole_file(tmp_path):
    """soundfile's SoundFile.read seeks after each read, and libsndfile 1.2.2 decodes MP3
    wrongly after such a seek (half full scale off from the second block on): every reader
    goes through measure.io.read_frames / FrameReader instead."""
    from resonator.measure.io import FrameReader, iter_blocks

    t = np.arange(SR * 6) / SR
    x = 0.5 * np.stack([np.sin(2 * np.pi * 500 * t * (1 + t / 6)), np.sin(2 * np.pi * 700 * t)],
                       axis=1)
    p = tmp_path / "c.mp3"
    sf.write(p, x, SR)
    whole, _ = sf.read(p, dtype="float64")
    blocks = np.concatenate([b.T for b in iter_blocks(p, 10000)])
    assert np.array_equal(blocks, whole)
    later = np.concatenate([b.T for b in iter_blocks(p, 10000, start_s=2.5)])
    assert np.array_equal(later, whole[int(2.5 * SR):])
    for suffix in (".mp3", ".flac", ".ogg", ".wav"):
        q = tmp_path / f"d{suffix}"
        sf.write(q, x, SR)
        whole, _ = sf.read(q, dtype="float64")
        r = FrameReader(q)
        for first in (50000, 54000, 12345, 200000, 210000, 0):  # on, back, forth
            assert np.array_equal(r.read(first, 4000, "float64"), whole[first:first + 4000])
        r.close()
