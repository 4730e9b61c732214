"""BLEU: the geometric mean of modified n-gram precisions times a brevity penalty.

Papineni, Roukos, Ward and Zhu (2002), "BLEU: a Method for Automatic Evaluation of Machine
Translation". For n = 1..N, the modified precision ``p_n`` counts each hypothesis n-gram
at most as often as it occurs in any one reference (clipping), summed over the corpus:

    BLEU = BP * exp(sum_n w_n log p_n),   BP = 1 if c > r else exp(1 - r / c),

with ``c`` the hypotheses' total length and ``r`` the sum of each hypothesis's closest
reference length (ties: the shorter reference).

``corpus_bleu`` / ``sentence_bleu`` take token lists and return a value in [0, 1] equal to
``nltk.translate.bleu_score`` with the matching ``SmoothingFunction`` method (like nltk, a
sentence contributes at least 1 to each n-gram denominator). Without smoothing a zero
precision makes BLEU 0 (nltk returns ~1e-77 there, with a warning). Smoothing methods of
Chen and Cherry (2014), applied to the corpus counts, by name:

- ``"epsilon"`` (``"floor"``, ``"method1"``): a zero count becomes ``epsilon = 0.1``;
- ``"add-one"`` (``"add-k"``, ``"method2"``): ``(m + 1) / (l + 1)`` for every n > 1;
- ``"exp"`` (``"exponential"``, ``"method3"``, NIST's mteval-v13a): the k-th zero
  precision becomes ``1 / (2**k * l)``.

``bleu_score`` is sacreBLEU's corpus BLEU (0-100) on detokenised strings: the ``13a``
tokenisation of mteval-v13a, ``exp`` smoothing, N = 4; equal to
``sacrebleu.corpus_bleu(hypotheses, [references]).score``.
"""

import math
import re
from collections import Counter

__all__ = ["sentence_bleu", "corpus_bleu", "bleu_score", "tokenize_13a", "SMOOTHING_METHODS"]

SMOOTHING_METHODS = {
    None: None, "none": None,
    "epsilon": "epsilon", "floor": "epsilon", "method1": "epsilon",
    "add-one": "add-one", "add-k": "add-one", "method2": "add-one",
    "exp": "exp", "exponential": "exp", "method3": "exp",
}
_EPSILON = 0.1


def _ngrams(tokens, n):
    return Counter(tuple(tokens[i:i + n]) for i in range(len(tokens) - n + 1))


def _check_tokens(tokens, what):
    if isinstance(tokens, str):
        raise TypeError(f"{what} must be a list of tokens, got a str (split it first, or use "
                        "bleu_score for strings)")
    tokens = list(tokens)
    return tokens


def _check_weights(weights):
    weights = tuple(float(w) for w in weights)
    if not weights or any(w < 0 for w in weights):
        raise ValueError(f"BLEU weights must be a non-empty sequence of numbers >= 0, got "
                         f"{weights!r}")
    return weights


def _smoothing(smoothing):
    try:
        return SMOOTHING_METHODS[smoothing]
    except (KeyError, TypeError):
        names = sorted(name for name in SMOOTHING_METHODS if name is not None)
        raise ValueError(f"BLEU smoothing must be None or one of {names}, got "
                         f"{smoothing!r}") from None


def _closest_length(reference_lengths, hypothesis_length):
    return min(reference_lengths, key=lambda length: (abs(length - hypothesis_length), length))


def _clipped_matches(references, hypothesis, n):
    """(clipped n-gram matches, hypothesis n-grams) for one sentence."""
    counts = _ngrams(hypothesis, n)
    best = Counter()
    for reference in references:
        for ngram, count in _ngrams(reference, n).items():
            if ngram in counts and count > best[ngram]:
                best[ngram] = count
    return sum(min(count, best[ngram]) for ngram, count in counts.items()), sum(counts.values())


def corpus_bleu(list_of_references, hypotheses, weights=(0.25,) * 4, smoothing=None):
    """Corpus BLEU in [0, 1] of token-list ``hypotheses`` against their references.

    ``list_of_references[i]`` is the list of reference token lists of ``hypotheses[i]``.
    ``weights[n - 1]`` weighs the n-gram precision (N = ``len(weights)``).
    """
    weights = _check_weights(weights)
    method = _smoothing(smoothing)
    list_of_references, hypotheses = list(list_of_references), list(hypotheses)
    if len(list_of_references) != len(hypotheses):
        raise ValueError(f"corpus_bleu got {len(hypotheses)} hypotheses but "
                         f"{len(list_of_references)} reference lists")
    if not hypotheses:
        raise ValueError("corpus_bleu got no hypotheses")
    order = len(weights)
    matches, totals = [0] * order, [0] * order
    hypothesis_length = reference_length = 0
    for i, (references, hypothesis) in enumerate(zip(list_of_references, hypotheses)):
        hypothesis = _check_tokens(hypothesis, f"hypotheses[{i}]")
        if isinstance(references, str) or not references:
            raise ValueError(f"list_of_references[{i}] must be a non-empty list of reference "
                             "token lists")
        references = [_check_tokens(ref, f"list_of_references[{i}][{j}]")
                      for j, ref in enumerate(references)]
        for n in range(1, order + 1):
            matched, total = _clipped_matches(references, hypothesis, n)
            matches[n - 1] += matched
            totals[n - 1] += max(1, total)  # nltk's convention: at least 1 per sentence
        hypothesis_length += len(hypothesis)
        reference_length += _closest_length([len(ref) for ref in references],
                                            len(hypothesis))
    if matches[0] == 0:
        return 0.0
    precisions = _smoothed_precisions(matches, totals, method)
    if any(p == 0 for p, w in zip(precisions, weights) if w > 0):
        return 0.0
    if hypothesis_length > reference_length:
        brevity = 1.0
    else:
        brevity = math.exp(1 - reference_length / hypothesis_length)
    return brevity * math.exp(math.fsum(w * math.log(p)
                                        for w, p in zip(weights, precisions) if p > 0))


