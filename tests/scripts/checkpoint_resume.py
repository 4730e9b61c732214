"""Save a training checkpoint, load it into fresh objects, and resume exactly."""
import os
import tempfile

import torch
from torch import nn


def make():
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
    with torch.no_grad():
        for i, p in enumerate(model.parameters()):
            p.copy_(torch.cos(torch.arange(p.numel()) * 0.37 + i).reshape(p.shape) * 0.3)
    opt = torch.optim.Adam(model.parameters(), lr=1e-2, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    return model, opt, sched


X = torch.linspace(-2, 2, 40).reshape(10, 4)
y = torch.tensor([0, 1, 2, 0, 1, 2, 0, 1, 2, 0])
loss_fn = nn.CrossEntropyLoss()


def train_epoch(model, opt, sched):
    opt.zero_grad()
    loss = loss_fn(model(X), y)
    loss.backward()
    opt.step()
    sched.step()
    return loss.item()


model, opt, sched = make()
for epoch in range(3):
    print(f"epoch {epoch} loss {train_epoch(model, opt, sched):.4f} "
          f"lr {sched.get_last_lr()[0]:.4f}")

path = os.path.join(tempfile.mkdtemp(), "ckpt.pt")
torch.save({"epoch": 3, "model": model.state_dict(), "optimizer": opt.state_dict(),
            "scheduler": sched.state_dict(), "note": "after 3 epochs"}, path)

model2, opt2, sched2 = make()
ckpt = torch.load(path)
model2.load_state_dict(ckpt["model"])
opt2.load_state_dict(ckpt["optimizer"])
sched2.load_state_dict(ckpt["scheduler"])
print("resumed from epoch", ckpt["epoch"], "-", ckpt["note"])
print("keys:", sorted(ckpt["model"].keys()))
print("optimizer state steps:", [float(s["step"]) for s in ckpt["optimizer"]["state"].values()])
for epoch in range(ckpt["epoch"], 5):
    a = train_epoch(model, opt, sched)
    b = train_epoch(model2, opt2, sched2)
    print(f"epoch {epoch} original {a:.4f} resumed {b:.4f} same {abs(a - b) < 1e-6}")
