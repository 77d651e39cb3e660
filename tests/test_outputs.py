"""resonator.outputs: output paths checked before any work, atomic writes, leftovers, faults."""
from __future__ import annotations

import errno
import fcntl
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from resonator import outputs
from resonator.errors import OutputExistsError
from resonator.outputs import (
    AtomicFile,
    OutputError,
    check_free_space,
    check_output,
    check_output_folder,
    save_figure,
    scratch_file,
    sweep_leftovers,
    write_text,
)


def _err(exc) -> str:
    return str(exc.value)


# ------------------------------------------------------------------------ check_output
def test_a_plain_new_file_passes_and_nothing_is_created(tmp_path):
    out = check_output(tmp_path / "x.wav", option="-o", suffixes=(".wav",))
    assert out == tmp_path / "x.wav"
    assert os.listdir(tmp_path) == []  # the writability probe leaves nothing


def test_missing_folder_is_refused_and_not_created(tmp_path):
    with pytest.raises(OutputError) as e:
        check_output(tmp_path / "no" / "x.wav", option="-o")
    assert _err(e).startswith(f"-o {tmp_path / 'no' / 'x.wav'}: the folder ")
    assert "does not exist" in _err(e)
    assert os.listdir(tmp_path) == []


def test_make_parents_creates_the_missing_folders(tmp_path):
    check_output(tmp_path / "a" / "b" / "x.wav", make_parents=True)
    assert (tmp_path / "a" / "b").is_dir()


def test_a_path_under_a_regular_file_names_the_file(tmp_path):
    (tmp_path / "f.toml").write_text("x")
    with pytest.raises(OutputError) as e:
        check_output(tmp_path / "f.toml" / "sub" / "x.wav", option="-o", make_parents=True)
    assert f"{tmp_path / 'f.toml'} is a file, not a folder" in _err(e)


def test_an_output_that_is_a_folder_is_refused_even_with_force(tmp_path):
    (tmp_path / "d.wav").mkdir()
    with pytest.raises(OutputError, match="is a folder, not a file"):
        check_output(tmp_path / "d.wav", force=True)


