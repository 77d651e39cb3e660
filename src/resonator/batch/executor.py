"""Where batch work runs: this process, worker processes on this machine, or a Dask cluster.

The engine is Dask distributed (``distributed.LocalCluster`` for the machine's cores, or a
scheduler reached by address). Nothing here schedules, queues or retries by itself: Dask's
scheduler balances the work, moves the tasks of a worker that died to the others and gives
up on a task that killed ``distributed.scheduler.allowed-failures`` workers (3 by default).

Work units are small: a task gets paths and options, reads and writes files on storage every
worker sees, and returns a small record. At most ``window`` tasks are submitted at a time, so
the client, the scheduler and the workers hold a bounded amount of state however long the
list of work is.

``jobs=1`` without a cluster runs the tasks one after another in this process (no worker
processes to start: the cheapest way to run a few files, and what tests of the task functions
use). ``distributed`` is imported only when worker processes or a cluster are asked for.
"""
from __future__ import annotations

import os
from contextlib import contextmanager
from typing import Any, Callable, Iterable, Iterator

from ..errors import ResonatorError

__all__ = ["Executor", "TaskFailed", "default_jobs", "open_executor"]


class TaskFailed(Exception):
    """A task that did not return: its worker died too often, or it could not run there."""


def default_jobs() -> int:
    """The machine's cores usable by this process (``os.sched_getaffinity`` where it exists)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - macOS, Windows
        return max(1, os.cpu_count() or 1)


def _probe(paths: list[str]) -> dict:
    """Run on a worker: its resonator version and which of ``paths`` it can see."""
    from .. import __version__

    return {"version": __version__, "missing": [p for p in paths if not os.path.exists(p)]}


@contextmanager
def _workers_ignore_ctrl_c():
    """Start worker processes with SIGINT ignored (an ignored signal stays ignored across
    exec, and Python then installs no handler): Ctrl-C reaches the whole process group, but
    only this process should act on it, by closing the cluster, without a traceback from
    every worker."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    old = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, old)


def _spawn_workers(cluster, n: int, timeout_s: float = 60.0) -> None:
    """Ask ``cluster`` for ``n`` worker processes and return once they exist (spawned, not
    yet started: milliseconds), so the window in which Ctrl-C is ignored is short: a Ctrl-C
    while they start up (seconds) interrupts the command instead of being lost."""
    import multiprocessing
    import time

    before = {p.pid for p in multiprocessing.active_children()}
    cluster.scale(n)
    deadline = time.monotonic() + timeout_s
    while (len({p.pid for p in multiprocessing.active_children()} - before) < n
           and time.monotonic() < deadline):
        time.sleep(0.005)


def _wait_for_workers(cluster, n: int, timeout_s: float = 120.0) -> None:
    """Wait until ``n`` workers have joined ``cluster``, in plain sleeps (a Ctrl-C lands
    here, not inside one of Dask's own waits, which leaves a warning behind)."""
    import time

    deadline = time.monotonic() + timeout_s
    while len(cluster.scheduler_info.get("workers", {})) < n and time.monotonic() < deadline:
        time.sleep(0.02)


