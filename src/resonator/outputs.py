"""Output files for every command: checked before any work, written atomically.

Every command that writes a file goes through this module, so the promises hold everywhere:

* **Checked first.** :func:`check_output` refuses, with one line naming the option and the
  path, an output whose folder is missing (or is a file), a folder that cannot be written
  (read-only, no permission), an output that is a folder, an unknown extension, an output that
  is one of the command's inputs (never written over, even with ``--force``) or another output
  of the same run, and an existing file without ``force``. Call it for every output (sidecars
  too) before reading audio or rendering anything.
* **Atomic.** :class:`AtomicFile` (and :func:`atomic_open`, :func:`write_text`,
  :func:`save_figure`) write into a temporary in the target's folder and put it in place with
  one rename when complete. An error, Ctrl-C, ``SIGTERM`` or ``SIGHUP`` (the command line turns
  both into :class:`Interrupted`) removes the temporary; the target is untouched.
* **Nothing left after a kill.** On Linux the temporary is an unnamed file (``O_TMPFILE``): if
  the process is killed (``SIGKILL``, power loss) the system frees it, there is nothing to
  clean. It gets a name only for the instant before the rename. Where unnamed files are not
  available the temporary is a hidden file ``.NAME.resonator-XXXXXXXX.tmp`` held under an
  advisory lock for its whole life; :func:`sweep_leftovers` (run by :func:`check_output` on
  the output's folder) removes such files whose lock is free, i.e. whose writer is dead, and
  the ``.NAME.PID.part`` / ``.NAME.PID.raw`` files of older versions whose process is gone.
* **Faults are one line.** A full disk (``ENOSPC``), a quota, a read-only remount or an I/O
  error while writing becomes :class:`OutputError` naming the file (exit 2), with the
  temporary removed. :func:`check_free_space` refuses up front when the size is known.
* :func:`scratch_file` gives an unnamed temporary file for intermediate data (for example the
  mastering cache) that no run can leave behind.

Example::

    from resonator.outputs import check_output, write_text
    out = check_output(args.output, option="--json", suffixes=(".json",),
                       inputs=[args.recipe], force=args.force)
    ...                                   # the work
    write_text(out, text)                 # atomic
"""
from __future__ import annotations

import errno
import os
import re
import secrets
import stat
from pathlib import Path
from typing import IO, Iterable

from .errors import OutputExistsError, ResonatorError

__all__ = [
    "OutputError",
    "Interrupted",
    "check_output",
    "check_free_space",
    "AtomicFile",
    "atomic_open",
    "write_text",
    "save_figure",
    "scratch_file",
    "sweep_leftovers",
    "check_output_folder",
    "echo",
    "silence_stdout",
    "FIGURE_SUFFIXES",
]

#: extensions :func:`save_figure` writes (matplotlib's Agg, PDF and SVG backends)
FIGURE_SUFFIXES = (".png", ".svg", ".pdf")

#: errno values that mean "the write failed" (not "the input was wrong")
_WRITE_FAULTS = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EIO, errno.EROFS, errno.EACCES,
                 errno.EPERM}
_TEMP = re.compile(r"^\.(?P<name>.+)\.resonator-[0-9a-f]{8,}\.tmp$")
_OLD_TEMP = re.compile(r"^\.(?P<name>.+)\.(?P<pid>\d+)\.(?:part|raw)$")


class OutputError(ResonatorError):
    """An output path that cannot be written, or a write that failed (exit 2)."""


class Interrupted(KeyboardInterrupt):
    """Raised in the main thread by ``SIGINT``, ``SIGTERM`` or ``SIGHUP`` (see
    :func:`resonator.cli.main`); a KeyboardInterrupt, so every cleanup for Ctrl-C runs.

    Attributes
    ----------
    signum : int
        The signal number; the command line exits with ``128 + signum``.
    """

    def __init__(self, signum: int):
        import signal

        self.signum = int(signum)
        try:
            self.signame = signal.Signals(signum).name
        except ValueError:  # pragma: no cover
            self.signame = f"signal {signum}"
        super().__init__(self.signame)


