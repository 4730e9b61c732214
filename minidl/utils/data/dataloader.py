"""``DataLoader``: batches from a dataset, optionally built by worker processes.

With ``num_workers > 0`` batches are built and collated by that many worker *processes*
(``_worker.py``; started by ``multiprocessing_context``, else Python's default start method,
as torch), each prefetching ``prefetch_factor`` batches; index batches go to the workers
round-robin and, with ``in_order=True``, come back in the sampler's order: exactly the
batches ``num_workers=0`` gives. Iterable datasets are iterated by every worker's copy, as
in torch (shard them with ``get_worker_info()``), and their batches are interleaved
round-robin.
"""
import itertools
import multiprocessing
import multiprocessing.context
import os
import queue
import warnings

from ...backend import rng
from ._collate import default_collate, default_convert
from ._worker import WorkerEnded, WorkerFailure, WorkerInfo, WorkerPool, get_worker_info
from .dataset import IterableDataset
from .sampler import BatchSampler, RandomSampler, SequentialSampler

__all__ = ["DataLoader", "get_worker_info", "WorkerInfo"]


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
    processes (see the module doc); every iterator draws their base seed from ``generator``
    and worker ``w`` seeds minidl, ``random`` and NumPy from ``base_seed + w``. With
    ``in_order=False`` a batch is handed back as soon as it is ready; ``timeout`` bounds
    each wait for a batch; ``persistent_workers=True`` keeps the processes between epochs.
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
                 generator=generator, prefetch_factor=prefetch_factor,
                 persistent_workers=persistent_workers, pin_memory_device=pin_memory_device,
                 in_order=in_order)
        self.multiprocessing_context = multiprocessing_context
        self._pool = None

    @property
    def multiprocessing_context(self):
        """The ``multiprocessing`` context of the workers; None: Python's default."""
        return self._multiprocessing_context

    @multiprocessing_context.setter
    def multiprocessing_context(self, context):
        if context is not None:
            if self.num_workers == 0:
                raise ValueError(f"multiprocessing_context can only be used with multi-process "
                                 f"loading (num_workers > 0), but got "
                                 f"num_workers={self.num_workers}")
            if isinstance(context, str):
                methods = multiprocessing.get_all_start_methods()
                if context not in methods:
                    raise ValueError(f"multiprocessing_context option should specify a valid "
                                     f"start method in {methods!r}, but got "
                                     f"multiprocessing_context={context!r}")
                context = multiprocessing.get_context(context)
            if not isinstance(context, multiprocessing.context.BaseContext):
                raise TypeError(f"multiprocessing_context option should be a valid context "
                                f"object or a string specifying the start method, but got "
                                f"multiprocessing_context={context}")
        self._multiprocessing_context = context

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
        if self.persistent_workers and self._pool is not None and not self._pool.closed:
            return _MultiWorkerIter(self, self._pool, owns_pool=False)
        self._check_worker_number()
        pool = WorkerPool(self.multiprocessing_context or multiprocessing.get_context(),
                          _Fetcher(self), self.num_workers, base_seed, self.worker_init_fn)
        if self.persistent_workers:
            self._pool = pool
        return _MultiWorkerIter(self, pool, owns_pool=not self.persistent_workers)

    def _check_worker_number(self):
        """Warn, as torch does, when there are more workers than CPUs to run them."""
        cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") \
            else os.cpu_count()
        if cpus is None or self.num_workers > cpus:
            suggestion = ("DataLoader is not able to compute a suggested max number of worker "
                          "in current system." if cpus is None else
                          f"Our suggested max number of worker in current system is {cpus}, "
                          f"which is smaller than what this DataLoader is going to create.")
            warnings.warn(f"This DataLoader will create {self.num_workers} worker processes in "
                          f"total. {suggestion} Please be aware that excessive worker creation "
                          f"might get DataLoader running slow or even freeze, lower the worker "
                          f"number to avoid potential slowness/freeze if necessary.",
                          stacklevel=3)

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


class _MultiWorkerIter:
    """Dispatches tasks round-robin to the workers and hands batches back in order (or, with
    ``in_order=False``, as they arrive)."""

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
        self.pool.put(w, (self.epoch, self.send_idx, index))
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
                epoch, idx, data = self.pool.get(self.timeout)
            except queue.Empty:
                raise self._timed_out() from None
            except RuntimeError:  # a worker died; the pool has shut itself down
                self.done = True
                raise
            if epoch != self.epoch:
                continue  # left over from an abandoned epoch of persistent workers
            if isinstance(data, WorkerEnded):  # its unanswered tasks are skipped above
                self.active[data.worker_id] = False
                self._dispatch()
                continue
            if not self.in_order:
                del self.task_worker[idx]
                self.delivered.add(idx)
                return self._deliver(data)
            self.ready[idx] = data

    def _timed_out(self):
        """The timeout error, naming the worker(s) whose batch did not come."""
        if self.in_order:
            waited = [self.task_worker[self.rcvd_idx]]
        else:
            waited = sorted({w for i, w in self.task_worker.items() if i not in self.ready})
        names = ", ".join(f"worker {w} (pid {self.pool.pids[w]})" for w in waited)
        self._close()
        return RuntimeError(f"DataLoader timed out after {self.timeout} seconds waiting for "
                            f"{names}")

    def _deliver(self, data):
        self._dispatch()
        if isinstance(data, WorkerFailure):
            self._close()
            data.reraise()
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