def test_a_device_or_pipe_is_never_replaced_even_with_force(tmp_path, capsys):
    """An atomic write renames a new file over the name: on /dev/null (or a FIFO) that
    destroys the node. Refused before any work, and the node is still what it was."""
    fifo = tmp_path / "out.wav"
    os.mkfifo(fifo)
    with pytest.raises(OutputError, match="device, pipe or socket, not a file"):
        check_output(fifo, suffixes=(".wav",), force=True)
    from resonator.cli import main

    recipe = tmp_path / "r.toml"
    recipe.write_text('sample_rate = 8000\nfade_in = "1s"\nfade_out = "1s"\n'
                      '[[phase]]\nname = "a"\nduration = "2s"\n'
                      '[[layer]]\nname = "t"\nkind = "binaural"\ncarrier = "200 Hz"\n'
                      'beat = "6 Hz"\n')
    assert main(["render", str(recipe), "-o", str(fifo), "--force"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "out.wav" in err and "not a file" in err
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.wav", "r.toml"]


@pytest.mark.parametrize("name, hint", [("x.pngx", ".png"), ("x.PNG", None), ("x", None),
                                        ("x.jpg", None)])
def test_extensions(tmp_path, name, hint):
    allowed = (".png", ".svg", ".pdf")
    if name == "x.PNG":  # case does not matter
        assert check_output(tmp_path / name, suffixes=allowed)
        return
    with pytest.raises(OutputError) as e:
        check_output(tmp_path / name, option="--plot", suffixes=allowed)
    assert "allowed: .png, .svg, .pdf" in _err(e)
    assert (f"did you mean '{hint}'" in _err(e)) == (hint is not None)


def test_an_input_is_never_an_output_whatever_force_says(tmp_path):
    src = tmp_path / "r.toml"
    src.write_text("x")
    (tmp_path / "link.toml").symlink_to(src)
    os.link(src, tmp_path / "hard.toml")
    for out in (src, tmp_path / "link.toml", tmp_path / "hard.toml",
                tmp_path / "sub" / ".." / "r.toml"):
        (tmp_path / "sub").mkdir(exist_ok=True)
        with pytest.raises(OutputError, match="is also an input"):
            check_output(out, inputs=[src], force=True)
    assert src.read_text() == "x"


def test_two_outputs_of_one_run_must_differ(tmp_path):
    with pytest.raises(OutputError, match="another output of this run"):
        check_output(tmp_path / "a.json", others=[tmp_path / "a.json"], force=True)


def test_an_existing_file_needs_force(tmp_path):
    (tmp_path / "x.wav").write_bytes(b"old")
    with pytest.raises(OutputExistsError, match="pass --force"):
        check_output(tmp_path / "x.wav")
    assert check_output(tmp_path / "x.wav", force=True)


@pytest.mark.parametrize("bad", ["", "dir/", "a\x00b"])
def test_names_that_are_not_files(tmp_path, bad):
    with pytest.raises(OutputError):
        check_output(bad)


def test_check_output_folder(tmp_path):
    (tmp_path / "f").write_text("x")
    with pytest.raises(OutputError, match="is a file, not a folder"):
        check_output_folder(tmp_path / "f", option="--plot")
    assert check_output_folder(tmp_path / "new" / "plots").is_dir()


# ------------------------------------------------------------------ read-only folders
@pytest.fixture
def readonly_dir(tmp_path):
    """A folder nobody may write: a read-only tmpfs as root, a 0555 folder otherwise."""
    d = tmp_path / "ro"
    d.mkdir()
    if os.geteuid() == 0:
        r = subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=64k", "tmpfs", str(d)],
                           capture_output=True)
        if r.returncode != 0:
            pytest.skip(f"cannot mount a read-only tmpfs here: {r.stderr.decode().strip()}")
        yield d
        subprocess.run(["umount", "-l", str(d)])
    else:
        d.chmod(0o555)
        yield d
        d.chmod(0o755)


def test_a_read_only_folder_is_refused_before_any_work(readonly_dir):
    with pytest.raises(OutputError) as e:
        check_output(readonly_dir / "x.wav", option="-o")
    assert "cannot write in the folder" in _err(e)
    assert ("read-only" in _err(e)) or ("permission denied" in _err(e))


def test_permission_denied_is_reported(tmp_path, monkeypatch):
    real_open = os.open

    def deny(path, flags, *a, **k):
        if flags & os.O_WRONLY or flags & os.O_RDWR:
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return real_open(path, flags, *a, **k)
    monkeypatch.setattr(os, "open", deny)
    with pytest.raises(OutputError, match="cannot write in the folder .*: permission denied"):
        check_output(tmp_path / "x.wav")


# ----------------------------------------------------------------------- atomic writes
def _fds_into(folder: Path) -> list[str]:
    out = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if target.startswith(str(folder) + "/"):
            out.append(target)
    return out


def test_atomic_file_is_invisible_until_committed(tmp_path):
    target = tmp_path / "x.bin"
    with AtomicFile(target) as af:
        af.open("wb").write(b"abc" * 1000)
        assert os.listdir(tmp_path) == []  # unnamed while it is written
    assert target.read_bytes() == b"abc" * 1000
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~umask
    assert os.listdir(tmp_path) == ["x.bin"]


def test_an_error_leaves_the_old_file_and_no_temporary(tmp_path):
    target = tmp_path / "x.txt"
    target.write_text("old")
    with pytest.raises(RuntimeError):
        with AtomicFile(target) as af:
            af.open("w").write("new, half")
            raise RuntimeError("boom")
    assert target.read_text() == "old"
    assert os.listdir(tmp_path) == ["x.txt"]
    assert _fds_into(tmp_path) == []


def test_interrupted_discards(tmp_path):
    with pytest.raises(KeyboardInterrupt):
        with AtomicFile(tmp_path / "x.txt") as af:
            af.open("w").write("half")
            raise outputs.Interrupted(15)
    assert os.listdir(tmp_path) == []


@pytest.fixture
def named_temps(monkeypatch, tmp_path):
    """Make this folder's file system look like one without unnamed files."""
    monkeypatch.setitem(outputs._UNNAMED_OK, os.stat(tmp_path).st_dev, False)


def test_named_fallback_is_locked_and_removed_on_error(tmp_path, named_temps):
    with pytest.raises(ValueError):
        with AtomicFile(tmp_path / "x.txt") as af:
            names = os.listdir(tmp_path)
            assert len(names) == 1 and outputs._TEMP.match(names[0])
            fd = os.open(tmp_path / names[0], os.O_RDONLY)
            with pytest.raises(BlockingIOError):  # the writer holds the lock
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            os.close(fd)
            assert sweep_leftovers(tmp_path) == []  # a live writer's file is kept
            raise ValueError
    assert os.listdir(tmp_path) == []


def test_named_fallback_commits(tmp_path, named_temps):
    write_text(tmp_path / "a.json", "{}\n")
    assert os.listdir(tmp_path) == ["a.json"]


def test_sweep_removes_what_a_killed_run_left(tmp_path):
    """A run killed with SIGKILL while its named temporary existed: the next check on the
    folder removes it (its lock died with the process); other hidden files stay."""
    code = (
        "import os, signal, sys\n"
        "from resonator import outputs\n"
        "outputs._UNNAMED_OK[os.stat(sys.argv[1]).st_dev] = False\n"
        "af = outputs.AtomicFile(os.path.join(sys.argv[1], 'big.wav'))\n"
        "os.write(af.fd, b'x' * 100000)\n"
        "os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    r = subprocess.run([sys.executable, "-c", code, str(tmp_path)])
    assert r.returncode == -9
    left = os.listdir(tmp_path)
    assert len(left) == 1 and left[0].startswith(".big.wav.resonator-")
    (tmp_path / ".keep.me").write_text("a user's hidden file")
    (tmp_path / ".old.wav.999999999.part").write_text("an older version's temporary")
    check_output(tmp_path / "x.wav")
    assert sorted(os.listdir(tmp_path)) == [".keep.me"]


def test_sigkill_with_unnamed_temporaries_leaves_nothing(tmp_path):
    code = (
        "import os, signal, sys\n"
        "from resonator import outputs\n"
        "af = outputs.AtomicFile(os.path.join(sys.argv[1], 'big.wav'))\n"
        "os.write(af.fd, b'x' * 100000)\n"
        "s = outputs.scratch_file(sys.argv[1]); s.write(b'y' * 100000); s.flush()\n"
        "os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    r = subprocess.run([sys.executable, "-c", code, str(tmp_path)])
    assert r.returncode == -9
    assert os.listdir(tmp_path) == []


def test_scratch_file_has_no_name(tmp_path):
    with scratch_file(tmp_path) as f:
        f.write(b"z" * 10)
        assert os.listdir(tmp_path) == []


def test_write_text_dash_goes_to_stdout(capsys):
    write_text("-", "hello\n")
    assert capsys.readouterr().out == "hello\n"


def test_save_figure_refuses_unknown_formats_and_writes_png(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig = plt.figure(figsize=(1, 1))
    with pytest.raises(OutputError, match="not a picture format"):
        save_figure(fig, tmp_path / "x.gif")
    save_figure(fig, tmp_path / "x.png")
    plt.close(fig)
    assert (tmp_path / "x.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert os.listdir(tmp_path) == ["x.png"]


# ------------------------------------------------------------------------- full disks
def test_free_space_check(tmp_path, monkeypatch):
    class St:
        f_bavail, f_frsize = 10, 4096
    monkeypatch.setattr(os, "statvfs", lambda p: St())
    with pytest.raises(OutputError, match=r"needs 10.0 MB but only 41.0 kB is free"):
        check_free_space(tmp_path, 10_000_000, "-o x.wav")
    check_free_space(tmp_path, 0, "-o x.wav", reserve=0)


def test_a_write_fault_is_one_line_and_leaves_nothing(tmp_path):
    """A size-limited process (RLIMIT_FSIZE): writes past the limit fail with EFBIG; the
    message names the file, the old file stays, no temporary remains."""
    (tmp_path / "x.txt").write_text("old")
    code = (
        "import resource, signal, sys\n"
        "signal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n"
        "resource.setrlimit(resource.RLIMIT_FSIZE, (50000, 50000))\n"
        "from resonator.outputs import write_text, OutputError\n"
        "try:\n"
        "    write_text(sys.argv[1], 'z' * 200000)\n"
        "except OutputError as e:\n"
        "    print(e)\n"
    )
    r = subprocess.run([sys.executable, "-c", code, str(tmp_path / "x.txt")],
                       capture_output=True, text=True)
    assert r.stdout.strip() == f"{tmp_path / 'x.txt'}: could not be written (File too large); " \
                               "nothing was written"
    assert os.listdir(tmp_path) == ["x.txt"]
    assert (tmp_path / "x.txt").read_text() == "old"
