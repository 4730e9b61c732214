"""Autograd the way tutorials show it: grads, autograd.grad, no_grad, hooks, detach."""
import torch

x = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
w = torch.tensor([[0.5, -1.0, 2.0], [1.5, 0.25, -0.5]], requires_grad=True)
y = torch.tanh(w @ x).sum() + (x ** 3).mean()
print(y)
y.backward()
print("x.grad", x.grad)
print("w.grad", w.grad)

a = torch.linspace(-2, 2, 5, requires_grad=True)
b = torch.sigmoid(a) * a
(g,) = torch.autograd.grad(b.sum(), a, create_graph=False)
print("silu'", g)

seen = []
h = a.register_hook(lambda grad: seen.append(grad.clone()))
(a * a).sum().backward()
h.remove()
print("hook saw", seen[0], "grad", a.grad)

with torch.no_grad():
    z = a * 2
print(z.requires_grad, a.detach().requires_grad, (a * 2).grad_fn is not None)
x.grad.zero_()
q = (x * x).sum()
q.backward(retain_graph=True)
q.backward()
print("accumulated", x.grad)
m = torch.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
out = (m @ m.T).sqrt().exp().sum()
print(f"{out.item():.4f}")
v = torch.ones(2, requires_grad=True)
u = (v * torch.tensor([2.0, 3.0])).pow(2)
u.backward(torch.tensor([1.0, 0.1]))
print(v.grad, v.is_leaf, u.is_leaf)