# --------------------------------------------------------------------------- checking
def _label(path, option: str | None) -> str:
    return f"{option} {path}" if option else str(path)


def check_output(path, *, option: str | None = None, suffixes: Iterable[str] | None = None,
                 inputs: Iterable = (), others: Iterable = (), force: bool = False,
                 make_parents: bool = False) -> Path:
    """Check that a file can be written at ``path``, before any work is done.

    Parameters
    ----------
    path : str or os.PathLike
        The output file.
    option : str, optional
        The option or role that named it (``"-o"``, ``"--json"``, ``"sidecar"``): every
        message starts with it.
    suffixes : iterable of str, optional
        Allowed extensions with their dot (``(".wav", ".flac")``), case-insensitive; None
        allows any.
    inputs : iterable of paths
        Files the command reads: the output must be none of them (also through links),
        whatever ``force`` says.
    others : iterable of paths
        Other outputs of the same run: the output must differ from each.
    force : bool
        Allow replacing an existing regular file (never a folder, a device, pipe or socket,
        never an input).
    make_parents : bool
        A missing folder is created (used for default output folders such as ``renders/``);
        a path component that is a file is still refused.

    Returns
    -------
    Path
        ``path`` as a Path.

    Raises
    ------
    OutputError
        The path cannot be written (the message says why and what to do).
    OutputExistsError
        The file exists and ``force`` is false.
    """
    raw = os.fspath(path)
    label = _label(raw, option)
    if not raw or raw.endswith(os.sep) or raw.endswith("/"):
        raise OutputError("is not a file name (it is empty or ends with a slash)", label)
    if "\x00" in raw:
        raise OutputError("contains a NUL character", label)
    p = Path(raw)
    if suffixes is not None:
        allowed = tuple(s.lower() for s in suffixes)
        if p.suffix.lower() not in allowed:
            from .units import did_you_mean

            did = did_you_mean(p.suffix.lower(), allowed)
            got = f"the extension '{p.suffix}' is not supported" if p.suffix else \
                "has no extension"
            raise OutputError(f"{got}{did}; allowed: {', '.join(allowed)}", label)
    try:
        st = os.stat(p)
    except FileNotFoundError:
        st = None
    except NotADirectoryError:
        st = None  # reported below with the component that is a file
    except OSError as exc:
        raise OutputError(f"cannot be examined ({exc.strerror})", label) from None
    if st is not None and stat.S_ISDIR(st.st_mode):
        raise OutputError("is a folder, not a file: choose another name", label)
    for q in list(inputs):
        if q is None or str(q) == "-":
            continue
        if _same_file(p, Path(q)):
            raise OutputError(f"is also an input ({q}): resonator never writes over its "
                              "inputs, choose another output name", label)
    for q in list(others):
        if q is not None and str(q) != "-" and _same_file(p, Path(q)):
            raise OutputError(f"is also another output of this run ({q}): give each output "
                              "its own name", label)
    folder = p.parent if str(p.parent) else Path(".")
    _check_folder(folder, label, make_parents)
    if st is not None and not stat.S_ISREG(st.st_mode):
        # a device, FIFO or socket (/dev/null, a named pipe): an atomic write renames a new
        # file over the name, which would destroy the node itself, so not even with --force
        raise OutputError("is a device, pipe or socket, not a file: resonator writes a new "
                          "file and renames it into place, which would replace it; choose a "
                          "file name", label)
    if st is not None and not force:
        raise OutputExistsError("exists already; pass --force to overwrite it", label)
    sweep_leftovers(folder)
    return p


