"""``DataLoader``: batches from a dataset, optionally prepared by worker threads.

With ``num_workers > 0`` batches are built by that many worker *threads* (NumPy, image
decoding and file reading release the GIL) that prefetch ``prefetch_factor`` batches each;
batches come back in the sampler's order, exactly the batches ``num_workers=0`` gives.
Iterable datasets are iterated by every worker, as in torch (split them with
``get_worker_info()``), and their batches are interleaved round-robin.
"""
import itertools
import queue
import threading
import warnings

from ...backend import rng
from ._collate import default_collate, default_convert
from .dataset import IterableDataset
from .sampler import BatchSampler, RandomSampler, SequentialSampler

__all__ = ["DataLoader", "get_worker_info", "WorkerInfo"]

_local = threading.local()


class WorkerInfo:
    """What ``get_worker_info()`` returns inside a worker: id, num_workers, seed, dataset."""

    def __init__(self, id, num_workers, seed, dataset):
        self.id, self.num_workers, self.seed, self.dataset = id, num_workers, seed, dataset

    def __repr__(self):
        return f"WorkerInfo(id={self.id}, num_workers={self.num_workers}, seed={self.seed})"


def get_worker_info():
    """Information about the current worker, or None in the main thread."""
    return getattr(_local, "info", None)


class _Fetcher:
    """Turns one task (a list of indices, an index, or 'next batch') into a batch."""

    def __init__(self, loader):
        self.dataset = loader.dataset
        self.collate_fn = loader.collate_fn
        self.auto = loader._auto_collation
        self.batch_size = loader.batch_size
        self.drop_last = loader.drop_last
        self.iterable = isinstance(loader.dataset, IterableDataset)
        self.get_batch = None
        if not self.iterable and self.auto and self.collate_fn is default_collate:
            self.get_batch = getattr(loader.dataset, "_get_batch", None)
        self.getitems = getattr(loader.dataset, "__getitems__", None)
        self.it = None

    def reset(self):
        if self.iterable:
            self.it = iter(self.dataset)

    def fetch(self, index):
        """The batch for ``index``; raises StopIteration when an iterable dataset ends."""
        if self.iterable:
            if not self.auto:
                return self.collate_fn(next(self.it))
            data = list(itertools.islice(self.it, self.batch_size))
            if not data or (self.drop_last and len(data) < self.batch_size):
                raise StopIteration
            return self.collate_fn(data)
        if not self.auto:
            return self.collate_fn(self.dataset[index])
        if self.get_batch is not None:
            return self.get_batch(index)
        if self.getitems is not None:
            return self.collate_fn(self.getitems(index))
        return self.collate_fn([self.dataset[i] for i in index])


