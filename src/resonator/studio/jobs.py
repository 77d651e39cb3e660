"""Long work of the studio (render, check) on worker threads, with progress and cancelling.

The server's event loop never waits for a job: it starts one, answers at once, and the page
polls :meth:`Job.as_dict`. At most ``max_running`` jobs run at a time; more are refused
(:class:`Busy`), so a page cannot queue unbounded work.
"""
from __future__ import annotations

import secrets
import threading
import time
import traceback
from typing import Callable

from ..errors import ResonatorError


def os_message(exc: OSError) -> str:
    """A failed read or write as one line: the file and the system's reason."""
    what = f"{exc.filename}: " if exc.filename else ""
    return f"{what}{exc.strerror or exc}"


class Busy(ResonatorError):
    """Too many jobs running: wait for one to finish (or cancel it)."""


class Cancelled(Exception):
    """Raised inside a job's progress callback once the job was cancelled."""


class Job:
    """One render or check: its state and progress, read by the page while it runs.

    Attributes
    ----------
    id : str
    kind : str
        "render" or "check".
    state : str
        "running", "done", "failed" or "cancelled".
    stage : str
        What is happening ("measuring", "rendering", "checking").
    done, total : int
        Progress of the stage (frames).
    result : dict or None
        What the job returned (state "done").
    error : str or None
        The one-line message (state "failed").
    """

    def __init__(self, kind: str, label: str = ""):
        self.id = secrets.token_hex(8)
        self.kind = kind
        self.label = label
        self.state = "running"
        self.stage = "starting"
        self.done = 0
        self.total = 0
        self.result = None
        self.error = None
        self.started = time.time()
        self.finished = None
        self.cancel_event = threading.Event()
        self.thread: threading.Thread | None = None

    def progress(self, stage: str, done: int, total: int) -> None:
        """Record progress; raises :class:`Cancelled` once the job was cancelled."""
        if self.cancel_event.is_set():
            raise Cancelled()
        self.stage, self.done, self.total = stage, int(done), int(total)

    def callback(self, stage: str) -> Callable[[int, int], None]:
        """A ``progress(done, total)`` callback for one stage."""
        self.progress(stage, 0, 0)
        return lambda done, total: self.progress(stage, done, total)

    def as_dict(self) -> dict:
        frac = self.done / self.total if self.total else 0.0
        return {"id": self.id, "kind": self.kind, "label": self.label, "state": self.state,
                "stage": self.stage, "fraction": round(min(max(frac, 0.0), 1.0), 4),
                "result": self.result, "error": self.error,
                "elapsed_s": round((self.finished or time.time()) - self.started, 2)}


class Jobs:
    """The running and finished jobs of one studio.

    Parameters
    ----------
    max_running : int >= 1
        Jobs allowed to run at once; :meth:`start` refuses more with :class:`Busy`.
    keep : int
        Finished jobs remembered (oldest dropped first).
    """

    def __init__(self, max_running: int = 1, keep: int = 20):
        self.max_running = int(max_running)
        self.keep = keep
        self.jobs: dict[str, Job] = {}
        self.lock = threading.Lock()

    def running(self) -> list[Job]:
        return [j for j in self.jobs.values() if j.state == "running"]

    def start(self, kind: str, work: Callable[[Job], dict], label: str = "") -> Job:
        """Run ``work(job)`` on a new thread; its return value becomes ``job.result``.

        A :class:`~resonator.errors.ResonatorError` becomes ``job.error`` (its message), any
        other exception a one-line "internal error" (the traceback goes to the server log).
        """
        with self.lock:
            if len(self.running()) >= self.max_running:
                busy = self.running()[0]
                raise Busy(f"a {busy.kind} is running ({busy.label}); wait for it or cancel it")
            job = Job(kind, label)
            self.jobs[job.id] = job
            finished = [j for j in self.jobs.values() if j.state != "running"]
            for old in finished[:max(0, len(finished) - self.keep)]:
                del self.jobs[old.id]

        def run():
            try:
                job.result = work(job)
                job.state = "done"
            except Cancelled:
                job.state = "cancelled"
            except ResonatorError as exc:
                job.error = str(exc)
                job.state = "failed"
            except OSError as exc:  # a read-only folder, a full disk
                job.error = os_message(exc)
                job.state = "failed"
            except Exception as exc:  # noqa: BLE001 - reported to the page, logged in full
                traceback.print_exc()
                job.error = f"internal error: {type(exc).__name__}: {exc}"
                job.state = "failed"
            finally:
                job.finished = time.time()
        job.thread = threading.Thread(target=run, name=f"studio-{kind}-{job.id}", daemon=True)
        job.thread.start()
        return job

    def get(self, job_id: str) -> Job | None:
        return self.jobs.get(job_id)

    def cancel_all(self, wait_s: float = 10.0) -> None:
        """Cancel every running job and wait (up to ``wait_s``) for them to clean up."""
        running = self.running()
        for j in running:
            j.cancel_event.set()
        deadline = time.monotonic() + wait_s
        for j in running:
            if j.thread is not None:
                j.thread.join(max(0.0, deadline - time.monotonic()))