def check_output_folder(path, *, option: str | None = None, create: bool = True) -> Path:
    """Check (and with ``create`` make) a folder that will receive output files, before any
    work: refused when it or a component on the way is a file, when it cannot be written, or
    when it is missing and ``create`` is false."""
    raw = os.fspath(path)
    label = _label(raw, option)
    if not raw or "\x00" in raw:
        raise OutputError("is not a folder name", label)
    p = Path(raw)
    if p.exists() and not p.is_dir():
        raise OutputError("is a file, not a folder: give a folder for the output files", label)
    _check_folder(p, label, create)
    sweep_leftovers(p)
    return p


class new_folders:
    """Folders a run creates for its outputs are removed again (when still empty) if the run
    fails: a render refused after its default ``renders/`` folder was made leaves no empty
    folder behind.

    Use around the checks that may create them and the work::

        with new_folders(out.parent):
            check_output(out, make_parents=True)
            ...  # the work; on any exception the folders made above go again
    """

    def __init__(self, *folders):
        self.missing: list[Path] = []
        for f in folders:
            p = Path(os.fspath(f)) if os.fspath(f) else Path(".")
            while not p.exists() and p != p.parent:
                if p not in self.missing:
                    self.missing.append(p)
                p = p.parent
        self.missing.sort(key=lambda q: len(q.parts), reverse=True)  # deepest first

    def __enter__(self) -> "new_folders":
        return self

    def __exit__(self, kind, exc, tb) -> None:
        if kind is None:
            return
        for p in self.missing:
            try:
                os.rmdir(p)
            except OSError:
                pass  # not empty, never made, or already gone: keep it


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        pass
    try:
        return a.resolve() == b.resolve()
    except (OSError, RuntimeError):  # pragma: no cover - symlink loops
        return False


def _check_folder(folder: Path, label: str, make_parents: bool) -> None:
    # the deepest existing ancestor, and whether a component on the way is a file
    probe = folder
    missing = []
    while True:
        try:
            st = os.stat(probe)
            break
        except (FileNotFoundError, NotADirectoryError):
            missing.append(probe)
            if probe == probe.parent:
                raise OutputError(f"its folder {folder} cannot be found", label) from None
            probe = probe.parent
        except OSError as exc:
            raise OutputError(f"its folder {probe} cannot be examined ({exc.strerror})",
                              label) from None
    if not stat.S_ISDIR(st.st_mode):
        raise OutputError(f"{probe} is a file, not a folder: the output cannot go under it",
                          label)
    if missing:
        if not make_parents:
            raise OutputError(f"the folder {folder} does not exist: create it first "
                              f"(mkdir -p {folder})", label)
        _check_writable(probe, label)
        try:
            os.makedirs(folder, exist_ok=True)
        except OSError as exc:
            raise OutputError(f"cannot create the folder {folder} ({exc.strerror})",
                              label) from None
        return
    _check_writable(folder, label)


def _check_writable(folder: Path, label: str) -> None:
    """Try what the write will do: create a temporary in ``folder`` (nothing remains)."""
    try:
        fd, named = _open_temp(folder, "probe")
    except OSError as exc:
        why = {errno.EROFS: "it is on a read-only file system",
               errno.EACCES: "permission denied", errno.EPERM: "permission denied",
               errno.ENOSPC: "the disk is full", errno.EDQUOT: "the disk quota is used up"}
        raise OutputError(f"cannot write in the folder {folder}: "
                          f"{why.get(exc.errno, exc.strerror)}", label) from None
    os.close(fd)
    if named is not None:
        _unlink(named)


def check_free_space(folder, nbytes: int, label: str, *, reserve: int = 1 << 20) -> None:
    """Refuse (OutputError) when ``folder``'s file system has less than ``nbytes`` (plus a
    small reserve) free: the size of a WAV is known before it is rendered."""
    try:
        st = os.statvfs(folder)
    except OSError:
        return
    free = st.f_bavail * st.f_frsize
    if nbytes + reserve > free:
        raise OutputError(f"needs {_size(nbytes)} but only {_size(free)} is free on that "
                          "disk: free some space or write elsewhere", label)


