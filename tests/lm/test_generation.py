"""Generation: greedy / sampling options agree where they must, seeds reproduce, errors."""
import numpy as np
import pytest

import minidl
from minidl.text import CharTokenizer, RNNLanguageModel, Vocab, generate, generate_ids
from minidl.text.generation import next_token_probs

TEXT = "the quick brown fox jumps over the lazy dog"


@pytest.fixture(scope="module")
def lm():
    minidl.manual_seed(0)
    vocab = Vocab(list(TEXT), specials=("<unk>",))
    # a random model with large weights: peaked, varied next-token distributions
    model = RNNLanguageModel(len(vocab), embed_dim=8, hidden_size=16, cell="gru")
    with minidl.no_grad():
        model.decoder.weight.mul_(8.0)
    return model, vocab, CharTokenizer()


def test_greedy_is_deterministic_and_keeps_the_prompt(lm):
    model, vocab, tok = lm
    text = generate(model, vocab, tok, "the ", 12)
    assert text.startswith("the ") and len(text) == 16
    assert text == generate(model, vocab, tok, "the ", 12)


def test_limits_of_sampling_equal_greedy(lm):
    model, vocab, _ = lm
    prompt = vocab(list("fox"))
    greedy = generate_ids(model, prompt, 20).tolist()
    for options in ({"temperature": 1e-6}, {"top_k": 1}, {"top_p": 1e-9},
                    {"temperature": 1e-300}):
        assert generate_ids(model, prompt, 20, "sample", seed=3, **options).tolist() == greedy
    # greedy ignores the sampling options
    assert generate_ids(model, prompt, 20, temperature=5.0, top_k=3).tolist() == greedy


def test_seeded_sampling_reproduces(lm):
    model, vocab, tok = lm
    a = generate(model, vocab, tok, "the", 30, "sample", temperature=1.5, seed=7)
    b = generate(model, vocab, tok, "the", 30, "sample", temperature=1.5, seed=7)
    c = generate(model, vocab, tok, "the", 30, "sample", temperature=1.5, seed=8)
    assert a == b and a != c
    minidl.manual_seed(5)
    d = generate_ids(model, [1, 2], 30, "sample", temperature=1.5)
    minidl.manual_seed(5)
    assert generate_ids(model, [1, 2], 30, "sample", temperature=1.5).tolist() == d.tolist()


def test_batched_prompts_and_training_mode(lm):
    model, vocab, _ = lm
    model.train()
    rows = [vocab(list("the")), vocab(list("dog"))]
    batch = generate_ids(model, minidl.tensor(rows), 6)
    assert tuple(batch.shape) == (2, 6) and batch.dtype == minidl.int64
    assert batch[1].tolist() == generate_ids(model, rows[1], 6).tolist()
    assert model.training
    assert tuple(generate_ids(model, rows[0], 0).shape) == (0,)


def test_top_k_and_top_p_filters():
    logits = np.log(np.array([[0.5, 0.2, 0.15, 0.1, 0.05]]))
    np.testing.assert_allclose(next_token_probs(logits, top_k=2), [[5 / 7, 2 / 7, 0, 0, 0]])
    # nucleus 0.6: 0.5 alone is short of it, 0.5 + 0.2 reaches it
    np.testing.assert_allclose(next_token_probs(logits, top_p=0.6), [[5 / 7, 2 / 7, 0, 0, 0]])
    np.testing.assert_allclose(next_token_probs(logits, top_p=0.45), [[1, 0, 0, 0, 0]])
    np.testing.assert_allclose(next_token_probs(logits), [[0.5, 0.2, 0.15, 0.1, 0.05]])
    hot = next_token_probs(logits, temperature=2.0)[0]
    np.testing.assert_allclose(hot, np.sqrt([0.5, 0.2, 0.15, 0.1, 0.05]) /
                               np.sqrt([0.5, 0.2, 0.15, 0.1, 0.05]).sum())


def test_unknown_prompt_tokens_become_unk(lm):
    model, vocab, tok = lm
    text = generate(model, vocab, tok, "Zé", 3)
    assert text.startswith("Zé") and len(text) >= 5
    no_unk = Vocab(list(TEXT), specials=())
    strict = RNNLanguageModel(len(no_unk), embed_dim=4, hidden_size=4)
    with pytest.raises(ValueError, match=r"not in the vocabulary.*'Z'"):
        generate(strict, no_unk, tok, "Zoo", 3)


@pytest.mark.parametrize("kwargs, match", [
    ({"temperature": 0}, "temperature"), ({"temperature": -1.0}, "temperature"),
    ({"top_k": 0}, "top_k"), ({"top_k": 1.5}, "top_k"), ({"top_p": 0.0}, "top_p"),
    ({"top_p": 1.5}, "top_p"), ({"strategy": "beam"}, "strategy"),
    ({"max_new_tokens": -1}, "max_new_tokens"), ({"seed": "x"}, "seed"),
])
def test_bad_arguments(lm, kwargs, match):
    model, vocab, tok = lm
    options = {"max_new_tokens": 3, **kwargs}
    with pytest.raises(ValueError, match=match):
        generate(model, vocab, tok, "the", **options)
    with pytest.raises(ValueError, match=match):
        generate_ids(model, [1, 2], **options)


def test_bad_prompts(lm):
    model, vocab, tok = lm
    with pytest.raises(ValueError, match="no tokens"):
        generate(model, vocab, tok, "", 3)
    with pytest.raises(TypeError, match="prompt must be a str"):
        generate(model, vocab, tok, [1, 2], 3)
    with pytest.raises(ValueError, match=r"\[0, \d+\)"):
        generate_ids(model, [0, len(vocab)], 3)
    with pytest.raises(ValueError, match="at least one token"):
        generate_ids(model, [], 3)
    with pytest.raises(TypeError, match="integer"):
        generate_ids(model, [0.5], 3)
