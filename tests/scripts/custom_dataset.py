"""A map-style Dataset returning dicts, a custom collate_fn, drop_last and batching."""
import torch
from torch.utils.data import DataLoader, Dataset, Subset, random_split


class Squares(Dataset):
    def __init__(self, n):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        x = torch.tensor([i, i * i], dtype=torch.float32)
        return {"x": x, "y": i % 3, "name": f"item{i}"}


ds = Squares(10)
print(len(ds), ds[3])
for batch in DataLoader(ds, batch_size=4):
    print(batch["x"].shape, batch["y"], batch["name"])
for batch in DataLoader(ds, batch_size=4, drop_last=True):
    print("drop_last", batch["x"].sum().item())


def collate(items):
    xs = torch.stack([it["x"] for it in items])
    return xs, torch.tensor([it["y"] for it in items])


loader = DataLoader(ds, batch_size=3, collate_fn=collate)
print(len(loader), [tuple(x.shape) for x, _ in loader])
sub = Subset(ds, [1, 3, 5])
print([d["name"] for d in sub])
train, val = random_split(ds, [7, 3], generator=torch.Generator().manual_seed(0))
print(len(train), len(val), sorted(train.indices + val.indices) == list(range(10)))
total = 0
for x, _ in DataLoader(ds, batch_size=5, shuffle=True, collate_fn=collate):
    total += int(x[:, 0].sum())
print("sum over a shuffled epoch:", total)
