"""``minidl.text.GPT``: against the same network written in torch, its key / value cache,
generation with and without the cache, ``minidl train gpt`` and ``minidl generate``."""
import json
import math

import numpy as np
import pytest
import torch

import minidl
from minidl import cli
from minidl.text import GPT, KeyValueCache, RNNLanguageModel, generate_ids
from minidl.text.gpt_task import decay_groups
from minidl.text.lm_task import load_language_model

VOCAB, CONTEXT = 23, 16


def small_gpt(**kw):
    minidl.manual_seed(0)
    args = dict(context_size=CONTEXT, d_model=24, num_layers=2, num_heads=3, dropout=0.0)
    return GPT(VOCAB, **{**args, **kw})


def ids(n, t, seed=0):
    return minidl.from_numpy(np.random.default_rng(seed).integers(0, VOCAB, (n, t)))


class TorchGPT(torch.nn.Module):
    """The network of ``GPT``'s docstring in torch, parameter names matching."""

    def __init__(self, vocab, context, d, layers, heads, ff):
        super().__init__()
        nn = torch.nn
        self.heads = heads
        self.token_embedding = nn.Embedding(vocab, d)
        self.position_embedding = nn.Embedding(context, d)
        self.blocks = nn.ModuleList()
        for _ in range(layers):
            block = nn.Module()
            block.ln1, block.ln2 = nn.LayerNorm(d), nn.LayerNorm(d)
            block.attn = nn.Module()
            block.attn.qkv, block.attn.proj = nn.Linear(d, 3 * d), nn.Linear(d, d)
            block.ff = nn.Sequential(nn.Linear(d, ff), nn.GELU(approximate="tanh"),
                                     nn.Linear(ff, d))
            self.blocks.append(block)
        self.ln_f = nn.LayerNorm(d)
        self.head = nn.Linear(d, vocab, bias=False)

    def forward(self, x):
        n, t = x.shape
        h = self.token_embedding(x) + self.position_embedding(torch.arange(t))
        for b in self.blocks:
            q, k, v = b.attn.qkv(b.ln1(h)).reshape(n, t, 3, self.heads, -1).permute(2, 0, 3, 1, 4)
            a = torch.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True)
            h = h + b.attn.proj(a.transpose(1, 2).reshape(n, t, -1))
            h = h + b.ff(b.ln2(h))
        return self.head(self.ln_f(h))


@pytest.mark.parametrize("tie", [False, True])
def test_matches_torch_outputs_and_gradients(tie):
    model = small_gpt(tie_weights=tie).double()
    ref = TorchGPT(VOCAB, CONTEXT, 24, 2, 3, 96).double()
    state = {k: torch.from_numpy(v.detach().numpy().copy()) for k, v in
             model.state_dict().items()}
    ref.load_state_dict(state)
    if tie:
        ref.head.weight = ref.token_embedding.weight
    x = ids(3, 11)
    logits, _ = model(x)
    expected = ref(torch.from_numpy(x.numpy()))
    np.testing.assert_allclose(logits.detach().numpy(), expected.detach().numpy(), atol=1e-10)
    weights = np.random.default_rng(1).standard_normal(tuple(logits.shape))
    (logits * minidl.from_numpy(weights)).sum().backward()
    (expected * torch.from_numpy(weights)).sum().backward()
    grads = dict(ref.named_parameters())
    for name, p in model.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), grads[name].grad.numpy(), atol=1e-9,
                                   err_msg=name)


def test_tied_head_shares_the_embedding_and_init_is_gpt2s():
    model = GPT(VOCAB, context_size=CONTEXT, d_model=64, num_layers=3, num_heads=4)
    assert model.head.weight is model.token_embedding.weight
    assert "head.weight" not in dict(model.named_parameters())
    untied = GPT(VOCAB, context_size=CONTEXT, d_model=64, num_layers=3, num_heads=4,
                 tie_weights=False)
    assert untied.head.weight is not untied.token_embedding.weight
    assert untied.ff_dim == 256 and untied.head.bias is None
    w = untied.blocks[0].ff[0].weight.detach().numpy()
    residual = np.concatenate([untied.blocks[i].attn.proj.weight.detach().numpy().ravel()
                               for i in range(3)])
    assert abs(w.std() - 0.02) < 0.002
    assert abs(residual.std() - 0.02 / math.sqrt(6)) < 0.001
    assert not untied.blocks[1].attn.qkv.bias.detach().numpy().any()
    assert GPT(**untied.config()).config() == untied.config()


def test_key_value_cache_continues_the_sequence_exactly():
    model = small_gpt().eval()
    x = ids(2, CONTEXT)
    with minidl.no_grad():
        full, cache = model(x)
        pieces, state = [], None
        for a, b in ((0, 5), (5, 6), (6, 9), (9, CONTEXT)):
            logits, state = model(x[:, a:b], state)
            pieces.append(logits)
    assert isinstance(cache, KeyValueCache) and len(cache) == CONTEXT and len(state) == CONTEXT
    assert cache.layers[0][0].shape == (2, 3, CONTEXT, 8)
    np.testing.assert_array_equal(state.tokens, x.numpy())
    np.testing.assert_allclose(minidl.cat(pieces, 1).numpy(), full.numpy(), atol=1e-5)
    with pytest.raises(ValueError, match="context_size=16 tokens, got 1 new tokens after 16"):
        model(x[:, :1], state)


