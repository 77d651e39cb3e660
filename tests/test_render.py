"""Renderer: atomic files, no overwrite, dither statistics, formats, sidecar, determinism."""
import json
import sys

import numpy as np
import pytest
import soundfile as sf

from resonator.errors import AudioFileError, GraphError, OutputExistsError
from resonator.graph import Channels, Constant, Map, Noise, Sine
from resonator.render import _choose_format, render_array, render_file

SR = 8000


def _leftovers(folder):
    return sorted(p.name for p in folder.iterdir())


def test_error_mid_render_leaves_no_file(tmp_path):
    def explode(x):
        explode.calls += 1
        if explode.calls > 3:
            raise RuntimeError("boom")
        return x

    explode.calls = 0
    with pytest.raises(RuntimeError):
        render_file(Map(Sine(100.0), explode), tmp_path / "x.wav", 10.0, sr=SR, block_frames=1000)
    assert _leftovers(tmp_path) == []


def test_ctrl_c_leaves_no_file(tmp_path):
    def interrupt(done, total):
        if done > 2000:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        render_file(Sine(100.0), tmp_path / "x.flac", 5.0, sr=SR, block_frames=1000, progress=interrupt)
    assert _leftovers(tmp_path) == []


def test_existing_output_needs_force(tmp_path):
    out = tmp_path / "x.wav"
    out.write_bytes(b"precious")
    with pytest.raises(OutputExistsError, match="--force"):
        render_file(Sine(100.0), out, 0.5, sr=SR)
    assert out.read_bytes() == b"precious"
    render_file(Sine(100.0), out, 0.5, sr=SR, force=True)
    assert sf.info(out).frames == SR // 2


def test_bad_graph_fails_before_a_file_exists(tmp_path):
    with pytest.raises(GraphError):
        render_file(Sine(5000.0), tmp_path / "x.wav", 1.0, sr=SR)
    assert _leftovers(tmp_path) == []


def test_tpdf_dither_statistics_on_silence(tmp_path):
    """TPDF dither of +-1 LSB on digital silence rounds to 0 with probability 3/4, +-1 with 1/8."""
    render_file(Constant([0.0, 0.0]), tmp_path / "d.wav", 10.0, sr=SR, bits="16")
    data, _ = sf.read(tmp_path / "d.wav", dtype="int16")
    values, counts = np.unique(data, return_counts=True)
    share = dict(zip(values.tolist(), (counts / data.size).tolist()))
    assert set(share) == {-1, 0, 1}
    assert share[0] == pytest.approx(0.75, abs=0.01)
    assert share[1] == pytest.approx(0.125, abs=0.01) and share[-1] == pytest.approx(0.125, abs=0.01)
    assert abs(np.corrcoef(data[:, 0], data[:, 1])[0, 1]) < 0.02  # independent per channel


def test_dither_does_not_depend_on_block_size(tmp_path):
    node = Sine([300.0, 301.0], amplitude=0.3)
    render_file(node, tmp_path / "a.wav", 2.0, sr=SR, block_frames=1000)
    render_file(node, tmp_path / "b.wav", 2.0, sr=SR, block_frames=4096)
    assert (tmp_path / "a.wav").read_bytes() == (tmp_path / "b.wav").read_bytes()


@pytest.mark.parametrize("bits, step", [("16", 1 / 32768), ("24", 1 / 8388608)])
def test_integer_formats_round_trip(tmp_path, bits, step):
    node = Sine(123.0, amplitude=0.5)
    ref = render_array(node, 1.0, sr=SR)[0]
    render_file(node, tmp_path / "x.flac", 1.0, sr=SR, bits=bits)
    data, _ = sf.read(tmp_path / "x.flac")
    tol = 1.5 * step if bits == "16" else 0.51 * step  # 16-bit carries +-1 LSB of dither
    assert np.max(np.abs(data - ref)) <= tol + 1e-12


def test_clipping_is_counted_not_wrapped(tmp_path):
    res = render_file(Sine(100.0, amplitude=1.5), tmp_path / "c.wav", 1.0, sr=SR, bits="24")
    data, _ = sf.read(tmp_path / "c.wav")
    assert data.max() == pytest.approx(1.0, abs=1e-6) and data.min() >= -1.0
    assert np.sum(np.abs(data) > 0.999) > 100  # clipped flat, not wrapped around
    assert res.clipped_samples > 0
    assert json.loads((tmp_path / "c.json").read_text())["clipped_samples"] == res.clipped_samples


