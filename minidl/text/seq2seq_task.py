"""Sequence-to-sequence translation from the command line: ``minidl train seq2seq`` and
``minidl translate``.

    minidl train seq2seq --data dates              # "the 3rd of March 1998" -> "1998-03-03"
    minidl train seq2seq --data en-es --no-attention --epochs 20
    minidl train seq2seq --data en-es --arch transformer
    minidl translate runs/seq2seq-dates-.../best.safetensors "friday 13 may 2011" \\
        --beam-size 4 --heatmap attention.png

Data (``minidl.text.datasets``): ``dates`` (characters in, characters out) and ``en-es``
(English -> Spanish, lower-cased ``WordTokenizer`` words; tokens seen fewer than
``--min-freq`` times in the training split become ``<unk>``). Both vocabularies come from
the training split only. A sequence is its tokens, cut to ``--max-len - 1``, and ``<eos>``;
``--max-len`` also bounds the length of a decoded translation.

Model (``--arch gru``, default): ``Seq2SeqEncoder`` + ``AttentionDecoder`` (Bahdanau
attention), or with ``--no-attention`` the plain ``Seq2SeqDecoder`` (fixed context);
``--arch transformer``: ``TransformerSeq2SeqEncoder`` + ``TransformerSeq2SeqDecoder`` (the
heatmap then shows the last decoder layer's cross-attention). Options of one architecture
are refused with the other. Training: teacher forcing,
``MaskedCrossEntropyLoss`` (mean per valid target token), Adam with a cosine decay per step,
gradients clipped to norm 1. Every epoch the validation split is translated greedily:
``val_exact`` (share of exact translations) and ``val_bleu`` (sacrebleu-style corpus BLEU,
0-100) are logged; model selection takes the best ``val_exact`` (dates) or ``val_bleu``
(en-es), and ``--patience`` stops on the validation loss. At the end the selected weights
translate the test split once with beam search (``--beam-size``), and one decoded test
sentence's attention is drawn into ``attention.png``. BLEU compares the lower-cased,
re-tokenized reference with the detokenized translation.
"""
import os
import sys
import time

import numpy as np

from .. import optim
from .._creation import from_numpy
from ..autograd import no_grad
from ..backend import manual_seed
from ..train.arguments import fraction, number, positive_int
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
from .attention_plot import plot_attention
from .bleu import bleu_score
from .decoding import beam_search, force_decode, greedy_decode
from .seq2seq import (
    AttentionDecoder,
    EncoderDecoder,
    MaskedCrossEntropyLoss,
    Seq2SeqDecoder,
    Seq2SeqEncoder,
)
from .transformer_seq2seq import TransformerSeq2SeqDecoder, TransformerSeq2SeqEncoder
from .translation_data import TOKENIZERS, PairBatches, TranslationCodec, load_pairs

__all__ = ["Seq2SeqTrainer", "build_seq2seq", "load_translator", "DEFAULTS", "ARCH_OPTIONS"]

# Defaults per architecture and data set, tuned on the validation splits (see the README).
DEFAULTS = {
    ("gru", "dates"): {"epochs": 3, "batch_size": 128, "lr": 5e-3, "embed_size": 32,
                       "hidden_size": 128, "num_layers": 1, "dropout": 0.0, "max_len": 40,
                       "min_freq": 1},
    ("gru", "en-es"): {"epochs": 20, "batch_size": 64, "lr": 5e-3, "embed_size": 128,
                       "hidden_size": 256, "num_layers": 1, "dropout": 0.2, "max_len": 45,
                       "min_freq": 2},
    # transformer dates: lr 1e-3 for 3 epochs reached val exact 11.7 %; 2e-3 for 6 epochs
    # 100 % from epoch 5. en-es: lr 5e-4 val BLEU 1.2, 1e-3 about 9 (see the README).
    ("transformer", "dates"): {"epochs": 6, "batch_size": 128, "lr": 2e-3, "d_model": 64,
                               "nhead": 4, "num_layers": 2, "ff_dim": 256, "dropout": 0.0,
                               "max_len": 40, "min_freq": 1},
    ("transformer", "en-es"): {"epochs": 20, "batch_size": 64, "lr": 1e-3, "d_model": 128,
                               "nhead": 4, "num_layers": 2, "ff_dim": 512, "dropout": 0.2,
                               "max_len": 45, "min_freq": 2},
}
# the options only one architecture has
ARCH_OPTIONS = {"gru": ("embed_size", "hidden_size", "no_attention"),
                "transformer": ("d_model", "nhead", "ff_dim")}
EVAL_BATCH_SIZE = 250
LENGTH_ALPHA = 0.75


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


# the model arguments of each architecture (a checkpoint's ``model`` holds them)
MODEL_ARGS = {"gru": ("embed_size", "hidden_size", "num_layers", "dropout", "attention"),
              "transformer": ("d_model", "nhead", "num_layers", "ff_dim", "dropout",
                              "positions")}


