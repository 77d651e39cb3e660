"""Known-answer tests for resonator.measure.io and file-based streaming measurement."""
import numpy as np
import pytest
import soundfile as sf

from resonator.errors import AudioFileError, ResonatorError
from resonator.measure.frequency import peak_frequency
from resonator.measure.io import iter_blocks, open_audio, read_window
from resonator.measure.loudness import LoudnessMeter, integrated_loudness

SR = 16000


@pytest.fixture
def stereo(tmp_path):
    t = np.arange(5 * SR) / SR
    x = np.vstack([0.5 * np.sin(2 * np.pi * 440 * t), 0.25 * np.sin(2 * np.pi * 660 * t)])
    path = tmp_path / "tone.wav"
    sf.write(path, x.T, SR, subtype="FLOAT")
    return path, x


def test_open_audio_info(stereo):
    path, x = stereo
    info = open_audio(path)
    assert (info.sr, info.channels, info.frames) == (SR, 2, x.shape[1])
    assert info.duration_s == pytest.approx(5.0)
    assert info.format == "WAV"


def test_iter_blocks_and_windows_are_exact(stereo):
    path, x = stereo
    blocks = list(iter_blocks(path, 3000))
    assert all(b.shape[0] == 2 and b.dtype == np.float64 for b in blocks)
    assert [b.shape[1] for b in blocks[:-1]] == [3000] * (len(blocks) - 1)
    np.testing.assert_allclose(np.concatenate(blocks, axis=1), x, atol=1e-7)
    w, sr = read_window(path, 1.25, 2.5)
    assert sr == SR and w.shape == (2, int(1.25 * SR))
    np.testing.assert_allclose(w, x[:, int(1.25 * SR):int(2.5 * SR)], atol=1e-7)
    # end past the file's end is clipped
    w, _ = read_window(path, 4.0, 99.0)
    assert w.shape[1] == SR


@pytest.mark.parametrize("fmt,ext,tol_hz", [("WAV", "wav", 1e-4), ("FLAC", "flac", 1e-4),
                                            ("OGG", "ogg", 0.01), ("MP3", "mp3", 0.01)])
def test_formats_read_and_measure(tmp_path, stereo, fmt, ext, tol_hz):
    _, x = stereo
    path = tmp_path / f"tone.{ext}"
    sf.write(path, x.T, SR, format=fmt)
    info = open_audio(path)
    assert info.channels == 2 and info.sr == SR
    w, sr = read_window(path, 1.0, 3.0)
    assert peak_frequency(w[0], sr, 100, 1000) == pytest.approx(440.0, abs=tol_hz)
    assert peak_frequency(w[1], sr, 100, 1000) == pytest.approx(660.0, abs=tol_hz)


def test_streamed_loudness_equals_in_memory(stereo):
    path, x = stereo
    meter = LoudnessMeter(SR, 2)
    for block in iter_blocks(path, 4096):
        meter.update(block)
    assert meter.integrated() == pytest.approx(integrated_loudness(x, SR), abs=1e-6)


def test_unreadable_files_name_the_path(tmp_path):
    missing = tmp_path / "missing.wav"
    with pytest.raises(AudioFileError, match="missing.wav: no such file"):
        open_audio(missing)
    bad = tmp_path / "notes.wav"
    bad.write_text("not audio")
    with pytest.raises(AudioFileError, match="notes.wav: cannot read as audio"):
        open_audio(bad)
    with pytest.raises(ResonatorError, match="directory"):
        open_audio(tmp_path)


def test_bad_windows(stereo):
    path, _ = stereo
    with pytest.raises(AudioFileError, match="file lasts 5.000 s"):
        read_window(path, 6.0, 7.0)
    with pytest.raises(AudioFileError, match="start_s < end_s"):
        list(iter_blocks(path, 1024, 2.0, 1.0))