class DataLoader:
    """Iterate over ``dataset`` in batches (``torch.utils.data.DataLoader``).

    ``shuffle=True`` draws a new order every epoch from ``generator`` (or from the default
    generator, so ``minidl.manual_seed`` makes it reproducible). ``pin_memory=True`` warns
    and has no effect, as in torch without an accelerator. ``num_workers > 0`` uses worker
    threads (see module doc), so ``multiprocessing_context`` is refused; with
    ``in_order=False`` a batch is handed back as soon as it is ready.
    """

    _frozen = ("batch_size", "batch_sampler", "sampler", "drop_last", "dataset",
               "persistent_workers")

    def __init__(self, dataset, batch_size=1, shuffle=None, sampler=None, batch_sampler=None,
                 num_workers=0, collate_fn=None, pin_memory=False, drop_last=False, timeout=0,
                 worker_init_fn=None, multiprocessing_context=None, generator=None, *,
                 prefetch_factor=None, persistent_workers=False, pin_memory_device="",
                 in_order=True):
        if num_workers < 0:
            raise ValueError("num_workers option should be non-negative; use num_workers=0 to "
                             "disable multiprocessing.")
        if timeout < 0:
            raise ValueError("timeout option should be non-negative")
        if num_workers == 0 and prefetch_factor is not None:
            raise ValueError("prefetch_factor option could only be specified in "
                             "multiprocessing.let num_workers > 0 to enable multiprocessing, "
                             "otherwise set prefetch_factor to None.")
        if num_workers > 0 and prefetch_factor is None:
            prefetch_factor = 2
        if prefetch_factor is not None and prefetch_factor < 0:
            raise ValueError("prefetch_factor option should be non-negative")
        if persistent_workers and num_workers == 0:
            raise ValueError("persistent_workers option needs num_workers > 0")
        if multiprocessing_context is not None:
            raise ValueError(
                f"multiprocessing_context={multiprocessing_context!r} is not supported: "
                f"minidl's DataLoader workers are threads, not processes" if num_workers else
                f"multiprocessing_context can only be used with multi-process loading "
                f"(num_workers > 0), but got num_workers={num_workers}")
        if isinstance(dataset, IterableDataset):
            if shuffle not in (False, None):
                raise ValueError(f"DataLoader with IterableDataset: expected unspecified "
                                 f"shuffle option, but got shuffle={shuffle}")
            if sampler is not None:
                raise ValueError(f"DataLoader with IterableDataset: expected unspecified "
                                 f"sampler option, but got sampler={sampler}")
            if batch_sampler is not None:
                raise ValueError(f"DataLoader with IterableDataset: expected unspecified "
                                 f"batch_sampler option, but got batch_sampler={batch_sampler}")
        shuffle = bool(shuffle)
        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("batch_sampler option is mutually exclusive with batch_size, "
                                 "shuffle, sampler, and drop_last")
            batch_size = None
            drop_last = False
        elif batch_size is None and drop_last:
            raise ValueError("batch_size=None option disables auto-batching and is mutually "
                             "exclusive with drop_last")
        if sampler is None and not isinstance(dataset, IterableDataset):
            sampler = (RandomSampler(dataset, generator=generator) if shuffle
                       else SequentialSampler(dataset))
        if batch_size is not None and batch_sampler is None and \
                not isinstance(dataset, IterableDataset):
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)
        if collate_fn is None:
            collate_fn = default_collate if (batch_size is not None or batch_sampler is not None) \
                else default_convert
        d = self.__dict__
        d.update(dataset=dataset, batch_size=batch_size, drop_last=drop_last, sampler=sampler,
                 batch_sampler=batch_sampler, num_workers=num_workers, collate_fn=collate_fn,
                 pin_memory=pin_memory, timeout=timeout, worker_init_fn=worker_init_fn,
                 multiprocessing_context=multiprocessing_context, generator=generator,
                 prefetch_factor=prefetch_factor, persistent_workers=persistent_workers,
                 pin_memory_device=pin_memory_device, in_order=in_order)
        self._pool = None

    def __setattr__(self, name, value):
        if name in self._frozen and name in self.__dict__:
            raise ValueError(f"{name} attribute should not be set after {type(self).__name__} "
                             f"is initialized")
        super().__setattr__(name, value)

    @property
    def _auto_collation(self):
        return self.batch_sampler is not None or (
            isinstance(self.dataset, IterableDataset) and self.batch_size is not None)

    @property
    def _index_sampler(self):
        return self.batch_sampler if self.batch_sampler is not None else self.sampler

    def __len__(self):
        if isinstance(self.dataset, IterableDataset):
            n = len(self.dataset)
            if self.batch_size is not None:
                n = n // self.batch_size if self.drop_last else -(-n // self.batch_size)
            return n
        return len(self._index_sampler)

    def __iter__(self):
        # like torch, every epoch draws a base seed for the workers (with or without workers,
        # so that the shuffled order does not depend on num_workers)
        base_seed = int(rng(self.generator).integers(0, 2 ** 62))
        if self.pin_memory and self.pin_memory_device:
            warnings.warn(f"pin_memory_device is deprecated, the current accelerator will be "
                          f"used as the device, ignore pin_memory_device="
                          f"'{self.pin_memory_device}'.", stacklevel=2)
        if self.pin_memory:
            warnings.warn("'pin_memory' argument is set as true but no accelerator is found, "
                          "then device pinned memory won't be used.", stacklevel=2)
        if self.num_workers == 0:
            return self._single()
        if self.persistent_workers:
            if self._pool is None:
                self._pool = _WorkerPool(self, base_seed)
            return _MultiWorkerIter(self, self._pool, owns_pool=False)
        return _MultiWorkerIter(self, _WorkerPool(self, base_seed), owns_pool=True)

    def _single(self):
        fetcher = _Fetcher(self)
        fetcher.reset()
        if fetcher.iterable:
            while True:
                try:
                    batch = fetcher.fetch(None)
                except StopIteration:
                    return
                yield batch
        for index in self._index_sampler:
            yield fetcher.fetch(index)

    def __del__(self):
        pool = self.__dict__.get("_pool")
        if pool is not None:
            pool.shutdown()


class _Failure:
    """An exception raised in a worker, re-raised in the main thread."""

    def __init__(self, exc, worker_id):
        self.exc, self.worker_id = exc, worker_id


_END = object()  # a worker's iterable dataset is exhausted


