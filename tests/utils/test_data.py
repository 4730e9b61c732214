"""minidl.utils.data: datasets, samplers, collate (torch's dtypes), DataLoader (the worker
processes: test_data_workers.py)."""
import collections

import numpy as np
import pytest
import torch
import torch.utils.data as tdata

import minidl
from minidl.utils.data import (
    BatchSampler,
    ChainDataset,
    ConcatDataset,
    DataLoader,
    Dataset,
    IterableDataset,
    RandomSampler,
    SequentialSampler,
    Subset,
    SubsetRandomSampler,
    TensorDataset,
    WeightedRandomSampler,
    default_collate,
    default_convert,
    get_worker_info,
    random_split,
)


def tensor_ds(n=10):
    return TensorDataset(minidl.arange(n * 2.0).reshape(n, 2), minidl.arange(n))


class Squares(Dataset):
    """A map-style dataset that goes through __getitem__ (no fast path)."""

    def __init__(self, n=10):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        if not 0 <= i < self.n:
            raise IndexError(i)
        return {"x": np.full(3, i, np.float32), "y": i * i, "name": f"s{i}"}


def as_lists(batches):
    out = []
    for b in batches:
        if isinstance(b, minidl.Tensor):
            out.append(b.tolist())
        elif isinstance(b, dict):
            out.append({k: (v.tolist() if isinstance(v, minidl.Tensor) else v)
                        for k, v in b.items()})
        else:
            out.append([x.tolist() for x in b])
    return out


# ------------------------------------------------------------------ datasets
def test_tensor_dataset():
    ds = tensor_ds()
    assert len(ds) == 10
    x, y = ds[3]
    assert x.tolist() == [6.0, 7.0] and y.item() == 3 and y.dtype == minidl.int64
    with pytest.raises(AssertionError, match="Size mismatch between tensors"):
        TensorDataset(minidl.zeros(3), minidl.zeros(4))


def test_subset_concat_chain():
    ds = tensor_ds()
    sub = Subset(ds, [7, 2, 5])
    assert len(sub) == 3 and sub[1][1].item() == 2
    cat = ConcatDataset([sub, Squares(4)])
    assert len(cat) == 7 and cat[-1]["y"] == 9 and cat[0][1].item() == 7
    assert len(sub + Squares(2)) == 5
    with pytest.raises(ValueError, match="should not exceed dataset length"):
        cat[-8]
    with pytest.raises(AssertionError, match="does not support IterableDataset"):
        ConcatDataset([Range(3)])

    assert list(ChainDataset([Range(2), Range(3)])) == [0, 1, 0, 1, 2]
    assert list(Range(2) + Range(1)) == [0, 1, 0]


def test_random_split_sizes_and_disjointness():
    ds = Squares(10)
    for lengths, sizes in [([3, 7], [3, 7]), ([0.33, 0.33, 0.34], [4, 3, 3]), ([0.5, 0.5], [5, 5]),
                           ([0.25, 0.75], [3, 7])]:
        parts = random_split(ds, lengths, generator=minidl.Generator().manual_seed(0))
        assert [len(p) for p in parts] == sizes
        # the same sizes as torch computes
        assert sizes == [len(p) for p in tdata.random_split(range(10), lengths)]
        idx = [i for p in parts for i in p.indices]
        assert sorted(idx) == list(range(10))
    a = random_split(ds, [5, 5], generator=minidl.Generator().manual_seed(3))
    b = random_split(ds, [5, 5], generator=minidl.Generator().manual_seed(3))
    assert a[0].indices == b[0].indices
    with pytest.raises(ValueError, match="Sum of input lengths does not equal"):
        random_split(ds, [3, 3])
    with pytest.raises(ValueError, match="Sum of input lengths does not equal"):
        random_split(ds, [0.5, 0.6])


