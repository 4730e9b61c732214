"""Evaluation with model.eval() and torch.no_grad(): accuracy, top-k, a confusion matrix."""
import torch
import torch.nn.functional as F
from torch import nn

torch.set_printoptions(precision=3)
logits_layer = nn.Linear(5, 4)
with torch.no_grad():
    logits_layer.weight.copy_(torch.cos(torch.arange(20.0)).reshape(4, 5))
    logits_layer.bias.copy_(torch.tensor([0.1, -0.2, 0.3, 0.0]))
model = nn.Sequential(nn.BatchNorm1d(5), logits_layer, nn.Dropout(0.5))
X = torch.sin(torch.arange(150, dtype=torch.float32).reshape(30, 5) * 0.7)
y = torch.arange(30) % 4
model.eval()
with torch.no_grad():
    out = model(X)
    probs = F.softmax(out, dim=1)
    pred = probs.argmax(dim=1)
    top2 = out.topk(2, dim=1).indices
acc = (pred == y).float().mean().item()
top2_acc = (top2 == y.unsqueeze(1)).any(dim=1).float().mean().item()
print(f"acc {acc:.4f} top-2 {top2_acc:.4f} mean max prob {probs.max(1).values.mean():.4f}")
confusion = torch.zeros(4, 4, dtype=torch.long)
for t, p in zip(y.tolist(), pred.tolist()):
    confusion[t, p] += 1
print(confusion)
per_class = confusion.diag().float() / confusion.sum(1).float()
for c, v in enumerate(per_class):
    print(f"class {c}: {v:6.2%}")
print(torch.bincount(pred, minlength=4), probs[:3])
print(F.nll_loss(torch.log(probs), y).item() > 0, model.training, model[0].running_mean)
