"""LanguageModelTrainer: truncated BPTT (state carried, detached, reset per epoch), random
partitioning with fresh states, and a tiny model that learns a repeated text by heart."""
import numpy as np

import minidl
import minidl.nn as nn
from minidl.text import (
    CharTokenizer,
    LanguageModelBatches,
    LanguageModelTrainer,
    RNNLanguageModel,
    Vocab,
    generate,
)


class StateSpy(nn.Module):
    """Wraps a language model and records the state every call receives."""

    def __init__(self, model):
        super().__init__()
        self.model = model
        self.received, self.returned = [], []

    def forward(self, x, state=None):
        self.received.append(state)
        logits, new = self.model(x, state)
        self.returned.append(new)
        return logits, new


def _ids(n=60, v=7, seed=0):
    return np.random.default_rng(seed).integers(0, v, size=n)


def _spy_trainer(partition, lr=0.0):
    minidl.manual_seed(0)
    spy = StateSpy(RNNLanguageModel(7, embed_dim=4, hidden_size=5, cell="lstm"))
    batches = LanguageModelBatches(_ids(), batch_size=2, seq_len=6, partition=partition)
    trainer = LanguageModelTrainer(spy, minidl.optim.SGD(spy.parameters(), lr=lr),
                                   train_loader=batches, progress=None)
    return spy, trainer, len(batches)


def test_sequential_batches_carry_the_detached_state_and_reset_each_epoch():
    spy, trainer, per_epoch = _spy_trainer("sequential")
    assert trainer.carry_state and per_epoch >= 3
    trainer.fit(2)
    received = spy.received
    assert len(received) == 2 * per_epoch
    for k, state in enumerate(received):
        if k % per_epoch == 0:
            assert state is None  # a new epoch starts from the zero state
            continue
        h, c = state
        h_prev, c_prev = spy.returned[k - 1]
        np.testing.assert_array_equal(h.numpy(), h_prev.detach().numpy())
        np.testing.assert_array_equal(c.numpy(), c_prev.detach().numpy())
        assert not h.requires_grad and h.grad_fn is None and c.grad_fn is None


def test_random_partition_starts_every_batch_fresh():
    spy, trainer, per_epoch = _spy_trainer("random")
    assert not trainer.carry_state
    trainer.fit(1)
    assert len(spy.received) == per_epoch and all(s is None for s in spy.received)


def _grads(model):
    return [p.grad.numpy().copy() for p in model.parameters()]


def test_gradient_stops_at_the_batch_boundary():
    minidl.manual_seed(1)
    model = RNNLanguageModel(7, embed_dim=4, hidden_size=5, cell="gru")
    trainer = LanguageModelTrainer(model, minidl.optim.SGD(model.parameters(), lr=0.0),
                                   carry_state=True, progress=None)
    ids = _ids(13)
    x1, y1 = minidl.tensor(ids[None, 0:6]), minidl.tensor(ids[None, 1:7])
    x2, y2 = minidl.tensor(ids[None, 6:12]), minidl.tensor(ids[None, 7:13])
    trainer.training_step((x1, y1))
    carried = trainer.state
    model.zero_grad()
    trainer.training_step((x2, y2))["loss"].backward()
    truncated = _grads(model)
    # the same batch from a constant state equal to the carried one: the same gradients
    model.zero_grad()
    logits, _ = model(x2, minidl.tensor(carried.numpy()))
    trainer._loss(logits, y2).backward()
    for a, b in zip(truncated, _grads(model)):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-8)
    # full backpropagation through both batches would give other gradients
    model.zero_grad()
    _, state = model(x1)
    logits, _ = model(x2, state)
    trainer._loss(logits, y2).backward()
    assert any(not np.allclose(a, b) for a, b in zip(truncated, _grads(model)))


def test_evaluation_reports_per_token_loss_and_perplexity():
    minidl.manual_seed(2)
    model = RNNLanguageModel(7, embed_dim=4, hidden_size=5)
    batches = LanguageModelBatches(_ids(80, seed=3), batch_size=2, seq_len=6)
    trainer = LanguageModelTrainer(model, minidl.optim.SGD(model.parameters(), lr=0.0),
                                   progress=None)
    first, again = trainer.evaluate_loader(batches), trainer.evaluate_loader(batches)
    assert first == again  # every evaluation reads the same windows
    assert first["n"] == len(batches) * 12 and first["acc"] is None
    assert np.isclose(first["ppl"], np.exp(first["loss"]))
    # the state runs through the whole sequential stream: the loss of one long pass
    batches.epoch = 0
    pairs = list(batches)
    x = np.concatenate([b[0].numpy() for b in pairs], axis=1)
    y = np.concatenate([b[1].numpy() for b in pairs], axis=1)
    with minidl.no_grad():
        logits, _ = model(minidl.tensor(x))
        whole = float(trainer._loss(logits, minidl.tensor(y)).item())
    assert np.isclose(first["loss"], whole, rtol=1e-5)


def test_a_tiny_model_learns_a_repeated_text_and_greedy_generation_reproduces_it():
    text = "hello world! " * 30
    tok = CharTokenizer()
    vocab = Vocab(tok.tokenize(text), specials=("<unk>",))
    minidl.manual_seed(0)
    model = RNNLanguageModel(len(vocab), embed_dim=8, hidden_size=32, cell="lstm")
    batches = LanguageModelBatches(vocab(tok.tokenize(text)), batch_size=4, seq_len=16)
    trainer = LanguageModelTrainer(model, minidl.optim.Adam(model.parameters(), lr=0.03),
                                   batches, batches, progress=None)
    history = trainer.fit(12)
    assert history[-1]["train_loss"] < 0.05 and history[-1]["val_loss"] < 0.05
    assert history[-1]["val_ppl"] < 1.06 and "tokens_per_s" in history[-1]
    assert generate(model, vocab, tok, "hello w", 26) == ("hello world! " * 3)[:33]