# ------------------------------------------------------------------ samplers
def test_samplers():
    assert list(SequentialSampler(range(4))) == [0, 1, 2, 3]
    g = minidl.Generator().manual_seed(0)
    perm = list(RandomSampler(range(6), generator=g))
    assert sorted(perm) == list(range(6))
    s = RandomSampler(range(5), replacement=True, num_samples=12)
    draws = list(s)
    assert len(s) == 12 and len(draws) == 12 and all(0 <= d < 5 for d in draws)
    more = list(RandomSampler(range(3), num_samples=7))
    assert len(more) == 7 and sorted(more[:3]) == [0, 1, 2] and sorted(more[3:6]) == [0, 1, 2]
    sub = list(SubsetRandomSampler([10, 20, 30]))
    assert sorted(sub) == [10, 20, 30]
    w = list(WeightedRandomSampler([0.0, 1.0, 0.0], 5))
    assert w == [1] * 5
    assert list(BatchSampler(range(7), 3, False)) == [[0, 1, 2], [3, 4, 5], [6]]
    assert list(BatchSampler(range(7), 3, True)) == [[0, 1, 2], [3, 4, 5]]
    assert len(BatchSampler(range(7), 3, False)) == 3 and len(BatchSampler(range(7), 3, True)) == 2


def test_sampler_errors():
    with pytest.raises(ValueError, match="num_samples should be a positive integer"):
        RandomSampler(range(3), num_samples=0)
    with pytest.raises(TypeError, match="replacement should be a boolean"):
        RandomSampler(range(3), replacement=1)
    with pytest.raises(ValueError, match="batch_size should be a positive integer"):
        BatchSampler(range(3), 0, False)
    with pytest.raises(ValueError, match="drop_last should be a boolean"):
        BatchSampler(range(3), 2, 1)
    with pytest.raises(ValueError, match="weights should be a 1d sequence"):
        WeightedRandomSampler([[1.0]], 2)


# ------------------------------------------------------------------- collate
def same_as_torch(ours, theirs):
    if isinstance(theirs, torch.Tensor):
        assert isinstance(ours, minidl.Tensor)
        assert ours.dtype.name == str(theirs.dtype).replace("torch.", "")
        assert ours.tolist() == theirs.tolist()
    elif isinstance(theirs, dict):
        assert type(ours) is type(theirs) and list(ours) == list(theirs)
        for k in theirs:
            same_as_torch(ours[k], theirs[k])
    elif isinstance(theirs, (list, tuple)):
        assert type(ours) is type(theirs) and len(ours) == len(theirs)
        for a, b in zip(ours, theirs):
            same_as_torch(a, b)
    else:
        assert ours == theirs


Point = collections.namedtuple("Point", "x y")

COLLATE_CASES = {
    "ints": [1, 2, 3],
    "floats": [1.0, 2.5],
    "bools": [True, False],
    "np-float32-scalars": [np.float32(1), np.float32(2)],
    "np-int32-scalars": [np.int32(1), np.int32(2)],
    "np-arrays-float64": [np.zeros(2), np.ones(2)],
    "np-arrays-uint8": [np.zeros((2, 2), np.uint8), np.ones((2, 2), np.uint8)],
    "strings": ["a", "b"],
    "tuples": [(1, "a", 2.0), (2, "b", 3.0)],
    "lists": [[1, 2], [3, 4]],
    "dicts": [{"x": 1, "y": [1.0, 2.0]}, {"x": 2, "y": [3.0, 4.0]}],
    "ordered-dicts": [collections.OrderedDict(a=1, b=2.0), collections.OrderedDict(a=3, b=4.0)],
    "namedtuples": [Point(1, 2.0), Point(3, 4.0)],
}


@pytest.mark.parametrize("name", list(COLLATE_CASES))
def test_default_collate_matches_torch(name):
    batch = COLLATE_CASES[name]
    same_as_torch(default_collate(batch), tdata.default_collate(batch))


