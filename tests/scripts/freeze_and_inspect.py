"""Freeze a backbone, train a head with its own learning rate, and inspect the model."""
import torch
from torch import nn

backbone = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(),
                         nn.AdaptiveAvgPool2d(1), nn.Flatten())
head = nn.Linear(8, 5)
model = nn.Sequential(backbone, head)
with torch.no_grad():
    for i, p in enumerate(model.parameters()):
        p.copy_(torch.sin(torch.arange(p.numel()) * 0.43 + i).reshape(p.shape) * 0.2)
for p in backbone.parameters():
    p.requires_grad_(False)
trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
total = sum(p.numel() for p in model.parameters())
print(f"trainable {trainable:,} / {total:,}")
for name, p in model.named_parameters():
    print(f"{name:<12} {str(tuple(p.shape)):<16} {p.requires_grad}")
print([name for name, _ in model.named_buffers()])
print(model)
opt = torch.optim.SGD([{"params": head.parameters(), "lr": 0.1}], lr=0.01, momentum=0.9)
x = torch.cos(torch.arange(2 * 3 * 6 * 6, dtype=torch.float32)).reshape(2, 3, 6, 6)
target = torch.tensor([1, 3])
model.train()
for step in range(3):
    opt.zero_grad()
    loss = nn.functional.cross_entropy(model(x), target)
    loss.backward()
    opt.step()
    print(f"step {step}: {loss.item():.4f}", backbone[0].weight.grad is None)
print(backbone[1].running_mean, backbone[1].num_batches_tracked)
sd = model.state_dict()
print(len(sd), list(sd)[:4], sd["0.1.num_batches_tracked"].dtype)
