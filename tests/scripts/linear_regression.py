"""Fit y = 3x + 2 with nn.Linear and SGD, logging the loss as people do."""
import torch
from torch import nn

torch.manual_seed(0)
X = torch.linspace(-1, 1, 64).unsqueeze(1)
y = 3 * X + 2 + 0.1 * torch.sin(17 * X)

model = nn.Linear(1, 1)
nn.init.constant_(model.weight, 0.5)
nn.init.zeros_(model.bias)
criterion = nn.MSELoss()
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)

for epoch in range(201):
    optimizer.zero_grad()
    loss = criterion(model(X), y)
    loss.backward()
    optimizer.step()
    if epoch % 40 == 0:
        print(f"epoch {epoch:3d}  loss {loss.item():.5f}  w {model.weight.item():.4f}  "
              f"b {model.bias.item():.4f}")

w, b = model.weight.item(), model.bias.item()
print(f"learned y = {w:.3f} x + {b:.3f}")
with torch.no_grad():
    print("prediction at x=0.5:", round(model(torch.tensor([[0.5]])).item(), 4))
print(model)
print(list(model.state_dict().keys()))
