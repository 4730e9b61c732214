"""``DataLoader`` worker processes: seeding, ``get_worker_info``, the fetch loop, the pool.

Each of the ``num_workers`` processes (started by a ``multiprocessing`` context: fork,
spawn or forkserver) gets tasks ``(epoch, send_idx, indices)`` on its own queue, builds and
collates the batch, and sends ``(epoch, send_idx, batch)`` back on one shared result queue,
pickled in the worker so that an unpicklable batch is reported instead of lost. As in
torch, a worker's BLAS calls use one thread (``set_num_threads(1)``).

Seeding follows torch: worker ``w`` of an iterator whose base seed is ``base_seed`` seeds
minidl's default generator and Python's ``random`` with ``base_seed + w``, and NumPy's
global ``RandomState`` with a ``SeedSequence`` of ``(base_seed, w)`` (torch hashes the same
pair; the streams differ from torch's). A worker leaves when it reads ``None``, when the
pool's ``done`` event is set (remaining tasks are skipped), or when its parent has gone.
"""
import dataclasses
import os
import pickle
import queue
import random
import time
import traceback

import numpy as np

from ...backend.random import manual_seed
from ...backend.threads import set_num_threads

__all__ = ["WorkerInfo", "get_worker_info", "WorkerPool"]

POLL_INTERVAL = 1.0   # seconds between liveness checks while waiting on a queue
JOIN_TIMEOUT = 5.0    # seconds the workers get to leave before they are terminated

_info = None


@dataclasses.dataclass(frozen=True)
class WorkerInfo:
    """What ``get_worker_info()`` returns inside a worker: id, num_workers, seed, dataset
    (the worker's own copy)."""

    id: int
    num_workers: int
    seed: int
    dataset: object


def get_worker_info():
    """This worker process's ``WorkerInfo``, or None in the main process."""
    return _info


class KeyErrorMessage(str):
    """A message that KeyError prints as is, not as the repr of a dict key."""

    def __repr__(self):
        return self


class WorkerFailure:
    """An exception raised in worker ``worker_id``, re-raised in the main process with the
    same type (RuntimeError when the type cannot be rebuilt) and the worker's traceback."""

    def __init__(self, worker_id, exc):
        self.worker_id = worker_id
        self.exc_type = type(exc)
        try:
            pickle.dumps(self.exc_type)
        except Exception:  # a local class: the main process could not unpickle it
            self.exc_type = None
        self.name = type(exc).__name__
        self.trace = "".join(traceback.format_exception(exc))

    def reraise(self):
        msg = (f"Caught {self.name} in DataLoader worker process {self.worker_id}.\n"
               f"Original {self.trace}")
        if self.exc_type is KeyError:
            msg = KeyErrorMessage(msg)
        try:
            exc = self.exc_type(msg)
        except Exception:  # no type, or one whose constructor wants other arguments
            raise RuntimeError(msg) from None
        raise exc


@dataclasses.dataclass(frozen=True)
class WorkerEnded:
    """Worker ``worker_id``'s copy of an iterable dataset is exhausted."""

    worker_id: int


def _seed(base_seed, worker_id):
    seed = base_seed + worker_id
    random.seed(seed)
    manual_seed(seed)
    np.random.seed(np.random.SeedSequence(base_seed, spawn_key=(worker_id,)).generate_state(4))
    return seed


def _send(results, worker_id, message):
    try:
        payload = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception as e:  # the batch cannot travel: report that instead
        epoch, idx, _ = message
        error = RuntimeError(f"the batch could not be pickled to send it to the main process: "
                             f"{type(e).__name__}: {e}")
        error.__cause__ = e
        payload = pickle.dumps((epoch, idx, WorkerFailure(worker_id, error)))
    results.put(payload)


