"""DataLoader worker processes: the batches of num_workers=0, torch's seeding, sharding,
errors naming the worker, timeouts, persistent workers and no processes left behind."""
import multiprocessing
import os
import random
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

import minidl
from minidl.utils.data import DataLoader, Dataset, IterableDataset, TensorDataset, get_worker_info

FORK = multiprocessing.get_context("fork")
MARK = ["as imported"]  # changed at run time: fork workers see the change, spawn ones do not


class Squares(Dataset):
    """A map-style dataset that goes through __getitem__ and collates dicts."""

    def __init__(self, n=10):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        return {"x": np.full(3, i, np.float32), "y": i * i, "name": f"s{i}"}


class Where(Dataset):
    """Item i: (i, worker id, num_workers, seed, pid, the dataset copy's n, MARK[0], the
    BLAS threads)."""

    def __init__(self, n=8):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        info = get_worker_info()
        return (i, info.id, info.num_workers, info.seed, os.getpid(), info.dataset.n, MARK[0],
                minidl.get_num_threads())


class Draws(Dataset):
    """Item i: (worker id, seed, a draw from minidl's default generator, random, NumPy)."""

    def __len__(self):
        return 8

    def __getitem__(self, i):
        info = get_worker_info()
        return info.id, info.seed, float(minidl.rand(())), random.random(), np.random.rand()


class Broken(Dataset):
    def __init__(self, error=KeyError, bad=5):
        self.error, self.bad = error, bad

    def __len__(self):
        return 8

    def __getitem__(self, i):
        if i == self.bad:
            raise self.error(f"sample {i} is broken")
        if i == -self.bad:
            os._exit(3)
        return i


class Sleepy(Dataset):
    def __len__(self):
        return 4

    def __getitem__(self, i):
        time.sleep(0.3)
        return i


class Held(Dataset):
    """0..7; item 0 waits (at most ``hold`` seconds) for ``release``."""

    def __init__(self, hold):
        self.release, self.hold = FORK.Event(), hold

    def __len__(self):
        return 8

    def __getitem__(self, i):
        if i == 0:
            self.release.wait(self.hold)
        return i


class Shards(IterableDataset):
    """0..n-1, worker w of k taking w, w + k, ... (torch's get_worker_info recipe)."""

    def __init__(self, n):
        self.n = n

    def __iter__(self):
        info = get_worker_info()
        start, step = (0, 1) if info is None else (info.id, info.num_workers)
        return iter(range(start, self.n, step))


def rows(loader):
    return [[v.tolist() if isinstance(v, minidl.Tensor) else v for v in batch] for batch in loader]


