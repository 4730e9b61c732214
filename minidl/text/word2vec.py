"""Skip-gram word2vec: negative sampling, hierarchical softmax, subsampling and the pairs.

Mikolov et al. 2013, "Efficient Estimation of Word Representations in Vector Space" and
"Distributed Representations of Words and Phrases and their Compositionality". Skip-gram
learns a center vector ``v_w`` and a context vector for every word so that each center word
predicts the words around it. The two objectives, per ``(center c, context o)`` pair:

- negative sampling (``SkipGramNegativeSampling``), with ``K`` noise words ``k`` drawn from
  the unigram distribution raised to the 3/4 power, ``P_n(w) ~ count(w) ** 0.75``::

      loss = -log sigma(u_o . v_c) - sum_k log sigma(-u_k . v_c)

- hierarchical softmax (``SkipGramHierarchicalSoftmax``): the words are the leaves of a
  Huffman tree built from their counts, every inner node ``n`` has a vector ``u_n``, and
  ``p(o | c)`` is the product of the branch probabilities along the path from the root to
  ``o``: at node ``n_j`` the branch with code bit ``b_j`` has probability
  ``sigma(s_j u_{n_j} . v_c)``, ``s_j = 1 - 2 b_j``, so that the two branches sum to one::

      loss = -sum_j log sigma(s_j u_{n_j} . v_c)

Frequent words are subsampled (``keep_probabilities``): with ``f(w) = count(w) / total`` a
word is **discarded** with probability ``1 - sqrt(t / f(w))``, i.e. kept with probability
``min(1, sqrt(t / f(w)))`` (the paper's formula; the C tool uses a slightly different one).

Losses are averaged over the pairs of a batch. As in the C tool, the center vectors start
uniform in ``[-0.5 / D, 0.5 / D)`` and the context / inner-node vectors at zero.
"""

import heapq
from collections import namedtuple

import numpy as np

from .. import _creation
from ..nn import Embedding, Module, init
from ..nn import functional as F
from ..tensor import Tensor

__all__ = ["HuffmanTree", "huffman_tree", "noise_distribution", "keep_probabilities",
           "skipgram_pairs", "SkipGramPairs", "SkipGramNegativeSampling",
           "SkipGramHierarchicalSoftmax"]

HuffmanTree = namedtuple("HuffmanTree", "paths codes lengths")
HuffmanTree.__doc__ = """A Huffman tree over ``V`` words, as root-to-leaf paths.

``paths[w, j]`` is the inner node (0 .. V - 2, the root is V - 2) at depth ``j`` of word
``w``'s path and ``codes[w, j]`` the bit (0 / 1) of the branch taken there; both are padded
with 0 after ``lengths[w]`` entries (int64 arrays of shape (V, max length) and (V,))."""


def _check_freqs(freqs, name, minimum=1):
    counts = np.asarray(freqs, dtype=np.float64)
    if counts.ndim != 1 or counts.size < minimum:
        raise ValueError(f"{name}(freqs=) must be a 1-D sequence of at least {minimum} word "
                         f"counts, got shape {counts.shape}")
    if not np.isfinite(counts).all() or (counts < 0).any() or counts.sum() <= 0:
        raise ValueError(f"{name}(freqs=) must be finite, non-negative counts with a positive "
                         f"sum")
    return counts


def huffman_tree(freqs):
    """The Huffman tree of the word counts ``freqs`` (``HuffmanTree``; ``V >= 2`` words).

    The two least frequent nodes are merged first (ties: the earlier made node first); the
    less frequent of the two gets bit 0, the other bit 1. Inner node ``i`` is the ``i``-th
    merge, so the root is ``V - 2``. Frequent words get short codes: the expected code
    length ``sum_w f(w) len(w)`` is the smallest of all prefix codes.
    """
    counts = _check_freqs(freqs, "huffman_tree", minimum=2)
    v = len(counts)
    heap = [(count, node) for node, count in enumerate(counts)]
    heapq.heapify(heap)
    parent = np.zeros(2 * v - 1, dtype=np.int64)
    bit = np.zeros(2 * v - 1, dtype=np.int64)
    for inner in range(v - 1):
        count0, node0 = heapq.heappop(heap)
        count1, node1 = heapq.heappop(heap)
        parent[[node0, node1]] = v + inner
        bit[node1] = 1
        heapq.heappush(heap, (count0 + count1, v + inner))
    # Walk down from the root: a child's path is its parent's path plus the parent.
    path_of = {2 * v - 2: ([], [])}
    for node in range(2 * v - 3, -1, -1):
        nodes, bits = path_of[parent[node]]
        path_of[node] = (nodes + [parent[node] - v], bits + [bit[node]])
    lengths = np.array([len(path_of[w][0]) for w in range(v)], dtype=np.int64)
    paths = np.zeros((v, lengths.max()), dtype=np.int64)
    codes = np.zeros((v, lengths.max()), dtype=np.int64)
    for w in range(v):
        paths[w, :lengths[w]], codes[w, :lengths[w]] = path_of[w]
    return HuffmanTree(paths, codes, lengths)


