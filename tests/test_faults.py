"""Whole commands under faults: signals during a render, a full disk, a reader that goes away.

Each test runs ``resonator`` as a process (signals and pipes need one) and checks the exit
code, the one line on stderr (no traceback) and that nothing is left in the output folder.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

LONG = textwrap.dedent("""
    title = "long"
    sample_rate = 8000
    [[phase]]
    name = "a"
    duration = "2h"
    [[layer]]
    name = "noise"
    kind = "noise"
    color = "pink"
    [[layer]]
    name = "beat"
    kind = "binaural"
    carrier = "200 Hz"
    beat = "6 Hz"
    """).lstrip()

SHORT = LONG.replace('duration = "2h"', 'duration = "40s"').replace("8000", "16000")


def _cmd(*args):
    return [sys.executable, "-m", "resonator.cli", *map(str, args)]


def _default_signals():
    for s in (signal.SIGHUP, signal.SIGINT, signal.SIGTERM):
        signal.signal(s, signal.SIG_DFL)


def _temporaries_open(pid: int, folder: Path) -> bool:
    """True once the process holds a file in ``folder`` with data in it (the unnamed
    temporary of the measuring cache or of the output, not the empty probes that check the
    folder)."""
    try:
        fds = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return False
    for fd in fds:
        try:
            if os.readlink(f"/proc/{pid}/fd/{fd}").startswith(str(folder) + "/") and \
                    os.stat(f"/proc/{pid}/fd/{fd}").st_size > 0:
                return True
        except OSError:
            pass
    return False


def _start_and_signal(tmp_path, sig, *extra):
    rec = tmp_path / "long.toml"
    rec.write_text(LONG)
    out = tmp_path / "out"
    out.mkdir()
    p = subprocess.Popen(_cmd("render", rec, "-o", out / "long.wav", *extra),
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         preexec_fn=_default_signals, cwd=tmp_path)
    deadline = time.monotonic() + 120
    while not _temporaries_open(p.pid, out):
        assert p.poll() is None, p.communicate()
        assert time.monotonic() < deadline, "the render never started writing"
        time.sleep(0.05)
    p.send_signal(sig)
    try:
        stdout, stderr = p.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        p.kill()
        raise
    return p.returncode, stdout, stderr, out


@pytest.mark.parametrize("sig, name", [(signal.SIGINT, "SIGINT"), (signal.SIGTERM, "SIGTERM"),
                                       (signal.SIGHUP, "SIGHUP")])
def test_a_signal_while_measuring_leaves_nothing(tmp_path, sig, name):
    code, out, err, folder = _start_and_signal(tmp_path, sig)
    assert code == 128 + sig
    assert err == f"resonator render: interrupted ({name}); no partial file was left\n"
    assert os.listdir(folder) == []


def test_sigterm_while_writing_leaves_nothing(tmp_path):
    code, out, err, folder = _start_and_signal(tmp_path, signal.SIGTERM, "--no-normalize")
    assert code == 143
    assert "Traceback" not in err and err.count("\n") == 1
    assert os.listdir(folder) == []


def test_sigkill_leaves_nothing_and_the_next_run_works(tmp_path):
    code, out, err, folder = _start_and_signal(tmp_path, signal.SIGKILL)
    assert code == -9
    assert os.listdir(folder) == []  # unnamed temporaries: the system freed them


# ------------------------------------------------------------------------ full disk
@pytest.fixture
def small_disk(tmp_path):
    """A 400 kB tmpfs (root only)."""
    d = tmp_path / "disk"
    d.mkdir()
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=400k", "tmpfs", str(d)],
                       capture_output=True)
    if r.returncode != 0:
        pytest.skip("cannot mount a tmpfs here (the RLIMIT_FSIZE tests in test_outputs.py "
                    f"cover write faults): {r.stderr.decode().strip()}")
    yield d
    subprocess.run(["umount", "-l", str(d)])


def _run(*args, cwd):
    return subprocess.run(_cmd(*args), capture_output=True, text=True, cwd=cwd)


def test_a_wav_that_cannot_fit_is_refused_before_rendering(tmp_path, small_disk):
    (tmp_path / "s.toml").write_text(SHORT)
    r = _run("render", "s.toml", "-o", small_disk / "s.wav", cwd=tmp_path)
    assert r.returncode == 2
    assert r.stderr == (f"resonator render: error: {small_disk / 's.wav'}: needs 2.6 MB but "
                        "only 409.6 kB is free on that disk: free some space or write "
                        "elsewhere\n")
    assert os.listdir(small_disk) == []


def test_a_full_disk_during_a_flac_render_is_one_line_and_leaves_nothing(tmp_path, small_disk):
    (tmp_path / "s.toml").write_text(SHORT)
    r = _run("render", "s.toml", "-o", small_disk / "s.flac", cwd=tmp_path)
    assert r.returncode == 2
    assert r.stderr == (f"resonator render: error: {small_disk / 's.flac'}: could not be "
                        "written: no space left on the disk; nothing was written\n")
    assert os.listdir(small_disk) == []


def test_import_onto_a_full_disk_leaves_no_empty_file(tmp_path, small_disk):
    sbg = tmp_path / "x.sbg"
    sbg.write_text("-SE\nalpha: pink/20 200+10/10\nNOW alpha\n+0:10:00 off\noff: -\n")
    with open(small_disk / "filler", "wb", buffering=0) as f:  # fill the disk
        try:
            while True:
                f.write(b"\0" * 4096)
        except OSError:
            pass
    r = _run("import", sbg, "-o", small_disk / "x.toml", cwd=tmp_path)
    assert r.returncode == 2
    assert r.stderr == (f"resonator import: error: {small_disk / 'x.toml'}: could not be "
                        "written: no space left on the disk; nothing was written\n")
    assert os.listdir(small_disk) == ["filler"]


# ------------------------------------------------------------------------ pipes
def test_plan_into_head_is_quiet_and_still_writes_its_plot(tmp_path):
    (tmp_path / "s.toml").write_text(SHORT)
    p = subprocess.Popen(_cmd("plan", "s.toml", "--json", "--plot", "p.png"), cwd=tmp_path,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    p.stdout.read(10)
    p.stdout.close()  # the reader goes away, as `head -c 10` does
    err = p.stderr.read().decode()
    p.wait(timeout=120)
    assert "Traceback" not in err and "BrokenPipe" not in err
    assert p.returncode == 0
    assert (tmp_path / "p.png").read_bytes()[:4] == b"\x89PNG"


@pytest.mark.parametrize("suffix", ["wav", "flac", "mp3"])
def test_a_write_limit_during_a_render_is_one_line_and_leaves_nothing(tmp_path, suffix):
    """Where no tmpfs can be mounted this still runs: a file-size limit (RLIMIT_FSIZE) makes
    the writes (resonator's WAV writer, libsndfile's FLAC and MP3) fail part-way, as a full
    disk does."""
    import resource

    (tmp_path / "s.toml").write_text(SHORT)
    out = tmp_path / "out"
    out.mkdir()

    def limited():
        _default_signals()
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (100_000, 100_000))
    r = subprocess.run(_cmd("render", "s.toml", "-o", out / f"s.{suffix}", "--no-normalize"),
                       capture_output=True, text=True, cwd=tmp_path, preexec_fn=limited)
    assert r.returncode == 2, r.stderr
    assert r.stderr.startswith(f"resonator render: error: {out / f's.{suffix}'}: could not be "
                               "written"), r.stderr
    assert r.stderr.endswith("; nothing was written\n") and r.stderr.count("\n") == 1
    assert os.listdir(out) == []


def test_a_fifo_given_as_audio_is_refused_not_waited_on(tmp_path):
    """A named pipe as the audio of check or analyze: one line, exit 2, at once (both
    waited for ever for a writer)."""
    fifo = tmp_path / "pipe.wav"
    os.mkfifo(fifo)
    for args in (("check", fifo, "--target", "am_rate:0-1:6Hz"), ("analyze", fifo)):
        r = subprocess.run(_cmd(*args), capture_output=True, text=True, timeout=60,
                           cwd=tmp_path)
        assert r.returncode == 2, (args, r.stderr)
        assert "pipe.wav: is a device, pipe or socket, not an audio file" in r.stderr
        assert "Traceback" not in r.stderr