def build_seq2seq(src_vocab_size, tgt_vocab_size, arch="gru", **kwargs):
    """The encoder-decoder of the task (its arguments are the checkpoint's ``model``):
    ``arch="gru"`` takes ``embed_size, hidden_size, num_layers, dropout, attention``;
    ``arch="transformer"`` takes ``d_model, nhead, num_layers, ff_dim, dropout, positions``
    (the longest sequence it reads). Other or missing arguments are refused by name."""
    if arch not in MODEL_ARGS:
        raise ValueError(f"unknown seq2seq architecture {arch!r} (expected 'gru' or "
                         f"'transformer')")
    wanted = MODEL_ARGS[arch]
    extra, missing = sorted(set(kwargs) - set(wanted)), [k for k in wanted if k not in kwargs]
    if extra or missing:
        raise TypeError(f"build_seq2seq(arch={arch!r}) takes {', '.join(wanted)}"
                        + (f"; unexpected: {', '.join(extra)}" if extra else "")
                        + (f"; missing: {', '.join(missing)}" if missing else ""))
    if arch == "transformer":
        args = [kwargs[k] for k in wanted]
        return EncoderDecoder(TransformerSeq2SeqEncoder(src_vocab_size, *args),
                              TransformerSeq2SeqDecoder(tgt_vocab_size, *args))
    args = [kwargs[k] for k in wanted[:4]]
    decoder = (AttentionDecoder if kwargs["attention"] else Seq2SeqDecoder)(tgt_vocab_size,
                                                                             *args)
    return EncoderDecoder(Seq2SeqEncoder(src_vocab_size, *args), decoder)


def _plot_translation(codec, source, ids, weights, path):
    """The heatmap of translation ``ids`` of ``source``: its attention ``weights`` (one row
    per output token, ``<eos>`` included)."""
    plot_attention(weights, codec.source_tokens(source),
                   codec.tgt_vocab.lookup_tokens(ids) + ["<eos>"], path,
                   f"{source} -> {codec.target_text(ids)}")


# ------------------------------------------------------------ minidl train seq2seq
def _defaults_help(name):
    return ", ".join(f"{arch} {data} {v[name]:g}" for (arch, data), v in DEFAULTS.items()
                     if name in v)


def _add_arguments(parser):
    add_training_arguments(parser, {"epochs": 0, "batch_size": 0, "lr": 0.0})
    parser.set_defaults(epochs=None, batch_size=None, lr=None)
    for action in parser._actions:  # the shared options' defaults depend on --data, --arch
        if action.dest in ("epochs", "batch_size", "lr"):
            action.help = action.help.split(" (default")[0] + \
                f" (default: {_defaults_help(action.dest)})"
    parser.add_argument("--data", choices=("dates", "en-es"), default="dates",
                        help="dates: human-written dates -> ISO 8601 (characters, default); "
                             "en-es: English -> Spanish verses (words)")
    parser.add_argument("--arch", choices=tuple(ARCH_OPTIONS), default="gru",
                        help="gru: GRU encoder-decoder with Bahdanau attention (default); "
                             "transformer: the Transformer encoder-decoder")
    parser.add_argument("--no-attention", action="store_true", default=None,
                        help="the plain GRU decoder with a fixed context (no attention)")
    for name, kind, help_text in (
            ("embed_size", positive_int, "GRU: token embedding size"),
            ("hidden_size", positive_int, "GRU: state size"),
            ("d_model", positive_int, "Transformer: width of the embeddings and layers"),
            ("nhead", positive_int, "Transformer: attention heads"),
            ("ff_dim", positive_int, "Transformer: feed-forward hidden width"),
            ("num_layers", positive_int, "stacked GRU / Transformer layers"),
            ("dropout", fraction("a dropout probability 0 <= p < 1"),
             "dropout on embeddings, attention weights, between layers and before the output "
             "layer"),
            ("max_len", number(int, 2, "an integer >= 2"),
             "tokens per sequence, <eos> included (longer ones are cut), and the longest "
             "translation decoded"),
            ("min_freq", positive_int, "keep tokens seen this often in the training split")):
        parser.add_argument("--" + name.replace("_", "-"), type=kind,
                            help=f"{help_text} (default: {_defaults_help(name)})")
    parser.add_argument("--beam-size", type=positive_int, default=4,
                        help="beam width of the final test translation (default 4; 1: greedy)")
    parser.add_argument("--limit", type=positive_int, metavar="N",
                        help="train on the first N training pairs only (quick checks)")


def _run(args):
    prog = "minidl train seq2seq"
    t0 = time.perf_counter()
    for arch, names in ARCH_OPTIONS.items():
        given = [n for n in names if arch != args.arch and getattr(args, n) is not None]
        if given:
            print(f"{prog}: error: {', '.join('--' + n.replace('_', '-') for n in given)} "
                  f"only apply to --arch {arch}, not {args.arch}", file=sys.stderr)
            return 1
    d = DEFAULTS[args.arch, args.data]
    for key in d:
        if getattr(args, key) is None:
            setattr(args, key, d[key])
    train_pairs = load_pairs(args.data, "train")[:args.limit]
    val_pairs, test_pairs = load_pairs(args.data, "val"), load_pairs(args.data, "test")
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
                    "tgt_vocab_size": len(codec.tgt_vocab), "arch": args.arch,
                    "num_layers": args.num_layers, "dropout": args.dropout}
    if args.arch == "gru":
        model_kwargs.update(embed_size=args.embed_size, hidden_size=args.hidden_size,
                            attention=not args.no_attention)
        described = (f"GRU {args.num_layers} x {args.hidden_size} "
                     f"{'without' if args.no_attention else 'with'} attention")
    else:
        model_kwargs.update(d_model=args.d_model, nhead=args.nhead, ff_dim=args.ff_dim,
                            positions=args.max_len + 1)
        described = (f"Transformer {args.num_layers} + {args.num_layers} layers x "
                     f"{args.d_model} ({args.nhead} heads, feed-forward {args.ff_dim})")
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
          f"{len(codec.tgt_vocab)}), {described}, {n_params} parameters, "
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


register_task(Task("seq2seq", "encoder-decoder translation, GRU with Bahdanau attention or "
                              "the Transformer (dates -> ISO, English -> Spanish), BLEU",
                   _add_arguments, _run))


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
    if args.heatmap and not ckpt["config"]["model"].get("attention", True):
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