def noise_distribution(freqs, power=0.75):
    """The negative-sampling distribution ``P_n(w) = count(w)**power / sum``."""
    weights = _check_freqs(freqs, "noise_distribution") ** float(power)
    return weights / weights.sum()


def keep_probabilities(freqs, t=1e-4):
    """Per word, the probability ``min(1, sqrt(t / f(w)))`` of keeping it when subsampling.

    ``f(w) = count(w) / sum of counts``; words with ``f(w) <= t`` are always kept. ``t=0``
    (or None) turns subsampling off: every word is kept.
    """
    counts = _check_freqs(freqs, "keep_probabilities")
    if t is None or t == 0:
        return np.ones_like(counts)
    if not t > 0:
        raise ValueError(f"keep_probabilities(t=) must be >= 0, got {t}")
    f = counts / counts.sum()
    with np.errstate(divide="ignore"):
        return np.minimum(1.0, np.sqrt(t / f))


def _check_window(name, window):
    if isinstance(window, bool) or not isinstance(window, (int, np.integer)) or window < 1:
        raise ValueError(f"{name}(window=) must be an int >= 1, got {window!r}")


def skipgram_pairs(ids, doc_ids, window, rng=None, dynamic=True):
    """All ``(center, context)`` id pairs of a token stream, as two int64 arrays.

    ``ids[i]`` is the token at position ``i`` and ``doc_ids[i]`` the document (sentence,
    paragraph) it belongs to: pairs never join two documents. The context of position ``i``
    is the positions ``i +- d``, ``1 <= d <= r_i``: ``r_i = window`` (``dynamic=False``) or,
    as in the C tool, drawn uniformly from ``1 .. window`` for every center (``dynamic``, from
    ``rng``), which weights near words more. Pairs come ordered by offset ``d``.
    """
    ids, doc_ids = np.asarray(ids, dtype=np.int64), np.asarray(doc_ids)
    if ids.shape != doc_ids.shape or ids.ndim != 1:
        raise ValueError(f"skipgram_pairs: ids and doc_ids must be 1-D of one length, got "
                         f"shapes {ids.shape} and {doc_ids.shape}")
    _check_window("skipgram_pairs", window)
    n = len(ids)
    if dynamic:
        rng = np.random.default_rng() if rng is None else rng
        reach = rng.integers(1, window + 1, size=n)
    else:
        reach = np.full(n, window)
    centers, contexts = [], []
    for d in range(1, min(window, max(n - 1, 0)) + 1):
        left = np.arange(n - d)
        right = left + d
        same = doc_ids[left] == doc_ids[right]
        forward = same & (reach[left] >= d)    # center i, context i + d
        backward = same & (reach[right] >= d)  # center i + d, context i
        centers += [ids[left[forward]], ids[right[backward]]]
        contexts += [ids[right[forward]], ids[left[backward]]]
    if not centers:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    return np.concatenate(centers), np.concatenate(contexts)


def _as_documents(documents):
    if isinstance(documents, Tensor):
        documents = documents.numpy()
    if isinstance(documents, np.ndarray) and documents.ndim == 1:
        documents = [documents]
    elif documents and np.ndim(documents[0]) == 0:
        documents = [documents]
    arrays = [np.asarray(doc, dtype=np.int64).reshape(-1) for doc in documents]
    arrays = [a for a in arrays if a.size]
    if not arrays:
        raise ValueError("SkipGramPairs: the documents hold no tokens")
    ids = np.concatenate(arrays)
    doc_ids = np.repeat(np.arange(len(arrays)), [len(a) for a in arrays])
    return ids, doc_ids