def _size(n: float) -> str:
    for unit in ("bytes", "kB", "MB", "GB", "TB"):
        if abs(n) < 1000 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1000.0
    return ""  # pragma: no cover


# --------------------------------------------------------------------------- temporaries
_LINKAT = None  # libc linkat, loaded on first use


def _linkat_proc(fd: int, dest: str) -> None:
    """Give the unnamed file ``fd`` the name ``dest`` (linkat through /proc/self/fd, which
    needs no privilege)."""
    global _LINKAT
    if _LINKAT is None:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        _LINKAT = (libc.linkat, ctypes)
    linkat, ctypes = _LINKAT
    AT_FDCWD, AT_SYMLINK_FOLLOW = -100, 0x400
    if linkat(AT_FDCWD, f"/proc/self/fd/{fd}".encode(), AT_FDCWD, os.fsencode(dest),
              AT_SYMLINK_FOLLOW) != 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e), dest)


_UNNAMED_OK: dict[int, bool] = {}  # per device: unnamed files can be created and linked


def _unnamed_works(folder: Path) -> bool:
    try:
        dev = os.stat(folder).st_dev
    except OSError:
        return False
    if dev in _UNNAMED_OK:
        return _UNNAMED_OK[dev]
    ok = False
    if hasattr(os, "O_TMPFILE") and os.path.exists("/proc/self/fd"):
        try:
            fd = os.open(folder, os.O_TMPFILE | os.O_RDWR | os.O_CLOEXEC, 0o600)
        except OSError:
            fd = None
        if fd is not None:
            name = folder / f".probe.resonator-{secrets.token_hex(4)}.tmp"
            try:
                _linkat_proc(fd, str(name))
                _unlink(name)
                ok = True
            except OSError:
                ok = False
            finally:
                os.close(fd)
    _UNNAMED_OK[dev] = ok
    return ok


def _temp_name(folder: Path, name: str) -> Path:
    return folder / f".{name}.resonator-{secrets.token_hex(4)}.tmp"


def _open_temp(folder: Path, name: str) -> tuple[int, Path | None]:
    """(fd, None) for an unnamed file in ``folder``, else (fd, path) of a hidden named one
    held under an exclusive lock (see :func:`sweep_leftovers`)."""
    import fcntl

    if _unnamed_works(folder):
        try:
            return os.open(folder, os.O_TMPFILE | os.O_RDWR | os.O_CLOEXEC, 0o666), None
        except OSError as exc:
            if exc.errno not in (errno.EOPNOTSUPP, errno.EISDIR, errno.EINVAL):
                raise
    path = _temp_name(folder, name)
    fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_RDWR | os.O_CLOEXEC, 0o666)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        pass  # no locks on this file system: the file is still removed on every error path
    return fd, path


def _unlink(path) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def sweep_leftovers(folder) -> list[Path]:
    """Remove the temporaries that killed runs left in ``folder``; return what was removed.

    Only files this module names are touched: ``.NAME.resonator-XXXXXXXX.tmp`` whose lock is
    free (the writer holds it until it renames or removes the file, and the system releases
    it when the writer dies), and ``.NAME.PID.part`` / ``.NAME.PID.raw`` of older versions
    whose process ``PID`` no longer runs.
    """
    import fcntl

    removed = []
    try:
        entries = os.listdir(folder)
    except OSError:
        return removed
    for entry in entries:
        if not entry.startswith("."):
            continue
        path = Path(folder) / entry
        m = _TEMP.match(entry)
        if m:
            try:
                fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC | os.O_NOFOLLOW)
            except OSError:
                continue
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                continue  # a live writer holds it
            finally:
                os.close(fd)
            _unlink(path)
            removed.append(path)
            continue
        m = _OLD_TEMP.match(entry)
        if m and not _alive(int(m.group("pid"))):
            _unlink(path)
            removed.append(path)
    return removed


def _alive(pid: int) -> bool:
    if pid <= 0:
        return False
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


