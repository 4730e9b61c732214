"""Show, attend and tell (``minidl.vision.captioning``): the attention, the regulariser, the
decoder against a float64 torch reference of the same equations, and decoding."""
import numpy as np
import pytest
import torch

import minidl
from minidl.text.seq2seq import MaskedCrossEntropyLoss
from minidl.vision.captioning import (
    CaptionDecoder,
    CaptionEncoder,
    Captioner,
    CaptionLoss,
    caption_attention,
    caption_images,
    doubly_stochastic_penalty,
)

V, D, E, H, A, L = 7, 5, 4, 6, 3, 4


def decoder(gate=True, seed=0):
    minidl.manual_seed(seed)
    return CaptionDecoder(V, D, E, H, A, gate=gate).double()


def test_attention_weights_sum_to_one_over_the_grid():
    dec = decoder()
    rng = np.random.default_rng(0)
    features = minidl.from_numpy(rng.standard_normal((3, L, D)))
    logits, _ = dec(minidl.from_numpy(rng.integers(0, V, (3, 5))), dec.init_state(features))
    w = dec.attention_weights.detach().numpy()
    assert logits.shape == (3, 5, V) and w.shape == (3, 5, L)
    assert np.all(w > 0)
    np.testing.assert_allclose(w.sum(-1), 1, rtol=1e-12)
    beta = dec.gates.detach().numpy()
    assert beta.shape == (3, 5) and np.all((beta > 0) & (beta < 1))


def test_the_regulariser_equals_its_formula():
    rng = np.random.default_rng(1)
    alpha = rng.random((3, 6, L))
    lens = np.array([6, 2, 4])
    expected = np.mean([np.sum((1 - alpha[n, :lens[n]].sum(0)) ** 2) for n in range(3)])
    got = doubly_stochastic_penalty(minidl.from_numpy(alpha), lens)
    np.testing.assert_allclose(got.item(), expected, rtol=1e-12)
    everything = np.mean(np.sum((1 - alpha.sum(1)) ** 2, -1))
    np.testing.assert_allclose(doubly_stochastic_penalty(minidl.from_numpy(alpha)).item(),
                               everything, rtol=1e-12)
    logits = minidl.from_numpy(rng.standard_normal((3, 6, V)))
    targets = minidl.from_numpy(rng.integers(0, V, (3, 6)))
    ce = MaskedCrossEntropyLoss()(logits, targets, lens).item()
    loss = CaptionLoss(0.3)(logits, targets, lens, minidl.from_numpy(alpha)).item()
    np.testing.assert_allclose(loss, ce + 0.3 * expected, rtol=1e-12)
    with pytest.raises(ValueError, match=r"\(N, T, L\)"):
        doubly_stochastic_penalty(minidl.from_numpy(alpha[0]))
    with pytest.raises(ValueError, match=r"valid_lens must have shape \(3,\)"):
        doubly_stochastic_penalty(minidl.from_numpy(alpha), [1, 2])
    with pytest.raises(ValueError, match="lam"):
        CaptionLoss(-1)


def torch_decoder(params, features, X, gate):
    """The decoder's equations in torch on the same weights: (logits, alpha, beta)."""
    p = params
    mean = features.mean(1)
    h = torch.tanh(mean @ p["init_h.weight"].T + p["init_h.bias"])
    c = torch.tanh(mean @ p["init_c.weight"].T + p["init_c.bias"])
    keys = features @ p["attention.W_k.weight"].T
    cell = torch.nn.LSTMCell(E + D, H).double()
    for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
        setattr(cell, name, torch.nn.Parameter(p["lstm." + name]))
    logits, alphas, betas = [], [], []
    for t in range(X.shape[1]):
        e = p["embedding.weight"][X[:, t]]
        query = h @ p["attention.W_q.weight"].T
        scores = (torch.tanh(query[:, None] + keys) @ p["attention.w_v.weight"].T)[..., 0]
        alpha = torch.softmax(scores, -1)
        z = (alpha[:, :, None] * features).sum(1)
        if gate:
            beta = torch.sigmoid(h @ p["f_beta.weight"].T + p["f_beta.bias"])
            z = beta * z
            betas.append(beta)
        h, c = cell(torch.cat([e, z], -1), (h, c))
        deep = e + h @ p["L_h.weight"].T + p["L_h.bias"] + z @ p["L_z.weight"].T + p["L_z.bias"]
        logits.append(deep @ p["L_o.weight"].T + p["L_o.bias"])
        alphas.append(alpha)
    # the LSTMCell's own parameters stand in for the copies: point their grads back
    p["lstm.weight_ih"], p["lstm.weight_hh"] = cell.weight_ih, cell.weight_hh
    p["lstm.bias_ih"], p["lstm.bias_hh"] = cell.bias_ih, cell.bias_hh
    return (torch.stack(logits, 1), torch.stack(alphas, 1),
            torch.cat(betas, 1) if gate else None)


