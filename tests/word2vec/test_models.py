"""The skip-gram models: losses by hand and against torch, HS normalisation, noise, init."""
import numpy as np
import pytest
import torch

import minidl
from minidl.text.word2vec import (
    SkipGramHierarchicalSoftmax,
    SkipGramNegativeSampling,
    huffman_tree,
    noise_distribution,
)
from tests.reference.harness import assert_close

FREQS = [40, 25, 10, 8, 6, 5, 3, 2, 1]


def _randomize(model, seed=0, scale=0.7):
    rng = np.random.default_rng(seed)
    for p in model.parameters():
        p._data[...] = rng.normal(scale=scale, size=p.shape).astype(np.float32)
    return model


def _log_sigmoid(x):
    return -np.logaddexp(0.0, -x)


def test_negative_sampling_loss_by_hand():
    model = _randomize(SkipGramNegativeSampling(9, 4, FREQS, negatives=3))
    center, context = np.array([0, 4, 7]), np.array([1, 2, 7])
    negatives = np.array([[3, 5, 8], [2, 0, 6], [1, 7, 4]])  # row 1: noise 2 == context
    loss = model(minidl.tensor(center), minidl.tensor(context), minidl.tensor(negatives))
    v = model.center.weight.detach().numpy().astype(np.float64)
    u = model.context.weight.detach().numpy()
    total = 0.0
    for c, o, row in zip(center, context, negatives):
        total -= _log_sigmoid(u[o] @ v[c])
        total -= sum(_log_sigmoid(-(u[k] @ v[c])) for k in row if k != o)
    assert loss.item() == pytest.approx(total / 3, rel=1e-5)


def test_negative_sampling_gradients_match_torch():
    model = _randomize(SkipGramNegativeSampling(9, 5, FREQS, negatives=4), seed=1)
    rng = np.random.default_rng(2)
    center, context = rng.integers(0, 9, 16), rng.integers(0, 9, 16)
    negatives = rng.integers(0, 9, (16, 4))
    loss = model(minidl.tensor(center), minidl.tensor(context), minidl.tensor(negatives))
    loss.backward()
    v = torch.tensor(model.center.weight.detach().numpy(), requires_grad=True)
    u = torch.tensor(model.context.weight.detach().numpy(), requires_grad=True)
    c, o, k = (torch.from_numpy(a) for a in (center, context, negatives))
    positive = torch.nn.functional.logsigmoid((u[o] * v[c]).sum(-1))
    noise = torch.nn.functional.logsigmoid(-(u[k] @ v[c].unsqueeze(-1)).squeeze(-1))
    reference = -(positive + (noise * (k != o[:, None])).sum(-1)).mean()
    reference.backward()
    assert_close(loss, reference, rtol=1e-5, atol=1e-6, what="loss")
    assert_close(model.center.weight.grad, v.grad, rtol=1e-4, atol=1e-6, what="d center")
    assert_close(model.context.weight.grad, u.grad, rtol=1e-4, atol=1e-6, what="d context")


def test_hierarchical_softmax_sums_to_one_and_loss_is_the_path():
    model = _randomize(SkipGramHierarchicalSoftmax(9, 4, FREQS), seed=3, scale=1.5)
    centers = minidl.arange(9)
    probs = model.log_prob(centers).exp().detach().numpy()
    np.testing.assert_allclose(probs.sum(1), 1.0, rtol=1e-5)
    tree = huffman_tree(FREQS)
    v = model.center.weight.detach().numpy().astype(np.float64)
    u = model.nodes.weight.detach().numpy()
    c, o = np.array([0, 3, 8, 8]), np.array([8, 0, 2, 5])
    expected = 0.0
    for ci, oi in zip(c, o):
        for j in range(tree.lengths[oi]):
            sign = 1 - 2 * tree.codes[oi, j]
            expected -= _log_sigmoid(sign * (u[tree.paths[oi, j]] @ v[ci]))
    loss = model(minidl.tensor(c), minidl.tensor(o))
    assert loss.item() == pytest.approx(expected / 4, rel=1e-5)
    np.testing.assert_allclose(-np.log(probs[c, o]).mean(), expected / 4, rtol=1e-5)


