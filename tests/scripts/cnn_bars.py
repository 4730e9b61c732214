"""A small CNN learns horizontal vs vertical bars; training loop with momentum SGD."""
import torch
import torch.nn as nn
import torch.nn.functional as F


def make_data(n=64, size=12):
    imgs = torch.zeros(n, 1, size, size)
    labels = torch.zeros(n, dtype=torch.long)
    for i in range(n):
        pos = 2 + (i * 5) % (size - 4)
        if i % 2 == 0:
            imgs[i, 0, pos, :] = 1.0
        else:
            imgs[i, 0, :, pos] = 1.0
            labels[i] = 1
    return imgs + 0.05 * torch.cos(torch.arange(n * size * size).reshape(imgs.shape) * 0.1), labels


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 4, kernel_size=3, padding=1)
        self.conv2 = nn.Conv2d(4, 8, kernel_size=3)
        self.pool = nn.MaxPool2d(2)
        self.fc = nn.Linear(8 * 2 * 2, 2)

    def forward(self, x):
        x = self.pool(F.relu(self.conv1(x)))
        x = self.pool(F.relu(self.conv2(x)))
        x = torch.flatten(x, 1)
        return self.fc(x)


model = Net()
with torch.no_grad():
    for name, p in model.named_parameters():
        k = torch.arange(p.numel(), dtype=torch.float32)
        p.copy_((torch.sin(0.9 * k + len(name)) * 0.3).reshape(p.shape))
x, y = make_data()
optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
for epoch in range(8):
    running = 0.0
    for i in range(0, len(x), 16):
        optimizer.zero_grad()
        out = model(x[i:i + 16])
        loss = F.cross_entropy(out, y[i:i + 16])
        loss.backward()
        optimizer.step()
        running += loss.item()
    print(f"[{epoch + 1}] loss: {running / 4:.3f}")
model.eval()
with torch.no_grad():
    correct = (model(x).argmax(1) == y).sum().item()
print(f"Accuracy of the network: {100 * correct // len(y)} %")
print(model)
