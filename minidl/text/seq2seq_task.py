"""Sequence-to-sequence translation from the command line: ``minidl train seq2seq`` and
``minidl translate``.

    minidl train seq2seq --data dates              # "the 3rd of March 1998" -> "1998-03-03"
    minidl train seq2seq --data en-es --no-attention --epochs 20
    minidl translate runs/seq2seq-dates-.../best.safetensors "friday 13 may 2011" \\
        --beam-size 4 --heatmap attention.png

Data (``minidl.text.datasets``): ``dates`` (characters in, characters out) and ``en-es``
(English -> Spanish, lower-cased ``WordTokenizer`` words; tokens seen fewer than
``--min-freq`` times in the training split become ``<unk>``). Both vocabularies come from
the training split only. A sequence is its tokens, cut to ``--max-len - 1``, and ``<eos>``;
``--max-len`` also bounds the length of a decoded translation.

Model: ``Seq2SeqEncoder`` + ``AttentionDecoder`` (Bahdanau attention), or with
``--no-attention`` the plain ``Seq2SeqDecoder`` (fixed context). Training: teacher forcing,
``MaskedCrossEntropyLoss`` (mean per valid target token), Adam with a cosine decay per step,
gradients clipped to norm 1. Every epoch the validation split is translated greedily:
``val_exact`` (share of exact translations) and ``val_bleu`` (sacrebleu-style corpus BLEU,
0-100) are logged; model selection takes the best ``val_exact`` (dates) or ``val_bleu``
(en-es), and ``--patience`` stops on the validation loss. At the end the selected weights
translate the test split once with beam search (``--beam-size``), and one decoded test
sentence's attention is drawn into ``attention.png``. BLEU compares the lower-cased,
re-tokenized reference with the detokenized translation.
"""
import argparse
import os
import sys
import time

import numpy as np

from .. import optim
from .._creation import from_numpy
from ..autograd import no_grad
from ..backend import manual_seed
from ..train.arguments import number, positive_int
from ..train.tasks import (
    Command,
    Task,
    add_training_arguments,
    default_out_dir,
    load_task_checkpoint,
    register_command,
    register_task,
)
from ..train.trainer import Trainer
from .bleu import bleu_score
from .decoding import beam_search, force_decode, greedy_decode
from .padding import pad_batch
from .seq2seq import (
    AttentionDecoder,
    EncoderDecoder,
    MaskedCrossEntropyLoss,
    Seq2SeqDecoder,
    Seq2SeqEncoder,
    teacher_forcing_inputs,
)
from .tokenizers import CharTokenizer, WordTokenizer
from .vocab import Vocab

__all__ = ["PairBatches", "Seq2SeqTrainer", "TranslationCodec", "build_seq2seq",
           "load_translator", "plot_attention", "DATA_DEFAULTS"]

# Defaults per data set, tuned on the validation splits (see the README).
DATA_DEFAULTS = {
    "dates": {"epochs": 3, "batch_size": 128, "lr": 5e-3, "embed_size": 32,
              "hidden_size": 128, "num_layers": 1, "dropout": 0.0, "max_len": 40,
              "min_freq": 1},
    "en-es": {"epochs": 20, "batch_size": 64, "lr": 5e-3, "embed_size": 128,
              "hidden_size": 256, "num_layers": 1, "dropout": 0.2, "max_len": 45,
              "min_freq": 2},
}
TOKENIZERS = {"dates": "char", "en-es": "word"}
EVAL_BATCH_SIZE = 250
LENGTH_ALPHA = 0.75


def _load_pairs(data, split):
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


