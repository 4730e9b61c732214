"""Translation pairs as model inputs: ``TranslationCodec`` (text <-> ids for both sides)
and ``PairBatches`` (padded batches with teacher-forcing inputs) over the bundled
``dates`` and ``en-es`` data sets (``minidl.text.datasets``)."""

from ..utils.data.index_batches import IndexBatches
from .padding import pad_batch
from .seq2seq import teacher_forcing_inputs
from .tokenizers import CharTokenizer, WordTokenizer
from .vocab import Vocab

__all__ = ["TranslationCodec", "PairBatches", "load_pairs", "TOKENIZERS"]

TOKENIZERS = {"dates": "char", "en-es": "word"}


def load_pairs(data, split):
    """The ``(source, target)`` pairs of a split of ``dates`` or ``en-es``."""
    from . import datasets
    return datasets.dates(split) if data == "dates" else datasets.en_es_pairs(split)


def _tokenizer(kind):
    return CharTokenizer() if kind == "char" else WordTokenizer(lower=True)


class TranslationCodec:
    """Text <-> ids for both sides: the tokenizers (``'char'`` / ``'word'``), the source and
    target vocabularies and ``max_len`` (tokens per sequence, ``<eos>`` included)."""

    def __init__(self, src_kind, tgt_kind, src_vocab, tgt_vocab, max_len):
        self.src_kind, self.tgt_kind = src_kind, tgt_kind
        self.src_tok, self.tgt_tok = _tokenizer(src_kind), _tokenizer(tgt_kind)
        self.src_vocab, self.tgt_vocab, self.max_len = src_vocab, tgt_vocab, max_len

    @classmethod
    def from_pairs(cls, pairs, src_kind, tgt_kind, min_freq, max_len):
        src_tok, tgt_tok = _tokenizer(src_kind), _tokenizer(tgt_kind)
        return cls(src_kind, tgt_kind, Vocab([src_tok.tokenize(s) for s, _ in pairs], min_freq),
                   Vocab([tgt_tok.tokenize(t) for _, t in pairs], min_freq), max_len)

    def _ids(self, vocab, tokens):
        return vocab.lookup_indices(tokens[:self.max_len - 1]) + [vocab.eos_index]

    def source_ids(self, text):
        return self._ids(self.src_vocab, self.src_tok.tokenize(text))

    def target_ids(self, text):
        return self._ids(self.tgt_vocab, self.tgt_tok.tokenize(text))

    def source_tokens(self, text):
        return self.src_tok.tokenize(text)[:self.max_len - 1] + ["<eos>"]

    def target_text(self, ids):
        return self.tgt_tok.detokenize(self.tgt_vocab.lookup_tokens(ids))

    def reference(self, text):
        """``text`` as a translation can write it (lower-cased words, re-spaced)."""
        return self.tgt_tok.detokenize(self.tgt_tok.tokenize(text))

    def config(self):
        return {"src_tokenizer": self.src_kind, "tgt_tokenizer": self.tgt_kind,
                "src_itos": self.src_vocab.itos, "tgt_itos": self.tgt_vocab.itos,
                "max_len": self.max_len}

    @classmethod
    def from_config(cls, c):
        specials = ("<unk>", "<pad>", "<bos>", "<eos>")

        def vocab(itos):
            if tuple(itos[:4]) != specials:
                raise ValueError(f"the checkpoint's vocabulary does not start with {specials}")
            return Vocab(itos[4:], specials=specials)
        return cls(c["src_tokenizer"], c["tgt_tokenizer"], vocab(c["src_itos"]),
                   vocab(c["tgt_itos"]), c["max_len"])


class PairBatches(IndexBatches):
    """Batches of ``(src, src_len, dec_in, tgt, tgt_len, index)`` from id lists, padded to
    the longest sequence of each batch. ``shuffle`` deals a new seeded order every epoch;
    ``references`` (target strings) and ``beam_size`` (1: greedy) serve the evaluation."""

    def __init__(self, sources, targets, batch_size, codec, shuffle=False, seed=0,
                 references=None, beam_size=1):
        super().__init__(len(sources), batch_size, shuffle, seed)
        self.sources, self.targets, self.codec = sources, targets, codec
        self.references, self.beam_size = references, beam_size

    def __iter__(self):
        src_pad, tgt = self.codec.src_vocab.pad_index, self.codec.tgt_vocab
        for index in self.batch_indices():
            src, src_len = pad_batch([self.sources[i] for i in index], src_pad)
            y, y_len = pad_batch([self.targets[i] for i in index], tgt.pad_index)
            yield src, src_len, teacher_forcing_inputs(y, tgt.bos_index), y, y_len, index
