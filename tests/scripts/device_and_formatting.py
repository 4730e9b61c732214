"""Pick a device the current way, build tensors on it, and log with format specs."""
import torch

if torch.accelerator.is_available():
    device = torch.accelerator.current_accelerator()
elif torch.cuda.is_available():
    device = torch.device("cuda")
elif torch.backends.mps.is_available():
    device = torch.device("mps")
else:
    device = torch.device("cpu")
print(f"Using {device} device")
torch.backends.cudnn.benchmark = True
torch.use_deterministic_algorithms(True)
print("deterministic:", torch.are_deterministic_algorithms_enabled())

x = torch.arange(12, dtype=torch.float32, device=device).reshape(3, 4) / 7
loss = (x ** 2).mean()
print("loss {:+.4f} | {:.3e} | {:>10.5f} | {}".format(loss, loss, loss, loss.item() > 1))
print(f"max={x.max():.3f} argmax={x.argmax().item()} shape={x.shape} size={x.size(1)}")
print(x)
print(x.double())
print(x.to(torch.int64))
print(x > 0.5)
print(torch.zeros(2, 0), torch.tensor([], dtype=torch.int32))
print(x.shape + (5,), x.shape[1:], x.shape.numel(), torch.Size([2, 3]) * 2)
torch.set_printoptions(precision=2, linewidth=60)
print(torch.linspace(-1, 1, 25) * 1000)
torch.set_printoptions(profile="default")
print(torch.tensor([1e-8, 1.0, 1e8]))
print(torch.arange(2000.0))
print(torch.arange(24).reshape(2, 3, 4).float().requires_grad_())
print(torch.cuda.device_count(), torch.cuda.is_available(), str(torch.ones(1).device))