class SkipGramPairs:
    """Shuffled mini-batches of ``(center, context)`` int64 Tensors, one epoch per ``iter()``.

    Args:
        documents: token-id sequences (lists, arrays) that no pair crosses, or one sequence.
        window: the largest distance between a center and its context words.
        batch_size: pairs per batch (the last batch may be smaller).
        keep_probs: per vocabulary id, the probability of keeping a token (subsampling,
            ``keep_probabilities``), drawn afresh every epoch before the windows are cut:
            dropped tokens vanish, so the window reaches past them (as in the C tool).
            ``None``: keep every token.
        dynamic_window: draw every center's window from ``1 .. window`` (``skipgram_pairs``).
        shuffle: shuffle the pairs of every epoch.
        seed: epoch ``e`` draws its subsampling, windows and order from
            ``numpy.random.default_rng((seed, e))``, so every run is reproducible.

    ``len()`` is the number of batches of the coming epoch (drawn then and kept for it);
    ``epoch_pairs(e)`` gives the pair arrays of epoch ``e``.
    """

    def __init__(self, documents, window=5, batch_size=1024, keep_probs=None,
                 dynamic_window=True, shuffle=True, seed=0):
        self.ids, self.doc_ids = _as_documents(documents)
        if self.ids.min() < 0:
            raise ValueError("SkipGramPairs: token ids must be non-negative")
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"SkipGramPairs(batch_size=) must be an int >= 1, got "
                             f"{batch_size!r}")
        if keep_probs is not None:
            keep_probs = np.asarray(keep_probs, dtype=np.float64)
            if keep_probs.ndim != 1 or len(keep_probs) <= self.ids.max():
                raise ValueError(f"SkipGramPairs(keep_probs=) must hold one probability per "
                                 f"vocabulary id (at least {self.ids.max() + 1}), got shape "
                                 f"{keep_probs.shape}")
        _check_window("SkipGramPairs", window)
        self.window, self.batch_size, self.keep_probs = window, batch_size, keep_probs
        self.dynamic_window, self.shuffle, self.seed = dynamic_window, shuffle, seed
        self.epoch = 0
        self._cache = None

    def epoch_pairs(self, epoch):
        """``(centers, contexts)`` int64 arrays of epoch ``epoch`` (shuffled if asked)."""
        if self._cache is not None and self._cache[0] == epoch:
            return self._cache[1]
        rng = np.random.default_rng((self.seed, epoch))
        ids, doc_ids = self.ids, self.doc_ids
        if self.keep_probs is not None:
            kept = rng.random(len(ids)) < self.keep_probs[ids]
            ids, doc_ids = ids[kept], doc_ids[kept]
        pairs = skipgram_pairs(ids, doc_ids, self.window, rng, self.dynamic_window)
        if self.shuffle:
            order = rng.permutation(len(pairs[0]))
            pairs = (pairs[0][order], pairs[1][order])
        self._cache = (epoch, pairs)
        return pairs

    def __len__(self):
        n = len(self.epoch_pairs(self.epoch)[0])
        return -(-n // self.batch_size)

    def __iter__(self):
        epoch = self.epoch
        self.epoch += 1
        centers, contexts = self.epoch_pairs(epoch)
        for start in range(0, len(centers), self.batch_size):
            stop = start + self.batch_size
            yield (_creation.from_numpy(centers[start:stop]),
                   _creation.from_numpy(contexts[start:stop]))


def _check_sizes(name, vocab_size, embed_dim, minimum_vocab):
    for arg, value, low in (("vocab_size", vocab_size, minimum_vocab),
                            ("embed_dim", embed_dim, 1)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
            raise ValueError(f"{name}({arg}=) must be an int >= {low}, got {value!r}")


def _check_ids(name, tensor, vocab_size):
    if not isinstance(tensor, Tensor) or tensor.dtype.is_floating_point:
        raise TypeError(f"{name} must be an integer Tensor of word ids")
    a = tensor.numpy()
    if a.size and (a.min() < 0 or a.max() >= vocab_size):
        raise IndexError(f"{name} holds ids outside [0, {vocab_size})")


class _SkipGram(Module):
    """The center-vector table shared by both objectives."""

    def __init__(self, vocab_size, embed_dim, output_name, output_rows):
        super().__init__()
        self.vocab_size, self.embed_dim = int(vocab_size), int(embed_dim)
        self.center = Embedding(vocab_size, embed_dim)
        self._output_name = output_name
        setattr(self, output_name, Embedding(output_rows, embed_dim))
        self.reset_parameters()

    def output_embedding(self):
        """The output table: context vectors (negative sampling) or inner nodes (softmax)."""
        return getattr(self, self._output_name)

    def reset_parameters(self):
        """Center vectors ~ U[-0.5 / D, 0.5 / D), output vectors 0 (the C tool's start)."""
        bound = 0.5 / self.embed_dim
        init.uniform_(self.center.weight, -bound, bound)
        init.zeros_(self.output_embedding().weight)

    def embeddings(self):
        """The center vectors, ``(vocab_size, embed_dim)``, detached (the word vectors)."""
        return self.center.weight.detach().clone()

    def _scores(self, center, rows):
        """``u_r . v_c`` for every row id ``rows[b, j]`` against center ``center[b]``."""
        v = self.center(center)                   # (B, D)
        u = self.output_embedding()(rows)         # (B, J, D)
        return (u @ v.unsqueeze(-1)).squeeze(-1)  # (B, J)

    def extra_repr(self):
        return f"{self.vocab_size}, {self.embed_dim}"


class SkipGramNegativeSampling(_SkipGram):
    """Skip-gram with negative sampling: ``-log sigma(u_o.v_c) - sum_k log sigma(-u_k.v_c)``.

    Args:
        vocab_size: number of words ``V``.
        embed_dim: vector size ``D``.
        freqs: the ``V`` word counts for the noise distribution ``count ** power``
            (None: uniform noise).
        negatives: noise words ``K`` per pair.
        power: the exponent of the noise distribution (3/4 in the paper).

    ``center`` holds the center vectors ``v``, ``context`` the context vectors ``u``.
    ``forward(center, context, negatives=None)`` returns the loss averaged over the ``B``
    pairs; ``negatives`` (``B x K`` ids) defaults to ``sample_negatives(B)``. A noise word
    that equals the pair's context word is left out of the sum (the C tool skips it too).
    """

    def __init__(self, vocab_size, embed_dim, freqs=None, negatives=5, power=0.75):
        _check_sizes("SkipGramNegativeSampling", vocab_size, embed_dim, 1)
        if isinstance(negatives, bool) or not isinstance(negatives, int) or negatives < 1:
            raise ValueError(f"SkipGramNegativeSampling(negatives=) must be an int >= 1, got "
                             f"{negatives!r}")
        freqs = np.ones(vocab_size) if freqs is None else freqs
        if len(freqs) != vocab_size:
            raise ValueError(f"SkipGramNegativeSampling(freqs=) has {len(freqs)} counts for "
                             f"vocab_size={vocab_size}")
        super().__init__(vocab_size, embed_dim, "context", vocab_size)
        self.negatives, self.power = negatives, float(power)
        noise = noise_distribution(freqs, power).astype(np.float32)
        self.register_buffer("noise", _creation.from_numpy(noise), persistent=False)

    def sample_negatives(self, n, generator=None):
        """``n x K`` noise word ids drawn from ``noise`` (with replacement)."""
        draws = _creation.multinomial(self.noise, n * self.negatives, replacement=True,
                                      generator=generator)
        return draws.reshape(n, self.negatives)

    def forward(self, center, context, negatives=None):
        _check_ids("SkipGramNegativeSampling: center", center, self.vocab_size)
        _check_ids("SkipGramNegativeSampling: context", context, self.vocab_size)
        if center.shape != context.shape or center.ndim != 1:
            raise ValueError(f"SkipGramNegativeSampling: center and context must be 1-D of "
                             f"one length, got {list(center.shape)} and {list(context.shape)}")
        if negatives is None:
            negatives = self.sample_negatives(len(center))
        _check_ids("SkipGramNegativeSampling: negatives", negatives, self.vocab_size)
        if negatives.ndim != 2 or negatives.shape[0] != len(center):
            raise ValueError(f"SkipGramNegativeSampling: negatives must be (B, K) with "
                             f"B={len(center)}, got {list(negatives.shape)}")
        rows = np.concatenate([context.numpy().reshape(-1, 1), negatives.numpy()], 1)
        rows = rows.astype(np.int64)
        scores = self._scores(center, _creation.from_numpy(rows))  # (B, 1 + K)
        signs = np.full(rows.shape, -1.0, dtype=np.float32)
        signs[:, 0] = 1.0
        # A noise word equal to the context word is no negative: its term is left out.
        weights = np.ones(rows.shape, dtype=np.float32)
        weights[:, 1:] = rows[:, 1:] != rows[:, :1]
        terms = F.logsigmoid(scores * _creation.from_numpy(signs).to(scores.dtype))
        return -(terms * _creation.from_numpy(weights).to(scores.dtype)).sum(1).mean()

    def extra_repr(self):
        return f"{super().extra_repr()}, negatives={self.negatives}"


class SkipGramHierarchicalSoftmax(_SkipGram):
    """Skip-gram with a hierarchical softmax over the Huffman tree of ``freqs``.

    Args:
        vocab_size: number of words ``V`` (at least 2).
        embed_dim: vector size ``D``.
        freqs: the ``V`` word counts the tree is built from (``huffman_tree``).

    ``center`` holds the center vectors, ``nodes`` the ``V - 1`` inner-node vectors.
    ``forward(center, context)`` returns ``-log p(context | center)`` averaged over the
    pairs; ``log_prob(center)`` gives ``log p(w | center)`` for every word ``w``.
    """

    def __init__(self, vocab_size, embed_dim, freqs):
        _check_sizes("SkipGramHierarchicalSoftmax", vocab_size, embed_dim, 2)
        if len(freqs) != vocab_size:
            raise ValueError(f"SkipGramHierarchicalSoftmax(freqs=) has {len(freqs)} counts "
                             f"for vocab_size={vocab_size}")
        super().__init__(vocab_size, embed_dim, "nodes", vocab_size - 1)
        tree = huffman_tree(freqs)
        signs = np.where(np.arange(tree.paths.shape[1]) < tree.lengths[:, None],
                         1.0 - 2.0 * tree.codes, 0.0).astype(np.float32)
        self.register_buffer("paths", _creation.from_numpy(tree.paths), persistent=False)
        self.register_buffer("signs", _creation.from_numpy(signs), persistent=False)
        self.register_buffer("lengths", _creation.from_numpy(tree.lengths), persistent=False)

    def _path_log_prob(self, scores, signs):
        """``sum_j log sigma(s_j score_j)`` over the valid (``s_j != 0``) path entries."""
        mask = (signs != 0).to(scores.dtype)
        return (F.logsigmoid(scores * signs.to(scores.dtype)) * mask).sum(-1)

    def forward(self, center, context):
        _check_ids("SkipGramHierarchicalSoftmax: center", center, self.vocab_size)
        _check_ids("SkipGramHierarchicalSoftmax: context", context, self.vocab_size)
        if center.shape != context.shape or center.ndim != 1:
            raise ValueError(f"SkipGramHierarchicalSoftmax: center and context must be 1-D "
                             f"of one length, got {list(center.shape)} and "
                             f"{list(context.shape)}")
        words = context.numpy().astype(np.int64)
        depth = int(self.lengths.numpy()[words].max()) if words.size else 1
        paths = _creation.from_numpy(self.paths.numpy()[words, :depth])
        signs = _creation.from_numpy(self.signs.numpy()[words, :depth])
        return -self._path_log_prob(self._scores(center, paths), signs).mean()

    def log_prob(self, center):
        """``log p(w | c)`` for every center ``c`` in ``center`` (B) and word ``w``: (B, V)."""
        _check_ids("SkipGramHierarchicalSoftmax: center", center, self.vocab_size)
        scores = self.center(center) @ self.nodes.weight.t()   # (B, V - 1)
        paths = self.paths.numpy()
        per_word = scores[:, _creation.from_numpy(paths.reshape(-1))]
        per_word = per_word.reshape(len(center), *paths.shape)  # (B, V, L)
        return self._path_log_prob(per_word, self.signs)
