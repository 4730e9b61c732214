"""Gradient accumulation over micro-batches, clipping, AdamW, and parameter groups."""
import torch
from torch import nn

model = nn.Sequential(nn.Linear(6, 16), nn.GELU(), nn.LayerNorm(16), nn.Linear(16, 1))
with torch.no_grad():
    for i, p in enumerate(model.parameters()):
        p.copy_(torch.sin(torch.arange(p.numel()) * 0.61 + i).reshape(p.shape) * 0.4)
decay = [p for n, p in model.named_parameters() if p.ndim > 1]
no_decay = [p for n, p in model.named_parameters() if p.ndim <= 1]
opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1},
                         {"params": no_decay, "weight_decay": 0.0}], lr=3e-3)
X = torch.cos(torch.arange(96, dtype=torch.float32).reshape(16, 6) * 0.3)
y = X.sum(1, keepdim=True) * 0.5
accum = 4
for step in range(6):
    opt.zero_grad(set_to_none=True)
    for k in range(accum):
        xb, yb = X[k * 4:(k + 1) * 4], y[k * 4:(k + 1) * 4]
        loss = nn.functional.mse_loss(model(xb), yb) / accum
        loss.backward()
    norm = torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=0.5)
    opt.step()
    print(f"step {step} grad-norm {norm:.4f} loss*accum {loss.item() * accum:.4f}")
print([g["weight_decay"] for g in opt.param_groups], len(decay), len(no_decay))
torch.nn.utils.clip_grad_value_(model.parameters(), clip_value=0.01)
print(max(p.grad.abs().max().item() for p in model.parameters()) <= 0.01)
vec = torch.nn.utils.parameters_to_vector(model.parameters())
print(vec.shape, f"{vec.norm():.4f}")
