"""BLEU against nltk.translate.bleu_score and sacrebleu on random and real sentence pairs."""

import random
import warnings

import pytest
import sacrebleu
from nltk.translate import bleu_score as nltk_bleu

from minidl.text import bleu_score, corpus_bleu, en_es_pairs, sentence_bleu
from minidl.text.bleu import tokenize_13a

NLTK_SMOOTHING = {None: None, "epsilon": "method1", "add-one": "method2", "exp": "method3"}
WEIGHTS = [(0.25,) * 4, (0.5, 0.5), (1.0,), (0.1, 0.2, 0.3, 0.4), (0.2,) * 5]
WORDS = "the a cat dog sat on mat and is was red big".split()


def nltk_corpus(list_of_references, hypotheses, weights, smoothing):
    method = NLTK_SMOOTHING[smoothing]
    function = None if method is None else getattr(nltk_bleu.SmoothingFunction(), method)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # nltk warns about zero n-gram counts
        return float(nltk_bleu.corpus_bleu(list_of_references, hypotheses, weights,
                                           smoothing_function=function))


def random_sentence(rng, low=0, high=12):
    return [rng.choice(WORDS) for _ in range(rng.randint(low, high))]


def random_corpus(rng, size):
    hypotheses, references = [], []
    for _ in range(size):
        reference = random_sentence(rng, 1)
        # a hypothesis that shares part of a reference, so that n-grams match
        hypothesis = reference[:rng.randint(0, len(reference))] + random_sentence(rng, 0, 4)
        if rng.random() < 0.3:
            rng.shuffle(hypothesis)
        references.append([reference] + [random_sentence(rng, 1) for _ in range(
            rng.randint(0, 2))])
        hypotheses.append(hypothesis)
    return references, hypotheses


def close(ours, theirs):
    # nltk returns ~1e-77 where a zero precision makes BLEU 0 without smoothing
    return ours == pytest.approx(theirs, rel=1e-12, abs=1e-60)


@pytest.mark.parametrize("smoothing", list(NLTK_SMOOTHING))
def test_corpus_and_sentence_bleu_equal_nltk_on_random_sentences(smoothing):
    rng = random.Random(0)
    for trial in range(150):
        weights = WEIGHTS[trial % len(WEIGHTS)]
        references, hypotheses = random_corpus(rng, rng.randint(1, 4))
        assert close(corpus_bleu(references, hypotheses, weights, smoothing),
                     nltk_corpus(references, hypotheses, weights, smoothing))
        assert close(sentence_bleu(references[0], hypotheses[0], weights, smoothing),
                     nltk_corpus(references[:1], hypotheses[:1], weights, smoothing))


def test_bleu_equals_nltk_on_real_sentences():
    pairs = en_es_pairs("val")[:60]
    rng = random.Random(1)
    references = [[english.split()] for english, _ in pairs]
    hypotheses = []
    for english, _ in pairs:  # a degraded "translation": words dropped and swapped
        words = [w for w in english.split() if rng.random() > 0.2]
        if len(words) > 2 and rng.random() < 0.5:
            i = rng.randrange(len(words) - 1)
            words[i], words[i + 1] = words[i + 1], words[i]
        hypotheses.append(words)
    for smoothing in NLTK_SMOOTHING:
        ours = corpus_bleu(references, hypotheses, smoothing=smoothing)
        assert 0.2 < ours < 0.9
        assert close(ours, nltk_corpus(references, hypotheses, (0.25,) * 4, smoothing))
        for refs, hyp in zip(references, hypotheses):
            assert close(sentence_bleu(refs, hyp, smoothing=smoothing),
                         nltk_corpus([refs], [hyp], (0.25,) * 4, smoothing))