def punch_hole(fd: int, offset: int, length: int) -> bool:
    """Free a file's bytes ``[offset, offset + length)`` (Linux ``fallocate(2)`` with
    ``FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE``: they read as zeros, the size stays; their
    page-cache pages go without ever being written to the disk). Returns False, having done
    nothing, where the system or file system cannot."""
    global _FALLOCATE
    if _FALLOCATE is None:
        _FALLOCATE = False
        import sys

        if sys.platform.startswith("linux"):
            try:
                import ctypes

                fn = ctypes.CDLL(None, use_errno=True).fallocate
                fn.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int64, ctypes.c_int64]
                _FALLOCATE = fn
            except (OSError, AttributeError):
                pass
    if not _FALLOCATE or length <= 0:
        return False
    return _FALLOCATE(fd, 3, offset, length) == 0


_FALLOCATE = None


def scratch_file(folder) -> IO[bytes]:
    """An unnamed read-write binary file in ``folder`` that the system frees when it is
    closed or the process ends, however it ends (``tempfile.TemporaryFile``: ``O_TMPFILE``,
    or created and unlinked at once)."""
    import tempfile

    return tempfile.TemporaryFile(dir=folder)


# --------------------------------------------------------------------------- writing
def _write_fault(exc: BaseException) -> bool:
    return isinstance(exc, OSError) and exc.errno in _WRITE_FAULTS


class AtomicFile:
    """A temporary in the target's folder that becomes the target on :meth:`commit`.

    Use it as a context manager: leaving the block normally commits, an exception (including
    :class:`Interrupted`) discards. Write through :attr:`fd` (for writers that take a file
    descriptor, such as ``soundfile.SoundFile(fd, closefd=False)``) or :meth:`open`.

    Parameters
    ----------
    path : str or os.PathLike
        The target, already checked with :func:`check_output`.
    label : str, optional
        How messages name the target (default: the path).
    durable : bool
        ``fsync`` the data and the folder around the rename, so a power loss leaves either
        the old file or the complete new one.

    Raises
    ------
    OutputError
        When the temporary cannot be created, or a write or the commit fails with a disk
        fault (full, quota, read-only, I/O error): the temporary is removed first.
    """

    def __init__(self, path, *, label: str | None = None, durable: bool = True):
        self.path = Path(path)
        self.label = label or str(self.path)
        self.durable = durable
        self.folder = self.path.parent if str(self.path.parent) else Path(".")
        try:
            self.fd, self._named = _open_temp(self.folder, self.path.name)
        except OSError as exc:
            raise OutputError(f"cannot create a file in {self.folder} ({exc.strerror})",
                              self.label) from None
        self._files: list = []
        self.done = False

    def open(self, mode: str = "wb", **kw) -> IO:
        """A file object on the temporary (not closing :attr:`fd`); ``mode`` is ``"wb"``,
        ``"w"`` (text; pass ``encoding``, ``newline``) or ``"w+b"``."""
        f = open(self.fd, mode, closefd=False, **kw)
        self._files.append(f)
        return f

    def commit(self) -> Path:
        """Flush, put the temporary in place of the target (one rename), return the target."""
        if self.done:
            return self.path
        try:
            for f in self._files:
                if not f.closed:
                    f.flush()
            if self.durable:
                os.fsync(self.fd)
            if self._named is None:
                import fcntl

                named = _temp_name(self.folder, self.path.name)
                try:
                    fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except OSError:
                    pass
                _linkat_proc(self.fd, str(named))
                self._named = named
            os.replace(self._named, self.path)
            self._named = None
            if self.durable:
                _fsync_dir(self.folder)
        except OSError as exc:
            self.discard()
            if _write_fault(exc):
                raise OutputError(_fault_text(exc, self.folder), self.label) from None
            raise OutputError(f"could not be put in place ({exc.strerror})",
                              self.label) from None
        finally:
            self._close()
        self.done = True
        return self.path

    def discard(self) -> None:
        """Remove the temporary (the target is untouched)."""
        if self._named is not None:
            _unlink(self._named)
            self._named = None
        self._close()
        self.done = True

    def _close(self) -> None:
        for f in self._files:
            try:
                f.close()
            except OSError:
                pass
        self._files = []
        if self.fd >= 0:
            try:
                os.close(self.fd)
            except OSError:
                pass
            self.fd = -1

    def __enter__(self) -> "AtomicFile":
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            self.commit()
            return False
        self.discard()
        if exc is not None and _write_fault(exc):
            raise OutputError(_fault_text(exc, self.folder), self.label) from None
        return False

    def __del__(self):  # a forgotten AtomicFile never leaves a named temporary behind
        if not getattr(self, "done", True):
            try:
                self.discard()
            except Exception:  # pragma: no cover
                pass