def test_default_collate_tensors():
    ours = default_collate([minidl.ones(2, 3), minidl.zeros(2, 3)])
    assert ours.shape == (2, 2, 3) and ours.dtype == minidl.float32
    ours = default_collate([(minidl.tensor(1.0), minidl.tensor(2)), (minidl.tensor(3.0),
                                                                     minidl.tensor(4))])
    assert ours[0].tolist() == [1.0, 3.0] and ours[1].dtype == minidl.int64
    with pytest.raises(RuntimeError, match=r"stack expects each tensor to be equal size, but got "
                                           r"\[2\] at entry 0 and \[3\] at entry 1"):
        default_collate([minidl.ones(2), minidl.ones(3)])


def test_default_collate_errors():
    with pytest.raises(RuntimeError, match="each element in list of batch should be of equal size"):
        default_collate([[1, 2], [1]])
    with pytest.raises(TypeError, match="batch must contain tensors, numpy arrays, numbers"):
        default_collate([object(), object()])
    with pytest.raises(TypeError, match="found <U1"):
        default_collate([np.array(["a"])])


def test_default_convert():
    out = default_convert((np.arange(3), {"a": np.float32(2.0)}, 5, "s"))
    assert isinstance(out, list) and out[0].dtype == minidl.int64
    assert isinstance(out[1]["a"], minidl.Tensor) and out[2] == 5 and out[3] == "s"


# ---------------------------------------------------------------- DataLoader
def test_batching_and_drop_last():
    ds = tensor_ds(10)
    batches = list(DataLoader(ds, batch_size=4))
    assert isinstance(batches[0], list) and len(batches) == 3
    assert [b[1].tolist() for b in batches] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    assert batches[0][0].shape == (4, 2) and batches[0][0].dtype == minidl.float32
    assert len(DataLoader(ds, batch_size=4)) == 3
    assert len(DataLoader(ds, batch_size=4, drop_last=True)) == 2
    assert len(list(DataLoader(ds, batch_size=4, drop_last=True))) == 2
    single = list(DataLoader(ds, batch_size=None))
    assert len(single) == 10 and single[3][0].shape == (2,)


def test_fast_path_equals_per_sample_collate():
    x = minidl.randn(50, 1, 4, 4)
    y = minidl.randint(0, 10, (50,))
    ds = TensorDataset(x, y)
    sub = Subset(ds, list(range(49, -1, -2)))
    slow = lambda b: default_collate(b)  # noqa: E731  (a different collate disables the fast path)
    for data in (ds, sub):
        fast = list(DataLoader(data, batch_size=8))
        ref = list(DataLoader(data, batch_size=8, collate_fn=slow))
        assert len(fast) == len(ref)
        for a, b in zip(fast, ref):
            assert type(a) is type(b) is list
            for u, v in zip(a, b):
                assert u.dtype == v.dtype and u.shape == v.shape
                np.testing.assert_array_equal(u.numpy(), v.numpy())


def test_matches_torch_dataloader_without_shuffle():
    ours = as_lists(DataLoader(Squares(7), batch_size=3))
    theirs = [{k: (v.tolist() if isinstance(v, torch.Tensor) else v) for k, v in b.items()}
              for b in tdata.DataLoader(TorchSquares(7), batch_size=3)]
    assert ours == theirs


class TorchSquares(tdata.Dataset):
    def __init__(self, n):
        self.inner = Squares(n)

    def __len__(self):
        return len(self.inner)

    def __getitem__(self, i):
        return self.inner[i]


def test_shuffle_reproducible_with_generator_and_manual_seed():
    ds = tensor_ds(20)

    def epoch(loader):
        return [b[1].tolist() for b in loader]

    a, b = (epoch(DataLoader(ds, batch_size=6, shuffle=True,
                             generator=minidl.Generator().manual_seed(5))) for _ in range(2))
    assert a == b and sorted(sum(a, [])) == list(range(20)) and sum(a, []) != list(range(20))
    minidl.manual_seed(11)
    loader = DataLoader(ds, batch_size=6, shuffle=True)
    c1, c2 = epoch(loader), epoch(loader)
    assert c1 != c2  # a new order every epoch
    minidl.manual_seed(11)
    assert epoch(loader) == c1 and epoch(loader) == c2


