"""The AMP recipe's training step, written device-agnostic as the PyTorch docs show."""
import torch
from torch import nn

device = "cuda" if torch.cuda.is_available() else "cpu"
use_amp = device == "cuda"
model = nn.Sequential(nn.Linear(8, 32), nn.ReLU(), nn.Linear(32, 4)).to(device)
with torch.no_grad():
    for i, p in enumerate(model.parameters()):
        p.copy_(torch.cos(torch.arange(p.numel()) * 0.27 + i).reshape(p.shape) * 0.3)
opt = torch.optim.SGD(model.parameters(), lr=0.05)
scaler = torch.amp.GradScaler(device, enabled=use_amp)
X = torch.sin(torch.arange(128, dtype=torch.float32, device=device).reshape(16, 8))
y = torch.arange(16, device=device) % 4
for epoch in range(5):
    with torch.autocast(device_type=device, dtype=torch.float16, enabled=use_amp):
        out = model(X)
        loss = nn.functional.cross_entropy(out, y)
    scaler.scale(loss).backward()
    scaler.step(opt)
    scaler.update()
    opt.zero_grad()
    print(f"epoch {epoch} loss {loss.item():.4f} scale {scaler.get_scale():.1f} "
          f"dtype {out.dtype}")
cpu_scaler = torch.amp.GradScaler("cpu", init_scale=1024.0, growth_interval=2)
for step in range(4):
    loss = nn.functional.cross_entropy(model(X), y)
    cpu_scaler.scale(loss).backward()
    cpu_scaler.step(opt)
    cpu_scaler.update()
    opt.zero_grad()
    print(f"cpu scaler step {step}: scale {cpu_scaler.get_scale():.0f} loss {loss.item():.4f}")
print(cpu_scaler.state_dict())
