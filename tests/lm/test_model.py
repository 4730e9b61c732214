"""RNNLanguageModel: shapes, states, carrying a state, tied weights, torch agreement, errors."""
import numpy as np
import pytest
import torch

import minidl
from minidl.text import RNNLanguageModel


def _np(t):
    return t.detach().numpy()


def _ids(n, t, v=11, seed=0):
    return minidl.tensor(np.random.default_rng(seed).integers(0, v, size=(n, t)))


@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn"])
def test_shapes_and_state(cell):
    minidl.manual_seed(0)
    model = RNNLanguageModel(11, embed_dim=6, hidden_size=8, num_layers=2, cell=cell)
    logits, state = model(_ids(3, 5))
    assert tuple(logits.shape) == (3, 5, 11)
    parts = state if cell == "lstm" else (state,)
    assert len(parts) == (2 if cell == "lstm" else 1)
    assert all(tuple(p.shape) == (2, 3, 8) for p in parts)
    zero = model.init_state(3)
    zero_parts = zero if cell == "lstm" else (zero,)
    assert all(tuple(p.shape) == (2, 3, 8) and not _np(p).any() for p in zero_parts)
    np.testing.assert_allclose(_np(model(_ids(3, 5), zero)[0]), _np(logits), rtol=1e-6)


@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn"])
def test_carried_state_continues_the_sequence(cell):
    """Two halves with the state carried give the logits of the whole sequence."""
    minidl.manual_seed(1)
    model = RNNLanguageModel(11, embed_dim=6, hidden_size=8, cell=cell)
    x = _ids(2, 8)
    whole, _ = model(x)
    first, state = model(x[:, :4])
    second, _ = model(x[:, 4:], state)
    np.testing.assert_allclose(_np(minidl.cat([first, second], 1)), _np(whole),
                               rtol=1e-5, atol=1e-6)


def test_matches_torch():
    minidl.manual_seed(2)
    model = RNNLanguageModel(11, embed_dim=6, hidden_size=8, num_layers=2, cell="lstm")
    emb = torch.nn.Embedding(11, 6)
    rnn = torch.nn.LSTM(6, 8, 2, batch_first=True)
    dec = torch.nn.Linear(8, 11)
    named = {"embedding": emb, "rnn": rnn, "decoder": dec}
    with torch.no_grad():
        for name, value in model.state_dict().items():
            module, key = name.split(".", 1)
            getattr(named[module], key).copy_(torch.from_numpy(_np(value)))
    x = _ids(3, 5)
    logits, (h, c) = model(x)
    out, (th, tc) = rnn(emb(torch.from_numpy(x.numpy())))
    np.testing.assert_allclose(_np(logits), dec(out).detach().numpy(), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(_np(h), th.detach().numpy(), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(_np(c), tc.detach().numpy(), rtol=1e-4, atol=1e-5)


def test_tied_weights_and_config():
    model = RNNLanguageModel(11, embed_dim=8, hidden_size=8, tie_weights=True, dropout=0.1)
    assert model.decoder.weight is model.embedding.weight
    assert len(list(model.parameters())) == len(list(model.state_dict())) - 1
    rebuilt = RNNLanguageModel(**model.config())
    assert rebuilt.config() == model.config()


def test_bad_arguments():
    with pytest.raises(ValueError, match="cell="):
        RNNLanguageModel(11, cell="transformer")
    with pytest.raises(ValueError, match="embed_dim == hidden_size"):
        RNNLanguageModel(11, embed_dim=4, hidden_size=8, tie_weights=True)
    with pytest.raises(ValueError, match="dropout="):
        RNNLanguageModel(11, dropout=1.0)
    with pytest.raises(ValueError, match="vocab_size="):
        RNNLanguageModel(0)
    model = RNNLanguageModel(11, embed_dim=4, hidden_size=4)
    with pytest.raises(ValueError, match=r"\(N, T\)"):
        model(minidl.zeros(3, dtype=minidl.int64))
    with pytest.raises(ValueError, match="float32"):
        model(minidl.zeros(2, 3))