def test_sidecar_records_the_render(tmp_path):
    res = render_file(Channels([Sine(205.0), Sine(195.0)]) * 0.5, tmp_path / "s.wav", 1.0,
                      sr=SR, seed=42, metadata={"recipe": "demo"})
    info = json.loads(res.sidecar.read_text())
    assert info["sample_rate"] == SR and info["seed"] == 42 and info["frames"] == SR
    assert info["channels"] == 2 and info["recipe"] == "demo"
    assert info["peak_dbfs"] == pytest.approx(20 * np.log10(0.5), abs=0.01)
    assert set(info["versions"]) >= {"resonator", "numpy", "scipy", "soundfile"}
    assert len(info["graph_hash"]) == 16


def test_dependency_versions_are_the_installed_distributions(tmp_path, monkeypatch):
    """The versions read from dist-info folder names are importlib.metadata's; a library
    found nowhere is "not installed"."""
    from importlib import metadata

    import resonator.render as rr

    monkeypatch.setattr(rr, "_VERSIONS", None)
    got = rr.dependency_versions()
    assert got == {"resonator": rr.dependency_versions()["resonator"],
                   **{d: metadata.version(d) for d in rr.VERSIONED}}
    site = tmp_path / "site"
    (site / "numpy-0.0.1.dist-info").mkdir(parents=True)  # earlier on the path: it wins
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.setattr(rr, "_VERSIONS", None)
    monkeypatch.setattr(rr, "VERSIONED", ("numpy", "no-such-dist"))
    assert rr.dependency_versions() == {"resonator": got["resonator"], "numpy": "0.0.1",
                                        "no-such-dist": "not installed"}


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc malloc tuning")
def test_a_render_keeps_freed_block_arrays(tmp_path):
    """The command line tunes glibc malloc (resonator._process.tune) so freed block arrays are
    kept for the next blocks (a cached 10-minute render: about 8,700 page faults against
    55,000-92,000 with the allocator's defaults, benchmarks/vs_sbagen.py). Read here from the
    allocator's state after a render, which timing does not change: a 24 MB array comes from
    the heap (below the 32 MB mmap threshold) in the tuned process, from its own mmap with
    glibc's defaults (threshold 128 kB); a MALLOC_* variable (the no-op MALLOC_PERTURB_=0)
    leaves the defaults."""
    import os
    import subprocess

    sbg = tmp_path / "bench.sbg"
    sbg.write_text("-SE\nbench: pink/40 200+10/20\n00:00:00 bench\n00:00:02 bench\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}
    env["RESONATOR_CACHE_DIR"] = str(tmp_path / "cache")
    run = ("import numpy as np\nfrom resonator.cli import main\n"
           f"assert main(['render', {str(sbg)!r}, '-o', {str(tmp_path / 'b.wav')!r}, "
           "'--force', '-q']) == 0\n"
           "a = np.ones(3 << 20)\n"
           "lo, hi = next([int(x, 16) for x in line.split()[0].split('-')]\n"
           "              for line in open('/proc/self/maps') if line.rstrip().endswith('[heap]'))\n"
           "print('heap' if lo <= a.ctypes.data < hi else 'mmap')\n")

    def where(**extra):
        return subprocess.run([sys.executable, "-c", run], check=True, cwd=tmp_path,
                              capture_output=True, text=True,
                              env=dict(env, **extra)).stdout.strip()
    assert where() == "heap"
    assert where(MALLOC_PERTURB_="0") == "mmap"


def test_wav_pages_go_to_disk_while_rendering(tmp_path, monkeypatch):
    """Every WRITEBACK_BYTES written, the WAV writer starts the disk writes (so the commit's
    fsync waits only for the last pages); the file is the same."""
    import resonator.wavfile as wavfile

    node = Channels([Sine(205.0), Sine(195.0)]) * 0.3
    ref = render_file(node, tmp_path / "a.wav", 4.0, sr=8000, bits="16", sidecar=False)
    started = []
    monkeypatch.setattr(wavfile, "WRITEBACK_BYTES", 20_000)
    real = wavfile._writeback()
    assert real is not None or not sys.platform.startswith("linux")
    monkeypatch.setattr(wavfile, "_writeback", lambda: lambda fd: started.append(fd))
    render_file(node, tmp_path / "b.wav", 4.0, sr=8000, bits="16", sidecar=False,
                block_frames=1000)
    assert len(started) == 4 * 8000 * 4 // 20_000  # 128,000 bytes of samples
    assert (tmp_path / "a.wav").read_bytes() == (tmp_path / "b.wav").read_bytes()
    assert ref.frames == 32000


def test_graph_hash_tracks_parameters(tmp_path):
    a = render_file(Sine(200.0), tmp_path / "a.wav", 0.1, sr=SR)
    b = render_file(Sine(200.0), tmp_path / "b.wav", 0.1, sr=SR)
    c = render_file(Sine(201.0), tmp_path / "c.wav", 0.1, sr=SR)
    h = [json.loads(r.sidecar.read_text())["graph_hash"] for r in (a, b, c)]
    assert h[0] == h[1] != h[2]


def test_same_seed_same_file_bytes(tmp_path):
    node = Noise("pink", channels=2, name="bed")
    render_file(node, tmp_path / "a.wav", 1.0, sr=SR, seed=5)
    render_file(node, tmp_path / "b.wav", 1.0, sr=SR, seed=5)
    render_file(node, tmp_path / "c.wav", 1.0, sr=SR, seed=6)
    assert (tmp_path / "a.wav").read_bytes() == (tmp_path / "b.wav").read_bytes()
    assert (tmp_path / "a.wav").read_bytes() != (tmp_path / "c.wav").read_bytes()


def test_rf64_chosen_past_4_gib(tmp_path):
    two_hours_96k = 2 * 3600 * 96000
    assert _choose_format(tmp_path / "x.wav", None, "32f", two_hours_96k, 2)[0] == "RF64"
    assert _choose_format(tmp_path / "x.wav", None, "16", 10 * 60 * 44100, 2)[0] == "WAV"
    with pytest.raises(AudioFileError, match="FLAC"):
        _choose_format(tmp_path / "x.flac", None, "32f", 100, 2)
    with pytest.raises(AudioFileError, match="not supported: choose wav, flac, mp3, ogg, opus"):
        _choose_format(tmp_path / "x.aiff", None, "16", 100, 2)


@pytest.mark.parametrize("bits", ["16", "24", "32f"])
@pytest.mark.parametrize("channels", [1, 2, 3])
@pytest.mark.parametrize("rf64", [False, True])
def test_own_wav_writer_reads_back_exactly(tmp_path, bits, channels, rf64):
    from resonator.render import quantize
    from resonator.wavfile import WavWriter

    rng = np.random.default_rng(0)
    x = rng.uniform(-0.9, 0.9, (channels, 1001))
    data, _ = quantize(x, 0, bits, 0)
    path = tmp_path / "w.wav"
    with WavWriter(path, 44100, channels, bits, 1001, rf64=rf64) as w:
        w.write(data[:500])
        w.write(data[500:])
    info = sf.info(path)
    assert (info.samplerate, info.channels, info.frames) == (44100, channels, 1001)
    assert info.format == ("RF64" if rf64 else "WAV" if channels <= 2 else "WAVEX")
    back, _ = sf.read(path, dtype="float64", always_2d=True)
    scale = {"16": 32768.0, "24": 8388608.0, "32f": 1.0}[bits]
    assert np.array_equal(back * scale, data.astype(np.float64))


def test_wav_writer_refuses_a_short_write(tmp_path):
    from resonator.wavfile import WavWriter

    w = WavWriter(tmp_path / "s.wav", 8000, 1, "16", 10)
    w.write(np.zeros((5, 1), np.int16))
    with pytest.raises(ValueError, match="declares"):
        w.close()


@pytest.mark.parametrize("bits,fmt,channels", [("16", "wav", 2), ("24", "wav", 1),
                                               ("32f", "wav", 2), ("16", "flac", 2)])
def test_render_file_from_stretches_on_threads_writes_the_same_bytes(tmp_path, bits, fmt,
                                                                    channels):
    """Blocks given as consecutive stretches (processed at once) give the one-stream file."""
    from resonator.graph import Channels, Noise, Sine
    from resonator.render import iter_blocks, render_file

    sr, B, dur = 8000, 1000, 2.0001  # odd frame count: a 24-bit mono file needs a pad byte
    node = Sine(440.0, amplitude=0.5) if channels == 1 else \
        Channels([Sine(440.0), Sine(330.0)]) * 0.4 + Noise("pink", channels=2, name="n")
    one = list(iter_blocks(node, dur, sr=sr, block_frames=B))
    cut = next(i for i, (pos, _) in enumerate(one) if pos >= 9000)
    post = lambda b, pos: b * 0.9  # noqa: E731 - a pure gain
    a = render_file(node, tmp_path / f"a.{fmt}", dur, sr=sr, bits=bits, block_frames=B,
                    blocks=iter(one), post=post, sidecar=False)
    b = render_file(node, tmp_path / f"b.{fmt}", dur, sr=sr, bits=bits, block_frames=B,
                    blocks=[iter(one[:cut]), iter(one[cut:])], post=post, sidecar=False)
    assert (tmp_path / f"a.{fmt}").read_bytes() == (tmp_path / f"b.{fmt}").read_bytes()
    assert (a.peak_dbfs, a.clipped_samples, a.frames) == (b.peak_dbfs, b.clipped_samples,
                                                          b.frames)
    data, _ = sf.read(tmp_path / f"b.{fmt}", always_2d=True)
    assert data.shape == (16001, channels)
