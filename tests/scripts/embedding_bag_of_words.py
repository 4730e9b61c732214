"""A bag-of-words sentiment model: nn.Embedding, mean pooling, a linear classifier."""
import torch
from torch import nn

vocab = {w: i for i, w in enumerate(
    "<pad> good great fine bad awful poor movie plot acting was the very".split())}
data = [("good movie", 1), ("great acting", 1), ("the plot was fine", 1),
        ("very good plot", 1), ("bad movie", 0), ("awful acting", 0),
        ("the plot was poor", 0), ("very bad acting", 0)]


def encode(text, length=4):
    ids = [vocab[w] for w in text.split()]
    return ids + [0] * (length - len(ids))


X = torch.tensor([encode(t) for t, _ in data])
y = torch.tensor([label for _, label in data])


class BagOfWords(nn.Module):
    def __init__(self, n_words, dim=8):
        super().__init__()
        self.emb = nn.Embedding(n_words, dim, padding_idx=0)
        self.fc = nn.Linear(dim, 2)

    def forward(self, ids):
        mask = (ids != 0).unsqueeze(-1).float()
        pooled = (self.emb(ids) * mask).sum(1) / mask.sum(1)
        return self.fc(pooled)


model = BagOfWords(len(vocab))
with torch.no_grad():
    model.emb.weight.copy_(torch.sin(torch.arange(len(vocab) * 8.0)).reshape(-1, 8) * 0.5)
    model.emb.weight[0].zero_()
    model.fc.weight.copy_(torch.cos(torch.arange(16.0)).reshape(2, 8) * 0.3)
    model.fc.bias.zero_()
opt = torch.optim.Adam(model.parameters(), lr=0.05)
loss_fn = nn.CrossEntropyLoss()
for epoch in range(40):
    opt.zero_grad()
    loss = loss_fn(model(X), y)
    loss.backward()
    opt.step()
    if epoch % 10 == 9:
        print(f"epoch {epoch + 1} loss {loss.item():.4f}")
with torch.no_grad():
    test = torch.tensor([encode("great plot"), encode("poor acting")])
    print(model(test).softmax(-1).argmax(-1).tolist())
    e = model.emb.weight
    sim = nn.functional.cosine_similarity(e[vocab["good"]], e[vocab["great"]], dim=0)
print(f"cos(good, great) = {sim:.3f}", model.emb.weight.grad[0].abs().sum().item())