def worker_loop(fetcher, worker_id, num_workers, base_seed, init_fn, tasks, results, done):
    """The body of one worker process (see the module docstring)."""
    global _info
    parent = os.getppid()
    try:
        set_num_threads(1)  # as torch: the workers share the CPUs, one BLAS thread each
        _info = WorkerInfo(worker_id, num_workers, _seed(base_seed, worker_id), fetcher.dataset)
        init_failure = None
        if init_fn is not None:
            try:
                init_fn(worker_id)
            except Exception as e:  # reported for every task: this worker cannot work
                init_failure = WorkerFailure(worker_id, e)
        epoch, ended, fresh = None, False, True
        while True:
            try:
                task = tasks.get(timeout=POLL_INTERVAL)
            except queue.Empty:
                if os.getppid() != parent:
                    break  # the main process died: do not outlive it
                continue
            if task is None:
                break
            if done.is_set():
                continue  # shutting down: skip what is queued, wait for None
            task_epoch, idx, index = task
            if task_epoch != epoch:  # a new epoch: an iterable dataset starts again
                epoch, ended, fresh = task_epoch, False, True
            if ended:
                continue  # the main process skips this worker's remaining tasks
            if init_failure is not None:
                data = init_failure
            else:
                try:
                    if fresh:
                        fetcher.reset()
                        fresh = False
                    data = fetcher.fetch(index)
                except StopIteration as e:
                    data = WorkerEnded(worker_id) if fetcher.iterable else \
                        WorkerFailure(worker_id, e)
                    ended = fetcher.iterable
                except Exception as e:
                    data = WorkerFailure(worker_id, e)
            _send(results, worker_id, (task_epoch, idx, data))
            del data
    except KeyboardInterrupt:
        pass  # Ctrl-C reaches the main process too, which shuts the workers down
    results.cancel_join_thread()  # leave even if the main process reads nothing more


class WorkerPool:
    """``num_workers`` processes of one ``multiprocessing`` context, each with its own task
    queue, sharing one result queue."""

    def __init__(self, context, fetcher, num_workers, base_seed, init_fn):
        self.num_workers = num_workers
        self.results = context.Queue()
        self.done = context.Event()
        self.task_queues, self.workers = [], []
        for w in range(num_workers):
            tasks = context.Queue()
            tasks.cancel_join_thread()  # the main process never waits to flush tasks
            process = context.Process(
                target=worker_loop, name=f"minidl-data-worker-{w}", daemon=True,
                args=(fetcher, w, num_workers, base_seed, init_fn, tasks, self.results,
                      self.done))
            process.start()
            self.task_queues.append(tasks)
            self.workers.append(process)
        self.closed = False

    @property
    def pids(self):
        return [w.pid for w in self.workers]

    def put(self, worker_id, task):
        self.task_queues[worker_id].put(task)

    def get(self, timeout=None):
        """The next ``(epoch, send_idx, data)``; raises queue.Empty after ``timeout``
        seconds, and RuntimeError if a worker has exited."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            wait = POLL_INTERVAL if deadline is None else \
                max(0.0, min(POLL_INTERVAL, deadline - time.monotonic()))
            try:
                return pickle.loads(self.results.get(timeout=wait))
            except queue.Empty:
                dead = [(w, p) for w, p in enumerate(self.workers) if p.exitcode is not None]
                if dead:
                    self.shutdown()
                    raise RuntimeError(
                        f"DataLoader worker (pid(s) {', '.join(str(p.pid) for _, p in dead)}) "
                        f"exited unexpectedly: " + ", ".join(
                            f"worker {w} with exit code {p.exitcode}" for w, p in dead)) from None
                if deadline is not None and time.monotonic() >= deadline:
                    raise

    def shutdown(self):
        """Stop every worker: skip queued tasks, ask them to leave, terminate stragglers."""
        if self.closed:
            return
        self.closed = True
        self.done.set()
        for tasks in self.task_queues:
            tasks.put(None)
        deadline = time.monotonic() + JOIN_TIMEOUT
        for process in self.workers:
            process.join(max(0.0, deadline - time.monotonic()))
        for process in self.workers:
            if process.is_alive():
                process.terminate()
                process.join()
        for q in (*self.task_queues, self.results):
            q.cancel_join_thread()
            q.close()
