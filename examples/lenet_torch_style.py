"""LeNet-5 on bundled MNIST, written exactly as one writes it for PyTorch.

Only the import line differs from a torch script: ``import minidl as torch``. The bundled
data stands in for ``torchvision.datasets.MNIST`` so that the script runs offline.

    python examples/lenet_torch_style.py --epochs 2
"""
import argparse
import time

import minidl as torch
import minidl.nn as nn
import minidl.nn.functional as F
from minidl.utils.data import DataLoader, TensorDataset
from minidl.vision.datasets import load_bundled


class LeNet5(nn.Module):
    """LeCun et al. (1998), with ReLU and max pooling as in most modern courses."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, 5, padding=2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = torch.flatten(x, 1)
        return self.fc3(F.relu(self.fc2(F.relu(self.fc1(x)))))


def tensors(train, limit=None):
    images, labels = load_bundled("mnist-mini", train=train)
    x = images[:limit].float().unsqueeze(1) / 255.0
    return (x - 0.1307) / 0.3081, labels[:limit]


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--limit", type=int, default=None, help="use the first N training images")
    args = p.parse_args(argv)
    torch.manual_seed(0)
    train_loader = DataLoader(TensorDataset(*tensors(True, args.limit)), batch_size=64,
                              shuffle=True)
    x_test, y_test = tensors(False)
    model = LeNet5()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=2, gamma=0.5)
    for epoch in range(args.epochs):
        model.train()
        start, total = time.perf_counter(), 0.0
        for x, y in train_loader:
            optimizer.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            optimizer.step()
            total += loss.item() * len(y)
        scheduler.step()
        model.eval()
        with torch.no_grad():
            accuracy = (model(x_test).argmax(1) == y_test).float().mean().item()
        print(f"epoch {epoch + 1}: train loss {total / len(train_loader.dataset):.4f}  "
              f"test accuracy {accuracy:.4f}  ({time.perf_counter() - start:.1f} s)")
    return accuracy


if __name__ == "__main__":
    main()