@pytest.mark.parametrize("gate", [True, False])
def test_decoder_matches_a_float64_torch_reference_values_and_gradients(gate):
    dec = decoder(gate, seed=3)
    rng = np.random.default_rng(2)
    f = rng.standard_normal((2, L, D))
    X = rng.integers(0, V, (2, 3))
    features = minidl.from_numpy(f.copy()).requires_grad_(True)
    logits, _ = dec(minidl.from_numpy(X), dec.init_state(features))
    alpha = dec.attention_weights
    params = {name: torch.from_numpy(v.detach().numpy().copy()).requires_grad_(True)
              for name, v in dec.state_dict().items()}
    t_features = torch.from_numpy(f.copy()).requires_grad_(True)
    t_logits, t_alpha, t_beta = torch_decoder(params, t_features, torch.from_numpy(X), gate)
    for mine, theirs in ((logits, t_logits), (alpha, t_alpha), (dec.gates, t_beta)):
        if mine is not None:
            np.testing.assert_allclose(mine.detach().numpy(), theirs.detach().numpy(),
                                       rtol=1e-10, atol=1e-12)
    if not gate:
        assert dec.gates is None and "f_beta.weight" not in params
    g_logits, g_alpha = rng.standard_normal(logits.shape), rng.standard_normal(alpha.shape)
    minidl.autograd.backward([logits, alpha], [minidl.from_numpy(g_logits),
                                               minidl.from_numpy(g_alpha)])
    torch.autograd.backward([t_logits, t_alpha], [torch.from_numpy(g_logits),
                                                  torch.from_numpy(g_alpha)])
    np.testing.assert_allclose(features.grad.numpy(), t_features.grad.numpy(), rtol=1e-9,
                               atol=1e-12)
    for name, param in dec.named_parameters():
        np.testing.assert_allclose(param.grad.numpy(), params[name].grad.numpy(), rtol=1e-9,
                                   atol=1e-12, err_msg=name)


def test_encoder_grid_coordinates_and_flattened_input():
    minidl.manual_seed(0)
    enc = CaptionEncoder((1, 32, 32), channels=(3, 4, 5)).eval()
    assert enc.grid == (8, 8) and enc.grid_size == 64 and enc.feature_size == 7
    images = minidl.from_numpy(np.random.default_rng(0).random((2, 1, 32, 32), np.float32))
    out = enc(images).detach()
    assert out.shape == (2, 64, 7)
    np.testing.assert_array_equal(enc(images.reshape(2, -1)).detach().numpy(), out.numpy())
    coords = out.numpy()[0, :, 5:]
    np.testing.assert_allclose(coords[0], [-1, -1])     # top-left cell: x, y
    np.testing.assert_allclose(coords[7], [1, -1])      # top-right
    np.testing.assert_allclose(coords[63], [1, 1])      # bottom-right
    with pytest.raises(ValueError, match=r"\(N, 1, 32, 32\)"):
        enc(minidl.zeros(2, 3, 32, 32))
    with pytest.raises(ValueError, match="1024 values"):
        enc(minidl.zeros(2, 100))
    with pytest.raises(ValueError, match="multiples of 4"):
        CaptionEncoder((1, 30, 30), channels=(3, 4, 5))
    with pytest.raises(ValueError, match="channels"):
        CaptionEncoder((1, 32, 32), channels=())


def chain_captioner():
    """A captioner whose next word depends on the previous one only: <bos> -> 4 -> 5 ->
    <eos> (embedding = one-hot, L_o = the successor map, image and state paths zeroed)."""
    vocab = 6  # <unk> <pad> <bos> <eos> w4 w5
    minidl.manual_seed(0)
    model = Captioner(vocab, (1, 16, 16), channels=(2, 2), embed_size=vocab, hidden_size=4,
                      attention_size=3).eval()
    successor = {2: 4, 4: 5, 5: 3, 3: 3, 0: 3, 1: 3}
    table = np.zeros((vocab, vocab), np.float32)
    for prev, nxt in successor.items():
        table[nxt, prev] = 10.0
    state = model.state_dict()
    state["decoder.embedding.weight"] = minidl.from_numpy(np.eye(vocab, dtype=np.float32))
    state["decoder.L_o.weight"] = minidl.from_numpy(table)
    for name in ("L_o.bias", "L_h.weight", "L_h.bias", "L_z.weight", "L_z.bias"):
        state["decoder." + name] = minidl.zeros(*state["decoder." + name].shape)
    model.load_state_dict(state)
    return model


def test_greedy_and_beam_decoding_stop_at_eos():
    model = chain_captioner()
    images = minidl.from_numpy(np.random.default_rng(0).random((3, 1, 16, 16), np.float32))
    assert caption_images(model, images, 2, 3, max_len=10) == [[4, 5]] * 3
    assert caption_images(model, images, 2, 3, max_len=10, beam_size=3) == [[4, 5]] * 3
    assert caption_images(model, images, 2, 3, max_len=1) == [[4]] * 3  # cut, no <eos>
    maps = caption_attention(model, images, [[4, 5]] * 3, 2, 3)
    assert len(maps) == 3 and maps[0].shape == (3, 8, 8)  # 2 words + <eos>, 8 x 8 grid
    np.testing.assert_allclose(maps[0].sum((1, 2)), 1, rtol=1e-5)
    assert model.training is False
    with pytest.raises(ValueError, match=r"\(N, C, H, W\)"):
        caption_images(model, images[0], 2, 3, 10)


def test_captioner_forward_and_clear_errors():
    minidl.manual_seed(0)
    model = Captioner(9, (1, 16, 16), channels=(2, 3), embed_size=4, hidden_size=5,
                      attention_size=3)
    images = minidl.zeros(2, 1, 16, 16)
    logits = model(images, minidl.from_numpy(np.array([[2, 4, 5], [2, 6, 1]])))
    assert logits.shape == (2, 3, 9)
    assert model.decoder.attention_weights.shape == (2, 3, 64)
    with pytest.raises(ValueError, match="int64 Tensor of token ids"):
        model(images, minidl.zeros(2, 3))
    with pytest.raises(ValueError, match=r"features must be \(N, L, D\)"):
        model.decoder.init_state(minidl.zeros(2, 3))