def _fault_text(exc: OSError, folder) -> str:
    if exc.errno == errno.ENOSPC:
        return "could not be written: no space left on the disk; nothing was written"
    if exc.errno == errno.EDQUOT:
        return "could not be written: the disk quota is used up; nothing was written"
    return f"could not be written ({exc.strerror}); nothing was written"


def disk_full(folder) -> bool:
    """True when ``folder``'s file system has (almost) no space left: used to explain a
    library's generic write error (libsndfile says only "System error")."""
    try:
        st = os.statvfs(folder)
    except OSError:
        return False
    return st.f_bavail * st.f_frsize < (1 << 16)


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


class atomic_open:
    """``with atomic_open(path, "w") as f:`` writes a text (``"w"``) or binary (``"wb"``)
    file atomically (see :class:`AtomicFile`); keyword arguments go to :func:`open`."""

    def __init__(self, path, mode: str = "w", *, label: str | None = None, **kw):
        if mode not in ("w", "wb"):
            raise ValueError("mode must be 'w' or 'wb'")
        if mode == "w":
            kw.setdefault("encoding", "utf-8")
        self._atomic = AtomicFile(path, label=label)
        self._mode, self._kw = mode, kw

    def __enter__(self) -> IO:
        return self._atomic.open(self._mode, **self._kw)

    def __exit__(self, exc_type, exc, tb):
        return self._atomic.__exit__(exc_type, exc, tb)


def write_text(path, text: str, *, label: str | None = None, newline: str | None = None) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically; ``"-"`` writes to standard output."""
    if str(path) == "-":
        echo(text, end="")
        return Path("-")
    with atomic_open(path, "w", label=label, newline=newline) as f:
        f.write(text)
    return Path(path)


def save_figure(fig, path, *, label: str | None = None, **kw) -> Path:
    """``fig.savefig`` into ``path`` atomically; the format follows the extension
    (:data:`FIGURE_SUFFIXES`)."""
    path = Path(path)
    fmt = path.suffix.lower().lstrip(".")
    if "." + fmt not in FIGURE_SUFFIXES:
        raise OutputError(f"the extension '{path.suffix}' is not a picture format: use "
                          f"{', '.join(FIGURE_SUFFIXES)}", label or str(path))
    with atomic_open(path, "wb", label=label) as f:
        fig.savefig(f, format=fmt, **kw)
    return path


_GONE_STREAM = None  # the standard output whose reader went away


def echo(text: str = "", *, end: str = "\n") -> bool:
    """Print ``text`` on standard output; when the reader has gone (``resonator plan x | head``)
    stop printing quietly and return False, so the command still finishes its files."""
    global _GONE_STREAM
    import sys

    out = sys.stdout
    if out is _GONE_STREAM:
        return False
    try:
        out.write(text + end)
        out.flush()
        return True
    except BrokenPipeError:
        _GONE_STREAM = out
        silence_stdout()
        return False


def silence_stdout() -> None:
    """Point standard output at /dev/null once its reader has gone, so later prints and the
    interpreter's last flush do not fail again."""
    import sys

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):  # stdout replaced (tests) or closed
        pass