class PairBatches:
    """Batches of ``(src, src_len, dec_in, tgt, tgt_len, index)`` from id lists, padded to
    the longest sequence of each batch. ``shuffle`` deals a new seeded order every epoch;
    ``references`` (target strings) and ``beam_size`` (1: greedy) serve the evaluation."""

    def __init__(self, sources, targets, batch_size, codec, shuffle=False, seed=0,
                 references=None, beam_size=1):
        self.sources, self.targets, self.codec = sources, targets, codec
        self.batch_size, self.shuffle, self.seed = batch_size, shuffle, seed
        self.references, self.beam_size = references, beam_size
        self.epoch = 0

    def __len__(self):
        return -(-len(self.sources) // self.batch_size)

    def __iter__(self):
        n = len(self.sources)
        order = np.arange(n)
        if self.shuffle:
            order = np.random.default_rng((self.seed, self.epoch)).permutation(n)
            self.epoch += 1
        src_pad, tgt = self.codec.src_vocab.pad_index, self.codec.tgt_vocab
        for start in range(0, n, self.batch_size):
            index = order[start:start + self.batch_size]
            src, src_len = pad_batch([self.sources[i] for i in index], src_pad)
            y, y_len = pad_batch([self.targets[i] for i in index], tgt.pad_index)
            yield src, src_len, teacher_forcing_inputs(y, tgt.bos_index), y, y_len, index


class Seq2SeqTrainer(Trainer):
    """``Trainer`` for an ``EncoderDecoder`` on ``PairBatches``: the masked loss per target
    token; evaluation adds ``exact`` and ``bleu`` of the decoded loader (greedy, or beam
    search when the loader's ``beam_size`` > 1)."""

    unit = "tokens"

    def __init__(self, model, optimizer, codec, train_loader=None, val_loader=None, **kwargs):
        super().__init__(model, optimizer, MaskedCrossEntropyLoss(), train_loader, val_loader,
                         **kwargs)
        self.codec = codec

    def training_step(self, batch):
        src, src_len, dec_in, y, y_len, _ = batch
        logits = self.model(src, dec_in, src_len)
        return {"loss": self.loss_fn(logits, y, y_len), "n": int(y_len.sum()), "correct": None}

    def translate(self, src, src_len, beam_size=1):
        tgt = self.codec.tgt_vocab
        if beam_size == 1:
            ids, _ = greedy_decode(self.model, src, src_len, tgt.bos_index, tgt.eos_index,
                                   self.codec.max_len)
        else:
            ids, _ = beam_search(self.model, src, src_len, tgt.bos_index, tgt.eos_index,
                                 self.codec.max_len, beam_size, LENGTH_ALPHA)
        return [self.codec.target_text(i) for i in ids]

    def evaluate_loader(self, loader):
        was_training = self.model.training
        self.model.eval()
        total, n, hyps = 0.0, 0, {}
        try:
            for src, src_len, dec_in, y, y_len, index in loader:
                with no_grad():
                    logits = self.model(src, dec_in, src_len)
                    m = int(y_len.sum())
                    total += float(self.loss_fn(logits, y, y_len).item()) * m
                n += m
                hyps.update(zip(index.tolist(), self.translate(src, src_len, loader.beam_size)))
        finally:
            self.model.train(was_training)
        hyps = [hyps[i] for i in range(len(loader.references))]
        exact = float(np.mean([h == r for h, r in zip(hyps, loader.references)]))
        return {"loss": total / n, "acc": None, "n": n, "exact": exact,
                "bleu": bleu_score(hyps, loader.references)}


def build_seq2seq(src_vocab_size, tgt_vocab_size, embed_size, hidden_size, num_layers,
                  dropout, attention):
    """The encoder-decoder of the task (its arguments are the checkpoint's ``model``)."""
    args = (embed_size, hidden_size, num_layers, dropout)
    decoder = (AttentionDecoder if attention else Seq2SeqDecoder)(tgt_vocab_size, *args)
    return EncoderDecoder(Seq2SeqEncoder(src_vocab_size, *args), decoder)


def plot_attention(weights, src_tokens, out_tokens, path, title=None):
    """Draw attention ``weights`` (output steps x source positions) as a heatmap PNG."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    rows, cols = weights.shape
    fig = Figure(figsize=(max(4.0, 0.3 * cols + 2), max(3.0, 0.3 * rows + 1.5)), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    image = ax.imshow(weights, cmap="viridis", vmin=0.0, vmax=1.0, aspect="auto")
    ax.set_xticks(range(cols), [repr(t)[1:-1] or " " for t in src_tokens[:cols]],
                  rotation=90, fontsize=8)
    ax.set_yticks(range(rows), list(out_tokens[:rows]), fontsize=8)
    ax.set_xlabel("source")
    ax.set_ylabel("translation")
    if title:
        ax.set_title(title, fontsize=9)
    fig.colorbar(image, ax=ax)
    fig.tight_layout()
    fig.savefig(path)


def _plot_translation(codec, source, ids, weights, path):
    """The heatmap of translation ``ids`` of ``source``: its attention ``weights`` (one row
    per output token, ``<eos>`` included)."""
    plot_attention(weights, codec.source_tokens(source),
                   codec.tgt_vocab.lookup_tokens(ids) + ["<eos>"], path,
                   f"{source} -> {codec.target_text(ids)}")


# ------------------------------------------------------------ minidl train seq2seq
def _dropout(text):
    p = number(float, 0.0, "a dropout probability 0 <= p < 1")(text)
    if p >= 1:
        raise argparse.ArgumentTypeError(f"expected a dropout probability 0 <= p < 1, got {p}")
    return p


def _add_arguments(parser):
    add_training_arguments(parser, {"epochs": 0, "batch_size": 0, "lr": 0.0})
    parser.set_defaults(epochs=None, batch_size=None, lr=None)
    for action in parser._actions:  # the shared options' defaults depend on --data
        if action.dest in ("epochs", "batch_size", "lr"):
            action.help = action.help.split(" (default")[0] + " (default: " + ", ".join(
                f"{d} {v[action.dest]:g}" for d, v in DATA_DEFAULTS.items()) + ")"
    parser.add_argument("--data", choices=tuple(DATA_DEFAULTS), default="dates",
                        help="dates: human-written dates -> ISO 8601 (characters, default); "
                             "en-es: English -> Spanish verses (words)")
    parser.add_argument("--no-attention", action="store_true",
                        help="the plain GRU decoder with a fixed context (no attention)")
    for name, kind, help_text in (
            ("embed_size", positive_int, "token embedding size"),
            ("hidden_size", positive_int, "GRU state size"),
            ("num_layers", positive_int, "stacked GRU layers"),
            ("dropout", _dropout, "dropout on embeddings, attention weights, between "
                                  "layers and before the output layer"),
            ("max_len", number(int, 2, "an integer >= 2"),
             "tokens per sequence, <eos> included (longer ones are cut), and the longest "
             "translation decoded"),
            ("min_freq", positive_int, "keep tokens seen this often in the training split")):
        defaults = ", ".join(f"{d} {v[name]:g}" for d, v in DATA_DEFAULTS.items())
        parser.add_argument("--" + name.replace("_", "-"), type=kind,
                            help=f"{help_text} (default: {defaults})")
    parser.add_argument("--beam-size", type=positive_int, default=4,
                        help="beam width of the final test translation (default 4; 1: greedy)")
    parser.add_argument("--limit", type=positive_int, metavar="N",
                        help="train on the first N training pairs only (quick checks)")


def _run(args):
    prog = "minidl train seq2seq"
    t0 = time.perf_counter()
    d = DATA_DEFAULTS[args.data]
    for key in d:
        if getattr(args, key) is None:
            setattr(args, key, d[key])
    train_pairs = _load_pairs(args.data, "train")[:args.limit]
    val_pairs, test_pairs = _load_pairs(args.data, "val"), _load_pairs(args.data, "test")
    kind = TOKENIZERS[args.data]
    codec = TranslationCodec.from_pairs(train_pairs, kind, kind, args.min_freq, args.max_len)

    def loader(pairs, batch_size, **kw):
        return PairBatches([codec.source_ids(s) for s, _ in pairs],
                           [codec.target_ids(t) for _, t in pairs], batch_size, codec, **kw)
    train = loader(train_pairs, args.batch_size, shuffle=True, seed=args.seed)
    val = loader(val_pairs, EVAL_BATCH_SIZE, references=[codec.reference(t) for _, t in val_pairs])
    test = loader(test_pairs, EVAL_BATCH_SIZE, beam_size=args.beam_size,
                  references=[codec.reference(t) for _, t in test_pairs])
    manual_seed(args.seed)
    model_kwargs = {"src_vocab_size": len(codec.src_vocab),
                    "tgt_vocab_size": len(codec.tgt_vocab), "embed_size": args.embed_size,
                    "hidden_size": args.hidden_size, "num_layers": args.num_layers,
                    "dropout": args.dropout, "attention": not args.no_attention}
    model = build_seq2seq(**model_kwargs)
    optimizer = optim.Adam(model.parameters(), lr=args.lr)
    scheduler = optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=args.epochs * len(train))
    monitor = "val_exact" if args.data == "dates" else "val_bleu"
    config = {"task": "seq2seq", "data": args.data, "codec": codec.config(),
              "model": model_kwargs, "epochs": args.epochs, "batch_size": args.batch_size,
              "lr": args.lr, "optimizer": "adam", "scheduler": "cosine per step",
              "clip": 1.0, "min_freq": args.min_freq, "seed": args.seed,
              "beam_size": args.beam_size, "length_alpha": LENGTH_ALPHA,
              "limit": args.limit, "monitor": monitor}
    out = args.out or default_out_dir("seq2seq", args.data)
    n_params = sum(p.numel() for p in model.parameters())
    print(f"{prog}: data {args.data} ({len(train_pairs)} / {len(val_pairs)} / "
          f"{len(test_pairs)} train / val / test pairs, vocabularies {len(codec.src_vocab)} / "
          f"{len(codec.tgt_vocab)}), GRU {args.num_layers} x {args.hidden_size} "
          f"{'without' if args.no_attention else 'with'} attention, {n_params} parameters, "
          f"{args.epochs} epochs, batch {args.batch_size}, adam lr {args.lr:g}, "
          f"dropout {args.dropout:g}, seed {args.seed}", flush=True)
    print(f"output folder: {out}", flush=True)
    trainer = Seq2SeqTrainer(
        model, optimizer, codec, train, val, test_loader=test, scheduler=scheduler,
        scheduler_interval="step", out_dir=out, progress=not args.no_progress, config=config,
        early_stopping_patience=args.patience, monitor=monitor, mode="max",
        clip_grad_norm=1.0)
    trainer.fit(args.epochs)
    best, test_m = trainer.best_metrics, trainer.test_metrics
    model.load_state_dict(trainer.best_state())
    source = test_pairs[0][0]
    src = codec.source_ids(source)
    ids, weights = greedy_decode(model, from_numpy(np.array([src])), [len(src)],
                                 codec.tgt_vocab.bos_index, codec.tgt_vocab.eos_index,
                                 codec.max_len)
    heatmap = ""
    if weights is not None:
        _plot_translation(codec, source, ids[0], weights[0], os.path.join(out, "attention.png"))
        heatmap = ", attention heatmap"
    print(f"example (test): {source!r} -> {codec.target_text(ids[0])!r} (reference "
          f"{test_pairs[0][1]!r})")
    print(f"done in {time.perf_counter() - t0:.1f}s: selected epoch {trainer.best_epoch} of "
          f"{trainer.epoch} (val exact {100 * best['val_exact']:.2f}%, val BLEU "
          f"{best['val_bleu']:.2f}); test with beam {args.beam_size}: exact "
          f"{100 * test_m['exact']:.2f}%, BLEU {test_m['bleu']:.2f}, loss {test_m['loss']:.4f};"
          f" checkpoints, metrics, curves{heatmap} in {out}")
    return 0


register_task(Task("seq2seq", "GRU encoder-decoder translation with Bahdanau attention "
                              "(dates -> ISO, English -> Spanish), BLEU", _add_arguments, _run))


# ------------------------------------------------------------ minidl translate
def load_translator(path):
    """``(model, codec, checkpoint)`` rebuilt from a ``minidl train seq2seq`` checkpoint."""
    ckpt, config = load_task_checkpoint(path, "seq2seq")
    model = build_seq2seq(**config["model"])
    model.load_state_dict(ckpt["model"])
    return model, TranslationCodec.from_config(config["codec"]), ckpt


def _translate_arguments(parser):
    parser.add_argument("checkpoint", metavar="CHECKPOINT",
                        help="a .safetensors file written by 'minidl train seq2seq'")
    parser.add_argument("source", metavar="SOURCE", help="the text to translate")
    parser.add_argument("--beam-size", type=positive_int, default=4,
                        help="beam width (default 4; 1: greedy)")
    parser.add_argument("--heatmap", metavar="PNG",
                        help="draw the translation's attention weights into this PNG file")


def _translate_run(args):
    prog = "minidl translate"
    if not os.path.isfile(args.checkpoint):
        print(f"{prog}: error: checkpoint {args.checkpoint!r} does not exist", file=sys.stderr)
        return 1
    try:
        model, codec, ckpt = load_translator(args.checkpoint)
    except (ValueError, KeyError, RuntimeError) as e:
        print(f"{prog}: error: {e}", file=sys.stderr)
        return 1
    if args.heatmap and not ckpt["config"]["model"]["attention"]:
        print(f"{prog}: error: --heatmap needs an attention model; {args.checkpoint} was "
              f"trained with --no-attention", file=sys.stderr)
        return 1
    src = codec.source_ids(args.source)
    tgt = codec.tgt_vocab
    batch = (from_numpy(np.array([src])), [len(src)])
    if args.beam_size == 1:
        ids, _ = greedy_decode(model, *batch, tgt.bos_index, tgt.eos_index, codec.max_len)
    else:
        ids, _ = beam_search(model, *batch, tgt.bos_index, tgt.eos_index, codec.max_len,
                             args.beam_size, LENGTH_ALPHA)
    print(codec.target_text(ids[0]))
    if args.heatmap:  # the weights of the chosen translation, teacher-forced
        _, weights = force_decode(model, *batch, ids, tgt.bos_index, tgt.eos_index)
        _plot_translation(codec, args.source, ids[0], weights[0], args.heatmap)
    return 0


register_command(Command(
    "translate", "translate a sentence with a trained seq2seq model",
    _translate_arguments, _translate_run,
    description="Rebuild the encoder-decoder and vocabularies stored in CHECKPOINT and "
                "translate SOURCE by beam search (--beam-size 1: greedy); --heatmap draws "
                "which source tokens each output token attended to."))