def test_hierarchical_softmax_gradients_match_torch():
    model = _randomize(SkipGramHierarchicalSoftmax(9, 3, FREQS), seed=4)
    rng = np.random.default_rng(5)
    center, context = rng.integers(0, 9, 12), rng.integers(0, 9, 12)
    model(minidl.tensor(center), minidl.tensor(context)).backward()
    tree = huffman_tree(FREQS)
    v = torch.tensor(model.center.weight.detach().numpy(), requires_grad=True)
    u = torch.tensor(model.nodes.weight.detach().numpy(), requires_grad=True)
    mask = torch.from_numpy(np.arange(tree.paths.shape[1]) < tree.lengths[context, None])
    signs = torch.from_numpy(1.0 - 2.0 * tree.codes[context]).float()
    scores = (u[torch.from_numpy(tree.paths[context])] * v[torch.from_numpy(center)][:, None])
    terms = torch.nn.functional.logsigmoid(signs * scores.sum(-1)) * mask
    (-terms.sum(-1).mean()).backward()
    assert_close(model.center.weight.grad, v.grad, rtol=1e-4, atol=1e-6, what="d center")
    assert_close(model.nodes.weight.grad, u.grad, rtol=1e-4, atol=1e-6, what="d nodes")


def test_noise_distribution_and_sampling():
    p = noise_distribution(FREQS)
    np.testing.assert_allclose(p, np.array(FREQS) ** 0.75 / np.sum(np.array(FREQS) ** 0.75))
    model = SkipGramNegativeSampling(9, 2, FREQS, negatives=5)
    draws = model.sample_negatives(20000, generator=minidl.Generator().manual_seed(0))
    assert draws.shape == (20000, 5) and draws.dtype == minidl.int64
    observed = np.bincount(draws.numpy().ravel(), minlength=9) / draws.numel()
    np.testing.assert_allclose(observed, p, atol=0.01)
    again = model.sample_negatives(20000, generator=minidl.Generator().manual_seed(0))
    assert minidl.equal(draws, again)


def test_initialisation_embeddings_and_state_dict():
    model = SkipGramNegativeSampling(9, 8, FREQS)
    w = model.center.weight.detach().numpy()
    assert np.abs(w).max() <= 0.5 / 8 and np.abs(w).max() > 0
    assert not model.context.weight.detach().numpy().any()
    emb = model.embeddings()
    assert not emb.requires_grad and np.array_equal(emb.numpy(), w)
    emb._data[0] = 7.0
    assert model.center.weight.detach().numpy()[0, 0] != 7.0  # a copy
    assert set(model.state_dict()) == {"center.weight", "context.weight"}
    hs = SkipGramHierarchicalSoftmax(9, 8, FREQS)
    assert set(hs.state_dict()) == {"center.weight", "nodes.weight"}
    assert hs.nodes.weight.shape == (8, 8) and not hs.nodes.weight.detach().numpy().any()


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="freqs"):
        SkipGramNegativeSampling(5, 3, FREQS)
    with pytest.raises(ValueError, match="negatives"):
        SkipGramNegativeSampling(9, 3, FREQS, negatives=0)
    with pytest.raises(ValueError, match="vocab_size"):
        SkipGramHierarchicalSoftmax(1, 3, [4])
    model = SkipGramNegativeSampling(9, 3, FREQS)
    with pytest.raises(IndexError, match="outside"):
        model(minidl.tensor([9]), minidl.tensor([0]))
    with pytest.raises(TypeError, match="integer"):
        model(minidl.tensor([0.0]), minidl.tensor([0]))
    with pytest.raises(ValueError, match="one length"):
        model(minidl.tensor([0, 1]), minidl.tensor([0]))
    with pytest.raises(ValueError, match=r"\(B, K\)"):
        model(minidl.tensor([0]), minidl.tensor([1]), minidl.tensor([[1], [2]]))