class Range(IterableDataset):
    def __init__(self, n):
        self.n = n

    def __iter__(self):
        info = get_worker_info()
        if info is None:
            return iter(range(self.n))
        return iter(range(info.id, self.n, info.num_workers))

    def __len__(self):
        return self.n


class TorchRange(tdata.IterableDataset):
    def __init__(self, n):
        self.n = n

    def __iter__(self):
        info = tdata.get_worker_info()
        if info is None:
            return iter(range(self.n))
        return iter(range(info.id, self.n, info.num_workers))


@pytest.mark.parametrize("num_workers", [0, 2, 3])
@pytest.mark.parametrize("drop_last", [False, True])
@pytest.mark.filterwarnings("ignore:This DataLoader will create")
def test_iterable_dataset_matches_torch_interleaving(num_workers, drop_last):
    ours = [b.tolist() for b in DataLoader(Range(11), batch_size=2, num_workers=num_workers,
                                           drop_last=drop_last)]
    # torch's order is deterministic: round-robin over the workers' own streams
    theirs = [b.tolist() for b in tdata.DataLoader(TorchRange(11), batch_size=2,
                                                   num_workers=0, drop_last=drop_last)] \
        if num_workers == 0 else _torch_round_robin(11, 2, num_workers, drop_last)
    assert ours == theirs
    assert len(DataLoader(Range(11), batch_size=2, drop_last=drop_last)) == (5 if drop_last else 6)


def _torch_round_robin(n, bs, workers, drop_last):
    """What torch's multi-process loader yields for TorchRange (computed without processes)."""
    streams = []
    for w in range(workers):
        items = list(range(w, n, workers))
        batches = [items[i:i + bs] for i in range(0, len(items), bs)]
        if drop_last and batches and len(batches[-1]) < bs:
            batches.pop()
        streams.append(batches)
    out, alive = [], list(range(workers))
    pos = [0] * workers
    while alive:
        for w in list(alive):
            if pos[w] < len(streams[w]):
                out.append(streams[w][pos[w]])
                pos[w] += 1
            else:
                alive.remove(w)
    return out


def test_dataloader_errors():
    ds = tensor_ds()
    cases = [
        (dict(shuffle=True, sampler=[1]), "sampler option is mutually exclusive with shuffle"),
        (dict(batch_sampler=[[1]], batch_size=2), "batch_sampler option is mutually exclusive"),
        (dict(num_workers=-1), "num_workers option should be non-negative"),
        (dict(prefetch_factor=2), "prefetch_factor option could only be specified"),
        (dict(persistent_workers=True), "persistent_workers option needs num_workers > 0"),
        (dict(batch_size=None, drop_last=True), "batch_size=None option disables auto-batching"),
        (dict(timeout=-1), "timeout option should be non-negative"),
    ]
    for kwargs, match in cases:
        with pytest.raises(ValueError, match=match):
            DataLoader(ds, **kwargs)
    with pytest.raises(ValueError, match="expected unspecified shuffle option"):
        DataLoader(Range(3), shuffle=True)
    loader = DataLoader(ds)
    with pytest.raises(ValueError, match="batch_size attribute should not be set"):
        loader.batch_size = 3


def test_custom_sampler_and_batch_sampler():
    ds = tensor_ds(6)
    got = [b[1].tolist() for b in DataLoader(ds, batch_size=2, sampler=[5, 4, 3, 2, 1, 0])]
    assert got == [[5, 4], [3, 2], [1, 0]]
    got = [b[1].tolist() for b in DataLoader(ds, batch_sampler=[[0, 5], [1]])]
    assert got == [[0, 5], [1]]