class Executor:
    """Runs task functions over many work items; a context manager.

    Parameters
    ----------
    jobs : int >= 1, optional
        Worker processes on this machine (default: the machine's cores). ``1`` without
        ``cluster`` runs in this process.
    cluster : str, optional
        Address of a running Dask scheduler (``tcp://host:8786`` or ``host:8786``), started
        with ``dask scheduler`` and given workers with ``dask worker ADDRESS`` on machines that
        have resonator installed and see the same files at the same paths. ``jobs`` is then
        ignored: the cluster's workers do the work.
    memory_limit : str or int, optional
        Per local worker process (Dask's form: ``"2GB"``, bytes, ``"auto"`` = the machine's
        memory shared between the workers). Dask restarts a worker that passes 95 % of it and
        its task goes to another worker.
    check_paths : list of str
        Paths the cluster's workers must see (checked on one worker before any work).
    connect_timeout_s : float > 0
        How long to try reaching the cluster's scheduler.

    Examples
    --------
    >>> with Executor(jobs=2) as ex:                                # doctest: +SKIP
    ...     for tag, result in ex.map_unordered(len, [("a", ("xy",)), ("b", ("z",))]):
    ...         print(tag, result)
    """

    def __init__(self, jobs: int | None = None, cluster: str | None = None, *,
                 memory_limit: str | int = "auto", check_paths: Iterable[str] = (),
                 connect_timeout_s: float = 15.0):
        if jobs is not None and (isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1):
            raise ResonatorError(f"must be a whole number of worker processes >= 1, got {jobs!r}",
                                 "--jobs")
        if cluster is not None and not str(cluster).strip():
            raise ResonatorError("needs the address of a Dask scheduler, such as "
                                 "tcp://10.0.0.5:8786", "--cluster")
        self.cluster = cluster
        self.jobs = default_jobs() if jobs is None else jobs
        self.memory_limit = memory_limit
        self.check_paths = [str(p) for p in check_paths]
        self.connect_timeout_s = connect_timeout_s
        self.client = None
        self._local = None

    # ------------------------------------------------------------------ lifecycle
    @property
    def in_process(self) -> bool:
        """True when tasks run in this process (``jobs=1``, no cluster)."""
        return self.cluster is None and self.jobs == 1

    def __enter__(self) -> "Executor":
        if self.in_process:
            return self
        import logging

        # Dask's own log lines (worker restarts, lost connections) are not for users of a
        # command line; what matters is reported per task
        for name in ("distributed", "tornado"):
            logging.getLogger(name).setLevel(logging.CRITICAL)
        from distributed import Client

        try:
            if self.cluster is None:
                from distributed import LocalCluster

                self._local = LocalCluster(n_workers=0, threads_per_worker=1,
                                           processes=True, host="127.0.0.1",
                                           dashboard_address="127.0.0.1:0",
                                           silence_logs=logging.CRITICAL,
                                           memory_limit=self.memory_limit)
                self.client = Client(self._local)
                with _workers_ignore_ctrl_c():
                    _spawn_workers(self._local, self.jobs)
                _wait_for_workers(self._local, self.jobs)
            else:
                self.client = self._connect(Client)
        except BaseException:
            self.close()
            raise
        return self

    def _connect(self, Client):
        addr = str(self.cluster).strip()
        try:
            client = Client(addr, timeout=f"{self.connect_timeout_s}s")
        except (OSError, TimeoutError, ValueError) as exc:
            raise ResonatorError(f"cannot reach a Dask scheduler at {addr} ({exc}); start one "
                                 "with 'dask scheduler' and its workers with "
                                 "'dask worker ADDRESS'", "--cluster") from None
        try:
            try:
                client.wait_for_workers(1, timeout=30)
            except TimeoutError:
                raise ResonatorError(f"the Dask scheduler at {addr} has no workers (waited "
                                     "30 s); start some with 'dask worker ADDRESS'",
                                     "--cluster") from None
            try:
                info = client.submit(_probe, self.check_paths, pure=False).result(timeout=120)
            except Exception as exc:
                raise ResonatorError(f"the workers of {addr} cannot run resonator "
                                     f"({type(exc).__name__}: {exc}); install resonator where "
                                     "they run", "--cluster") from None
            from .. import __version__

            if info["version"] != __version__:
                raise ResonatorError(f"the workers of {addr} run resonator {info['version']}, "
                                     f"this is {__version__}: install the same version on both "
                                     "sides", "--cluster")
            if info["missing"]:
                raise ResonatorError(f"the workers of {addr} cannot see "
                                     f"{', '.join(info['missing'][:3])}: the files must be on "
                                     "storage every worker sees at the same path", "--cluster")
        except BaseException:
            client.close()
            raise
        return client

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        """Disconnect; stop the local worker processes (a cluster's workers keep running)."""
        if self.client is not None:
            try:
                self.client.close(timeout=10)
            except Exception:  # pragma: no cover - closing what already broke
                pass
            self.client = None
        if self._local is not None:
            try:
                self._local.close(timeout=10)
            except Exception:  # pragma: no cover
                pass
            self._local = None

    @property
    def workers(self) -> int:
        """Worker threads available now (1 in this process)."""
        if self.client is None:
            return 1
        try:
            return max(1, sum(self.client.nthreads().values()))
        except Exception:  # pragma: no cover - scheduler gone
            return 1

    @property
    def describe(self) -> str:
        """Where the work runs, for messages."""
        if self.client is None:
            return "in this process"
        if self._local is not None:
            return f"{self.jobs} local worker process{'es' if self.jobs > 1 else ''}"
        return f"the Dask cluster at {self.cluster} ({self.workers} workers)"

    # ------------------------------------------------------------------ work
    def share(self, value: Any) -> Any:
        """``value`` made available to every task as an argument: sent once to each worker
        (``Client.scatter(broadcast=True)``) instead of once per task."""
        if self.client is None:
            return value
        # in a list: scatter() sends the items of a bare collection one by one
        return self.client.scatter([value], broadcast=True, hash=False)[0]

    def map_unordered(self, fn: Callable, items: Iterable[tuple[Any, tuple]], *,
                      window: int | None = None) -> Iterator[tuple[Any, Any]]:
        """Run ``fn(*args)`` for each ``(tag, args)``; yield ``(tag, result)`` as tasks finish.

        A task that did not return yields ``(tag, TaskFailed(...))`` (task functions are
        expected to catch their own errors and return them as records). Each tag is yielded
        exactly once, also when Dask ran a task again after its worker died.

        Parameters
        ----------
        fn : callable
            An importable module-level function (workers import it by name).
        items : iterable of (tag, args)
            Consumed lazily: at most ``window`` tasks are in flight.
        window : int >= 1, optional
            Default: four tasks per worker thread.
        """
        if self.client is None:
            for tag, args in items:
                yield tag, fn(*args)
            return
        from distributed import as_completed

        window = window or 4 * self.workers
        items = iter(items)
        tags: dict = {}
        running: dict = {}
        pending = as_completed([], with_results=False)

        def submit_next() -> bool:
            for tag, args in items:
                fut = self.client.submit(fn, *args, pure=False)
                tags[fut.key] = tag
                running[fut.key] = fut
                pending.add(fut)
                return True
            return False

        try:
            for _ in range(window):
                if not submit_next():
                    break
            for fut in pending:
                tag = tags.pop(fut.key)
                del running[fut.key]
                try:
                    result = fut.result()
                except Exception as exc:
                    name = type(exc).__name__
                    why = ("its worker died each time it ran it" if name == "KilledWorker"
                           else f"{name}: {exc}")
                    result = TaskFailed(why)
                fut.release()
                yield tag, result
                submit_next()
        finally:  # stopped early (Ctrl-C, an error in the caller): nothing left running
            if running:
                try:
                    self.client.cancel(list(running.values()))
                except Exception:  # pragma: no cover - the scheduler is gone already
                    pass


@contextmanager
def open_executor(executor: Executor | None, jobs: int | None = None, cluster: str | None = None,
                  *, needed: bool = True, check_paths: Iterable[str] = ()):
    """``executor`` itself when given (the caller entered it), else a new :class:`Executor`
    for ``jobs``/``cluster``, entered here and closed at the end; with ``needed`` false (an
    empty work list) no worker is started."""
    if executor is not None:
        yield executor
        return
    ex = Executor(jobs, cluster, check_paths=check_paths)
    if not needed:
        ex = Executor(jobs=1)
    with ex:
        yield ex
