"""The masked loss (pad positions take no part), teacher forcing, and the encoder's packed
final state."""
import numpy as np
import torch

import minidl
from minidl.text import (
    AttentionDecoder,
    EncoderDecoder,
    MaskedCrossEntropyLoss,
    Seq2SeqDecoder,
    Seq2SeqEncoder,
    teacher_forcing_inputs,
)


def _loss_and_grad(logits, targets, lens):
    x = minidl.tensor(logits, requires_grad=True)
    loss = MaskedCrossEntropyLoss()(x, minidl.tensor(targets), minidl.tensor(lens))
    loss.backward()
    return float(loss.item()), x.grad.numpy()


def test_masked_loss_is_the_mean_over_valid_tokens():
    rng = np.random.default_rng(0)
    logits = rng.standard_normal((3, 4, 5)).astype(np.float32)
    targets = rng.integers(0, 5, (3, 4))
    lens = [4, 1, 2]
    loss, _ = _loss_and_grad(logits, targets, lens)
    keep = np.arange(4)[None] < np.array(lens)[:, None]
    ref = torch.nn.functional.cross_entropy(torch.tensor(logits[keep]),
                                            torch.tensor(targets[keep]))
    assert abs(loss - ref.item()) < 1e-5


def test_masked_loss_ignores_pad_positions():
    rng = np.random.default_rng(1)
    logits = rng.standard_normal((3, 4, 5)).astype(np.float32)
    targets = rng.integers(0, 5, (3, 4))
    lens = [4, 1, 2]
    loss, grad = _loss_and_grad(logits, targets, lens)
    changed, other_targets = logits.copy(), targets.copy()
    for n, length in enumerate(lens):
        changed[n, length:] = rng.standard_normal(changed[n, length:].shape) * 1e4
        other_targets[n, length:] = 0
    loss2, grad2 = _loss_and_grad(changed, other_targets, lens)
    assert loss2 == loss
    np.testing.assert_array_equal(grad2, grad)
    assert np.all(grad[1, 1:] == 0) and np.any(grad[1, 0] != 0)


def test_teacher_forcing_inputs_start_with_bos():
    y = minidl.tensor([[5, 6, 3], [7, 3, 1]])
    assert teacher_forcing_inputs(y, 2).tolist() == [[2, 5, 6], [2, 7, 3]]


def test_packed_encoder_state_ignores_padding():
    minidl.manual_seed(0)
    enc = Seq2SeqEncoder(9, 4, 6, num_layers=2)
    padded = minidl.tensor([[3, 4, 5, 1, 1], [6, 7, 8, 4, 5]])
    with minidl.no_grad():
        outputs, state = enc(padded, minidl.tensor([3, 5]))
        alone_outputs, alone_state = enc(minidl.tensor([[3, 4, 5]]))
    np.testing.assert_allclose(state[:, 0].numpy(), alone_state[:, 0].numpy(), rtol=1e-5,
                               atol=1e-6)
    np.testing.assert_allclose(outputs[0, :3].numpy(), alone_outputs[0].numpy(), rtol=1e-5,
                               atol=1e-6)
    assert outputs.shape == (2, 5, 6) and np.all(outputs[0, 3:].numpy() == 0)


def test_models_give_logits_per_target_step_and_attention_weights():
    minidl.manual_seed(0)
    src, lens = minidl.tensor([[3, 4, 5, 1], [6, 7, 3, 2]]), minidl.tensor([2, 4])
    dec_in = minidl.tensor([[2, 5, 6], [2, 4, 4]])
    for decoder in (Seq2SeqDecoder(11, 4, 6, 2), AttentionDecoder(11, 4, 6, 2)):
        model = EncoderDecoder(Seq2SeqEncoder(9, 4, 6, 2), decoder)
        assert model(src, dec_in, lens).shape == (2, 3, 11)
    w = decoder.attention_weights.detach().numpy()
    assert w.shape == (2, 3, 4) and np.all(w[0, :, 2:] == 0)
    np.testing.assert_allclose(w.sum(-1), 1.0, rtol=1e-5)