def test_bleu_edge_cases():
    reference = "the cat sat on the mat".split()
    assert sentence_bleu([reference], reference) == pytest.approx(1.0)
    assert sentence_bleu([reference], []) == 0.0  # empty hypothesis
    assert sentence_bleu([reference], ["dog"]) == 0.0  # no unigram match
    # no 4-gram match: 0 without smoothing, positive with it, and equal to nltk
    no_four = "the cat sat in the mat".split()
    assert sentence_bleu([reference], no_four) == 0.0
    for smoothing in ("epsilon", "add-one", "exp"):
        ours = sentence_bleu([reference], no_four, smoothing=smoothing)
        assert 0 < ours < 1
        assert close(ours, nltk_corpus([[reference]], [no_four], (0.25,) * 4, smoothing))
    # multiple references: clipping by the best reference, closest length for BP
    references = [reference, "there is a cat on the mat".split(), "a cat".split()]
    hypothesis = "the the the cat on the mat".split()
    for smoothing in NLTK_SMOOTHING:
        assert close(sentence_bleu(references, hypothesis, smoothing=smoothing),
                     nltk_corpus([references], [hypothesis], (0.25,) * 4, smoothing))
    # clipping by hand: "the" x7 against a reference with two "the"
    assert sentence_bleu([reference], ["the"] * 7, weights=(1.0,)) == pytest.approx(2 / 7)
    # brevity penalty by hand: 3 of 6 words, all matching
    assert sentence_bleu([reference], reference[:3], weights=(1.0,)) == pytest.approx(
        2.718281828459045 ** (1 - 6 / 3))


def test_bleu_errors():
    with pytest.raises(ValueError, match="2 hypotheses but 1 reference"):
        corpus_bleu([[["a"]]], [["a"], ["b"]])
    with pytest.raises(ValueError, match="smoothing"):
        sentence_bleu([["a"]], ["a"], smoothing="method9")
    with pytest.raises(TypeError, match="list of tokens"):
        sentence_bleu([["a"]], "a b")
    with pytest.raises(ValueError, match="non-empty list of reference"):
        corpus_bleu([[]], [["a"]])
    with pytest.raises(ValueError, match="no hypotheses"):
        corpus_bleu([], [])
    with pytest.raises(ValueError, match="1 hypotheses but 2 references"):
        bleu_score(["a"], ["a", "b"])


def test_tokenize_13a_equals_sacrebleu():
    tokenizer = sacrebleu.BLEU().tokenizer
    lines = ["Hello, world! It's 3.14 (approx.) -- 1,000 items.", "a-b 12-3 x&amp;y &quot;q&quot;",
             "Don't stop: $5/day; e.g. U.S.A.", "  spaced   out  ", "end-\nline", ""]
    lines += [english for english, _ in en_es_pairs("test")[:50]]
    lines += [spanish for _, spanish in en_es_pairs("test")[:50]]
    for line in lines:
        assert " ".join(tokenize_13a(line)) == tokenizer(line)


def test_bleu_score_equals_sacrebleu():
    pairs = en_es_pairs("test")
    rng = random.Random(2)
    references = [spanish for _, spanish in pairs]
    hypotheses = []
    for reference in references:
        words = reference.split()
        kept = [w for w in words if rng.random() > 0.25]
        hypotheses.append(" ".join(kept))
    ours = bleu_score(hypotheses, references)
    assert 20 < ours < 90
    assert ours == pytest.approx(sacrebleu.corpus_bleu(hypotheses, [references]).score,
                                 rel=1e-12)
    # small corpora, where orders have zero matches and the exp smoothing applies
    for _ in range(100):
        size = rng.randint(1, 3)
        refs = [" ".join(random_sentence(rng, 1, 8)) + rng.choice(["", ".", " !"])
                for _ in range(size)]
        hyps = [" ".join(random_sentence(rng, 0, 8)) for _ in range(size)]
        second = [" ".join(random_sentence(rng, 1, 8)) for _ in range(size)]
        expected = sacrebleu.corpus_bleu(hyps, [refs]).score
        assert bleu_score(hyps, refs) == pytest.approx(expected, rel=1e-12, abs=1e-12)
        expected = sacrebleu.corpus_bleu(hyps, [refs, second]).score
        multiple = [[a, b] for a, b in zip(refs, second)]
        assert bleu_score(hyps, multiple) == pytest.approx(expected, rel=1e-12, abs=1e-12)
    assert bleu_score([""], ["a b c"]) == 0.0
    assert bleu_score(["The cat."], ["the cat."], lowercase=True) == pytest.approx(
        sacrebleu.corpus_bleu(["The cat."], [["the cat."]], lowercase=True).score)