@pytest.mark.parametrize("strategy", ["greedy", "sample"])
def test_generation_with_and_without_cache_reads_the_same_contexts(strategy):
    # 40 new tokens after a prompt of 20 > CONTEXT: the prompt is cut and the window restarts
    model = small_gpt(dropout=0.1)
    with minidl.no_grad():
        for p in model.parameters():  # large random weights: greedy text that varies
            minidl.nn.init.normal_(p, 0.0, 0.5)
    prompt = ids(2, 20, seed=3)
    kw = dict(strategy=strategy, seed=5, temperature=3.0)
    cached = generate_ids(model, prompt, 40, **kw)
    fresh = generate_ids(model, prompt, 40, use_cache=False, **kw)
    np.testing.assert_array_equal(cached.numpy(), fresh.numpy())
    assert cached.shape == (2, 40) and model.training
    assert len(set(cached.numpy().ravel())) > 1  # the text is not one repeated token
    rnn = RNNLanguageModel(VOCAB, 8, 16)
    np.testing.assert_array_equal(generate_ids(rnn, prompt, 10, **kw).numpy(),
                                  generate_ids(rnn, prompt, 10, use_cache=False, **kw).numpy())
    with pytest.raises(TypeError, match="use_cache must be a bool"):
        generate_ids(model, prompt, 3, use_cache="yes")


def test_the_window_restarts_from_its_last_half():
    calls = []

    class Spy(GPT):
        def forward(self, x, state=None):
            calls.append((x.shape[1], 0 if state is None else len(state)))
            return super().forward(x, state)

    minidl.manual_seed(0)
    model = Spy(VOCAB, context_size=8, d_model=8, num_layers=1, num_heads=2)
    generate_ids(model, list(range(10)), 6)
    # prompt cut to its last 8; full after one new token: re-read the last 4, then grow
    assert calls == [(8, 0), (4, 0), (1, 4), (1, 5), (1, 6), (1, 7)]


def test_bad_inputs_are_refused_by_name():
    model = small_gpt()
    with pytest.raises(ValueError, match="int64 token ids of shape"):
        model(minidl.randn(2, 3))
    with pytest.raises(ValueError, match="context_size=16 tokens, got 17 new"):
        model(ids(1, 17))
    with pytest.raises(TypeError, match="KeyValueCache"):
        model(ids(1, 2), state=(1, 2))
    _, cache = model(ids(2, 3))
    with pytest.raises(ValueError, match="cache holds 2 sequences"):
        model(ids(3, 1), cache)
    for bad, match in ((dict(d_model=10, num_heads=4), "divisible by num_heads"),
                       (dict(dropout=1.0), "dropout"), (dict(context_size=0), "context_size"),
                       (dict(ff_dim=2.5), "ff_dim")):
        with pytest.raises(ValueError, match=match):
            GPT(VOCAB, **bad)


def test_weight_decay_skips_biases_and_layer_norms():
    model = small_gpt()
    decayed, plain = decay_groups(model, 0.1)
    assert decayed["weight_decay"] == 0.1 and plain["weight_decay"] == 0.0
    assert all(p.ndim == 2 for p in decayed["params"]) and all(p.ndim == 1
                                                                for p in plain["params"])
    assert len(decayed["params"]) + len(plain["params"]) == len(list(model.parameters()))


VERSE = "Shall I compare thee to a summer's day?\nThou art more lovely and more temperate.\n"


def test_train_gpt_on_a_text_file_then_generate(tmp_path, capsys):
    corpus = tmp_path / "sonnet.txt"
    corpus.write_text(VERSE * 20, encoding="utf-8")
    out = tmp_path / "run"
    args = ["train", "gpt", "--data", str(corpus), "--epochs", "2", "--seq-len", "12",
            "--batch-size", "4", "--d-model", "16", "--num-layers", "1", "--num-heads", "2",
            "--no-tie-weights", "--no-progress", "--out", str(out)]
    assert cli.main(args) == 0
    printed = capsys.readouterr().out
    assert "GPT 1 x 16 (2 heads, context 12)" in printed and "test_loss" in printed
    log = json.loads((out / "metrics.json").read_text())
    assert log["config"]["task"] == "gpt" and log["config"]["model"]["tie_weights"] is False
    assert log["config"]["optimizer"] == "adamw" and log["test"]["ppl"] > 1
    ckpt = str(out / "best.safetensors")
    model, vocab, tokenizer, _ = load_language_model(ckpt)
    assert isinstance(model, GPT) and model.context_size == 12
    texts = []
    for extra in ([], ["--no-cache"]):
        assert cli.main(["generate", ckpt, "--prompt", "Thou", "--max-new-tokens", "30",
                         "--seed", "2", *extra]) == 0
        captured = capsys.readouterr()
        texts.append(captured.out)
        assert "30 tokens in" in captured.err and "tokens/s" in captured.err
    assert texts[0] == texts[1] and texts[0].startswith("Thou") and len(texts[0]) == 35
    assert cli.main(["train", "gpt", "--data", str(corpus), "--epochs", "1", "--seq-len", "12",
                     "--batch-size", "4", "--warmup", "99", "--no-progress"]) == 1
    assert "--warmup must be >= 0 and below the" in capsys.readouterr().err