def dead(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


@pytest.mark.parametrize("make", [lambda: TensorDataset(minidl.arange(46.0).reshape(23, 2),
                                                        minidl.arange(23)), lambda: Squares(23)])
def test_the_batches_of_num_workers_0(make):
    kw = dict(batch_size=4, shuffle=True)
    ref = list(DataLoader(make(), generator=minidl.Generator().manual_seed(1), **kw))
    with pytest.warns(UserWarning, match="no accelerator"):  # pin_memory: accepted, no effect
        got = list(DataLoader(make(), generator=minidl.Generator().manual_seed(1), num_workers=2,
                              prefetch_factor=3, pin_memory=True, **kw))
    assert len(got) == len(ref) == 6
    for a, b in zip(got, ref, strict=True):
        pairs = zip(a.values(), b.values(), strict=True) if isinstance(a, dict) else zip(a, b)
        for x, y in pairs:
            assert (x.tolist() if isinstance(x, minidl.Tensor) else x) == \
                (y.tolist() if isinstance(y, minidl.Tensor) else y)


def test_workers_are_processes_with_their_info_and_init_fn():
    calls = FORK.SimpleQueue()
    loader = DataLoader(Where(8), batch_size=2, num_workers=2, worker_init_fn=calls.put)
    threads = minidl.get_num_threads()
    minidl.set_num_threads(2)  # what the forked workers inherit and must drop to 1
    try:
        got = rows(loader)
    finally:
        minidl.set_num_threads(threads)
    assert [b[0] for b in got] == [[0, 1], [2, 3], [4, 5], [6, 7]]
    assert [b[1] for b in got] == [[0, 0], [1, 1], [0, 0], [1, 1]]    # round-robin, in order
    assert all(b[2] == [2, 2] and b[5] == [8, 8] for b in got)      # num_workers, dataset copy
    assert all(b[7] == [1, 1] for b in got)                          # one BLAS thread, as torch
    seeds = {b[1][0]: b[3][0] for b in got}
    assert seeds[1] == seeds[0] + 1                                   # base_seed + worker id
    pids = {p for b in got for p in b[4]}
    assert len(pids) == 2 and os.getpid() not in pids
    assert sorted(calls.get() for _ in range(2)) == [0, 1] and calls.empty()
    assert get_worker_info() is None


def test_in_order_false_hands_back_a_ready_batch_first():
    held = Held(hold=10)  # item 0 is released once the first batch has come back
    batches = iter(DataLoader(held, batch_size=None, num_workers=2, in_order=False))
    first = int(next(batches))
    held.release.set()
    assert first == 1 and sorted(int(b) for b in batches) == [0, 2, 3, 4, 5, 6, 7]
    in_order = DataLoader(Held(hold=0.2), batch_size=None, num_workers=2)
    assert [int(b) for b in in_order] == list(range(8))  # item 1 was ready first


def test_per_worker_seeding_like_torch():
    def run(seed):
        got = rows(DataLoader(Draws(), batch_size=2, num_workers=2,
                              generator=minidl.Generator().manual_seed(seed)))
        return [tuple(v[0] for v in b) for b in got] + [tuple(v[1] for v in b) for b in got]
    first = run(0)
    assert run(0) == first                       # two identical runs: the same draws
    assert run(1) != first                       # another loader seed: other draws
    w0, w1 = first[0], first[1]                  # the first batch of each worker
    assert w0[0] == 0 and w1[0] == 1 and w0[2:] != w1[2:]
    for _, seed, draw, py_draw, _ in (w0, w1):
        expected = minidl.rand((), generator=minidl.Generator().manual_seed(seed)).item()
        assert draw == pytest.approx(expected) and py_draw == random.Random(seed).random()
    loader = DataLoader(Draws(), batch_size=2, num_workers=2)
    minidl.manual_seed(3)
    a = rows(loader)
    b = rows(loader)
    minidl.manual_seed(3)
    assert rows(loader) == a != b                # every epoch draws a new base seed


@pytest.mark.parametrize("num_workers, persistent", [(2, False), (3, True)])
@pytest.mark.filterwarnings("ignore:This DataLoader will create")
def test_iterable_dataset_sharded_by_worker_info(num_workers, persistent):
    loader = DataLoader(Shards(11), batch_size=2, num_workers=num_workers,
                        persistent_workers=persistent)
    streams = [list(range(w, 11, num_workers)) for w in range(num_workers)]
    batches = [[s[i:i + 2] for i in range(0, len(s), 2)] for s in streams]
    expected = [b[k] for k in range(max(map(len, batches))) for b in batches if k < len(b)]
    for _ in range(2):
        assert [b.tolist() for b in loader] == expected


@pytest.mark.parametrize("error", [KeyError, ValueError])
def test_a_worker_exception_is_reraised_naming_the_worker(error):
    loader = DataLoader(Broken(error), batch_size=2, num_workers=2)
    with pytest.raises(error, match=r"(?s)Caught \w+ in DataLoader worker process 0.*"
                                    r"sample 5 is broken") as info:
        list(loader)
    assert "in __getitem__" in str(info.value)  # the worker's own traceback


def test_init_fn_and_unpicklable_failures():
    class Local(Exception):  # cannot be unpickled in the main process: RuntimeError
        pass

    def init(worker_id):
        if worker_id == 1:
            raise Local("worker 1 cannot start")
    with pytest.raises(RuntimeError, match="(?s)Caught Local in DataLoader worker process 1.*"
                                           "worker 1 cannot start"):
        list(DataLoader(Where(), num_workers=2, worker_init_fn=init))
    with pytest.raises(RuntimeError, match="(?s)Caught RuntimeError in DataLoader worker "
                                           "process 0.*could not be pickled"):
        list(DataLoader(Where(), num_workers=1, collate_fn=lambda b: lambda: b))


def test_a_dead_worker_and_a_timeout_are_named():
    with pytest.raises(RuntimeError, match=r"exited unexpectedly: worker 1 with exit code 3"):
        list(DataLoader(Broken(bad=-1), batch_size=None, num_workers=2))
    start = time.monotonic()
    with pytest.raises(RuntimeError, match=r"timed out after 0.05 seconds waiting for worker 0 "
                                           r"\(pid \d+\)"):
        list(DataLoader(Sleepy(), num_workers=2, timeout=0.05))
    assert time.monotonic() - start < 3  # the stuck workers leave once their sample is done


def test_persistent_workers_keep_their_processes():
    loader = DataLoader(Where(6), batch_size=2, num_workers=2, persistent_workers=True)
    first = rows(loader)
    for _ in loader:  # abandon an epoch half-way
        break
    again = rows(loader)
    assert [b[0] for b in again] == [b[0] for b in first]
    assert {p for b in again for p in b[4]} == {p for b in first for p in b[4]}
    pids = loader._pool.pids
    del loader
    assert all(dead(p) for p in pids)
    fresh = DataLoader(Where(6), batch_size=2, num_workers=2)  # new processes every epoch
    epoch1, epoch2 = ({p for b in rows(fresh) for p in b[4]} for _ in range(2))
    assert len(epoch1) == 2 and epoch1.isdisjoint(epoch2)


def test_no_worker_outlives_its_epoch():
    before = set(multiprocessing.active_children())
    loader = DataLoader(Where(40), batch_size=2, num_workers=2)
    it = iter(loader)
    pids = it.pool.pids
    next(it)
    del it  # an abandoned epoch
    rows(loader)
    with pytest.raises(KeyError):
        list(DataLoader(Broken(), batch_size=2, num_workers=2))
    assert all(dead(p) for p in pids) and set(multiprocessing.active_children()) == before


def test_workers_leave_when_the_main_process_is_killed():
    script = ("import sys, time\nfrom minidl.utils.data import DataLoader\n"
              "loader = DataLoader(list(range(8)), num_workers=2, persistent_workers=True)\n"
              "next(iter(loader))\nprint(*loader._pool.pids, flush=True)\ntime.sleep(60)\n")
    with subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True,
                          cwd=os.path.dirname(os.path.dirname(os.path.dirname(__file__)))) as main:
        pids = [int(p) for p in main.stdout.readline().split()]
        main.send_signal(signal.SIGKILL)
    deadline = time.monotonic() + 10
    while not all(dead(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert len(pids) == 2 and all(dead(p) for p in pids)


def test_multiprocessing_context_is_honoured():
    MARK[0] = "changed"
    try:
        for context, workers, seen in (("spawn", 1, "as imported"), (FORK, 2, "changed")):
            loader = DataLoader(Where(4), batch_size=2, num_workers=workers,
                                multiprocessing_context=context)
            assert isinstance(loader.multiprocessing_context, multiprocessing.context.BaseContext)
            got = rows(loader)
            assert [b[0] for b in got] == [[0, 1], [2, 3]]
            assert all(list(b[6]) == [seen] * 2 for b in got)
    finally:
        MARK[0] = "as imported"
    with pytest.raises(ValueError, match="valid start method"):
        DataLoader(Where(), num_workers=2, multiprocessing_context="threads")
    with pytest.raises(TypeError, match="valid context object"):
        DataLoader(Where(), num_workers=2, multiprocessing_context=3)
    with pytest.raises(ValueError, match="num_workers > 0"):
        DataLoader(Where(), multiprocessing_context="fork")


def test_more_workers_than_cpus_warns_like_torch():
    n = len(os.sched_getaffinity(0)) + 1
    with pytest.warns(UserWarning, match=f"will create {n} worker processes"):
        assert [int(b) for b in DataLoader(list(range(3)), num_workers=n)] == [0, 1, 2]