def _smoothed_precisions(matches, totals, method):
    precisions = []
    zeros = 0
    for n, (matched, total) in enumerate(zip(matches, totals), 1):
        if method == "add-one" and n > 1:
            precisions.append((matched + 1) / (total + 1))
        elif matched > 0:
            precisions.append(matched / total)
        elif method == "epsilon":
            precisions.append(_EPSILON / total)
        elif method == "exp":
            zeros += 1
            precisions.append(1 / (2 ** zeros * total))
        else:
            precisions.append(0.0)
    return precisions


def sentence_bleu(references, hypothesis, weights=(0.25,) * 4, smoothing=None):
    """BLEU of one token-list ``hypothesis`` against a list of reference token lists."""
    return corpus_bleu([references], [hypothesis], weights=weights, smoothing=smoothing)


# mteval-v13a's tokenisation, as sacreBLEU's "13a" tokenizer applies it.
_13A_RULES = (
    (re.compile(r"([\{-\~\[-\` -\&\(-\+\:-\@\/])"), r" \1 "),  # symbols, brackets, quotes
    (re.compile(r"([^0-9])([\.,])"), r"\1 \2 "),  # period / comma not after a digit
    (re.compile(r"([\.,])([^0-9])"), r" \1 \2"),  # period / comma not before a digit
    (re.compile(r"([0-9])(-)"), r"\1 \2 "),  # a dash after a digit
)


def tokenize_13a(line):
    """The tokens of ``line`` under mteval-v13a's rules (sacreBLEU's default)."""
    line = line.replace("<skipped>", "").replace("-\n", "").replace("\n", " ")
    if "&" in line:
        line = (line.replace("&quot;", '"').replace("&amp;", "&")
                .replace("&lt;", "<").replace("&gt;", ">"))
    line = f" {line} "
    for pattern, replacement in _13A_RULES:
        line = pattern.sub(replacement, line)
    return line.split()


def bleu_score(hypotheses_str, references_str, lowercase=False):
    """sacreBLEU-compatible corpus BLEU (0-100) of detokenised strings.

    ``references_str[i]`` is the reference str of ``hypotheses_str[i]``, or a list of
    reference strs for it (every hypothesis must then have the same number).
    """
    if isinstance(hypotheses_str, str) or isinstance(references_str, str):
        raise TypeError("bleu_score takes a list of hypothesis str and a list of references")
    hypotheses, references = list(hypotheses_str), list(references_str)
    if len(hypotheses) != len(references):
        raise ValueError(f"bleu_score got {len(hypotheses)} hypotheses but "
                         f"{len(references)} references")
    order = 4
    matches, totals = [0] * order, [0] * order
    hypothesis_length = reference_length = 0
    for i, (hypothesis, refs) in enumerate(zip(hypotheses, references)):
        refs = [refs] if isinstance(refs, str) else list(refs)
        if not isinstance(hypothesis, str) or not refs or not all(
                isinstance(ref, str) for ref in refs):
            raise TypeError(f"bleu_score: hypothesis {i} must be a str and its references a "
                            "str or a non-empty list of str")
        if lowercase:
            hypothesis, refs = hypothesis.lower(), [ref.lower() for ref in refs]
        hyp_tokens = tokenize_13a(hypothesis.rstrip())
        ref_tokens = [tokenize_13a(ref.rstrip()) for ref in refs]
        for n in range(1, order + 1):
            matched, total = _clipped_matches(ref_tokens, hyp_tokens, n)
            matches[n - 1] += matched
            totals[n - 1] += total
        hypothesis_length += len(hyp_tokens)
        reference_length += _closest_length([len(ref) for ref in ref_tokens], len(hyp_tokens))
    if not any(matches) or hypothesis_length == 0:
        return 0.0
    log_sum = 0.0
    zeros = 0
    for matched, total in zip(matches, totals):
        if total == 0:
            return 0.0  # no n-grams of this order at all: sacreBLEU's log(0) floor
        if matched == 0:
            zeros += 1
            precision = 100.0 / (2 ** zeros * total)
        else:
            precision = 100.0 * matched / total
        log_sum += math.log(precision)
    brevity = 1.0
    if hypothesis_length < reference_length:
        brevity = math.exp(1 - reference_length / hypothesis_length)
    return brevity * math.exp(log_sum / order)
