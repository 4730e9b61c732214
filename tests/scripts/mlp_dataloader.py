"""Train an MLP on two interleaved spirals with a DataLoader loop, then evaluate it."""
import math

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

n = 200
t = torch.linspace(0.25, 3 * math.pi, n)
a = torch.stack([t * torch.cos(t), t * torch.sin(t)], dim=1) / 10
X = torch.cat([a, -a])
y = torch.cat([torch.zeros(n, dtype=torch.long), torch.ones(n, dtype=torch.long)])
train = TensorDataset(X, y)
loader = DataLoader(train, batch_size=40, shuffle=False)


class MLP(nn.Module):
    def __init__(self, hidden=32):
        super().__init__()
        self.fc1 = nn.Linear(2, hidden)
        self.fc2 = nn.Linear(hidden, hidden)
        self.out = nn.Linear(hidden, 2)

    def forward(self, x):
        x = F.relu(self.fc1(x))
        x = torch.tanh(self.fc2(x))
        return self.out(x)


def init_weights(m):
    if isinstance(m, nn.Linear):
        with torch.no_grad():
            k = torch.arange(m.weight.numel(), dtype=torch.float32)
            m.weight.copy_(torch.sin(1.3 * k + 0.7).reshape(m.weight.shape)
                           / m.in_features ** 0.5)
            m.bias.fill_(0.01)


model = MLP()
model.apply(init_weights)
optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
print(f"parameters: {sum(p.numel() for p in model.parameters()):,}")

for epoch in range(1, 31):
    model.train()
    total, correct, seen = 0.0, 0, 0
    for xb, yb in loader:
        optimizer.zero_grad()
        logits = model(xb)
        loss = F.cross_entropy(logits, yb)
        loss.backward()
        optimizer.step()
        total += loss.item() * xb.size(0)
        correct += (logits.argmax(dim=1) == yb).sum().item()
        seen += xb.size(0)
    if epoch % 5 == 0:
        print(f"epoch {epoch:2d} | loss {total / seen:.3f} | acc {100 * correct / seen:5.1f}%")

model.eval()
with torch.no_grad():
    pred = model(X).argmax(1)
    acc = (pred == y).float().mean()
print(f"final accuracy: {acc:.2%}")