class _WorkerPool:
    """``num_workers`` threads, each with its own task queue, sharing one result queue."""

    def __init__(self, loader, base_seed):
        n = loader.num_workers
        self.num_workers = n
        self.task_queues = [queue.Queue() for _ in range(n)]
        self.results = queue.Queue()
        self.threads = []
        for w in range(n):
            info = WorkerInfo(w, n, base_seed + w, loader.dataset)
            t = threading.Thread(target=_worker_loop, name=f"minidl-data-worker-{w}", daemon=True,
                                 args=(_Fetcher(loader), info, loader.worker_init_fn,
                                       self.task_queues[w], self.results))
            t.start()
            self.threads.append(t)

    def shutdown(self):
        for q in self.task_queues:
            q.put(None)
        self.task_queues = []


def _worker_loop(fetcher, info, init_fn, tasks, results):
    _local.info = info
    init_error = None
    if init_fn is not None:
        try:
            init_fn(info.id)
        except BaseException as e:  # reported with the first task
            init_error = e
    epoch = None
    while True:
        task = tasks.get()
        if task is None:
            return
        task_epoch, send_idx, index = task
        if init_error is not None:
            results.put((task_epoch, send_idx, _Failure(init_error, info.id)))
            continue
        try:
            if task_epoch != epoch:
                epoch = task_epoch
                fetcher.reset()
            data = fetcher.fetch(index)
        except StopIteration:
            data = _END
        except BaseException as e:
            data = _Failure(e, info.id)
        results.put((task_epoch, send_idx, data))


class _MultiWorkerIter:
    """Dispatches tasks round-robin to the workers and hands batches back in order."""

    _epochs = itertools.count()

    def __init__(self, loader, pool, owns_pool):
        self.pool, self.owns_pool = pool, owns_pool
        self.length = len(loader) if not isinstance(loader.dataset, IterableDataset) else 0
        self.timeout = loader.timeout or None
        self.epoch = next(self._epochs)
        self.iterable = isinstance(loader.dataset, IterableDataset)
        self.in_order = loader.in_order
        self.delivered = set()  # send_idx handed back ahead of its turn (in_order=False)
        self.indices = itertools.repeat(None) if self.iterable else iter(loader._index_sampler)
        self.active = [True] * pool.num_workers
        self.next_worker = itertools.cycle(range(pool.num_workers))
        self.send_idx = 0
        self.rcvd_idx = 0
        self.task_worker = {}   # send_idx -> worker id, for tasks not yet handed back
        self.ready = {}         # send_idx -> batch that arrived early
        self.done = False
        for _ in range(loader.prefetch_factor * pool.num_workers):
            if not self._dispatch():
                break

    def _dispatch(self):
        """Send the next task to the next active worker; False when there is nothing left."""
        if not any(self.active):
            return False
        try:
            index = next(self.indices)
        except StopIteration:
            return False
        for _ in range(len(self.active)):
            w = next(self.next_worker)
            if self.active[w]:
                break
        self.pool.task_queues[w].put((self.epoch, self.send_idx, index))
        self.task_worker[self.send_idx] = w
        self.send_idx += 1
        return True

    def __iter__(self):
        return self

    def __next__(self):
        if self.done:
            raise StopIteration
        while True:
            # skip tasks whose worker ran out of data before answering them
            while self.rcvd_idx < self.send_idx and (self.rcvd_idx in self.delivered or (
                    self.rcvd_idx not in self.ready and
                    not self.active[self.task_worker[self.rcvd_idx]])):
                if self.rcvd_idx in self.delivered:
                    self.delivered.remove(self.rcvd_idx)
                else:
                    del self.task_worker[self.rcvd_idx]
                self.rcvd_idx += 1
            if self.rcvd_idx >= self.send_idx:
                self._close()
                raise StopIteration
            if self.rcvd_idx in self.ready:
                data = self.ready.pop(self.rcvd_idx)
                del self.task_worker[self.rcvd_idx]
                self.rcvd_idx += 1
                return self._deliver(data)
            try:
                epoch, idx, data = self.pool.results.get(timeout=self.timeout)
            except queue.Empty:
                self._close()
                raise RuntimeError(f"DataLoader timed out after {self.timeout} seconds") from None
            if epoch != self.epoch:
                continue  # left over from an abandoned epoch of persistent workers
            if data is _END:  # that worker is done; its unanswered tasks are skipped above
                w = self.task_worker.get(idx)
                if w is not None:
                    self.active[w] = False
                self._dispatch()
                continue
            if not self.in_order:
                del self.task_worker[idx]
                self.delivered.add(idx)
                return self._deliver(data)
            self.ready[idx] = data

    def _deliver(self, data):
        self._dispatch()
        if isinstance(data, _Failure):
            self._close()
            raise data.exc
        return data

    def __len__(self):
        return self.length

    def _close(self):
        if not self.done:
            self.done = True
            if self.owns_pool:
                self.pool.shutdown()

    def __del__(self):
        self._close()
