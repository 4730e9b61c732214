"""Language-model training from the command line: ``minidl train char-lstm`` and ``generate``.

    minidl train char-lstm                       # the bundled Shakespeare, recipe defaults
    minidl train word-lstm --data my_book.txt --epochs 5
    minidl generate runs/char-lstm-shakespeare-.../best.safetensors --prompt "ROMEO:" \\
        --strategy sample --temperature 0.8 --max-new-tokens 300

Data: ``--data shakespeare`` is the bundled corpus (``minidl.text.datasets.shakespeare``,
its own contiguous train / val / test ranges); any other value is the path of a UTF-8 text
file, split by characters into its first 90 % (train), next 5 % (val) and last 5 % (test).
The vocabulary is built from the training split only (tokens seen ``--min-freq`` times;
``<unk>`` stands for the others, in val / test and in prompts).

Training (``LanguageModelTrainer``): truncated backpropagation through time. With
``--partition sequential`` (default) batch k + 1 continues every row of batch k, so the
recurrent state is carried from batch to batch, detached (``detach_state``: gradients stop
at the batch boundary) and reset at the start of every epoch; ``--partition random`` deals
unrelated windows into batches and starts each from the zero state. The loss is the mean
cross entropy per token (nats); gradients are clipped to a global norm of ``--clip``;
Adam with a cosine learning-rate decay per step. Every epoch reports the validation loss
per token and its perplexity ``val_ppl = exp(val_loss)``; the epoch with the lowest
validation loss is selected (``best.safetensors``) and evaluated once on the test split.
Checkpoints hold in ``config`` the model's constructor arguments, the vocabulary and the
tokenizer, which is all ``generate`` needs.
"""
import math
import os
import re
import sys
import time

from .. import nn, optim
from ..autograd import no_grad
from ..backend import manual_seed
from ..train.arguments import fraction, non_negative_float, positive_int
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
from .batching import LanguageModelBatches, detach_state
from .generation import STRATEGIES, generate
from .gpt import GPT
from .language_model import RNNLanguageModel
from .tokenizers import CharTokenizer, WordTokenizer
from .vocab import Vocab

__all__ = ["LanguageModelTrainer", "LineWordTokenizer", "load_text_splits", "build_tokenizer",
           "make_batches", "prepare_corpus", "train_language_model", "load_language_model",
           "LM_TASKS"]

SPECIALS = ("<unk>",)


class LineWordTokenizer(WordTokenizer):
    """``WordTokenizer`` that keeps line breaks as ``"\\n"`` tokens (verse keeps its lines)."""

    def tokenize(self, text):
        tokens = []
        for piece in re.split(r"(\n)", text):
            tokens += ["\n"] if piece == "\n" else super().tokenize(piece)
        return tokens

    def detokenize(self, tokens):
        lines, line = [], []
        for token in tokens:
            if token == "\n":
                lines.append(line)
                line = []
            else:
                line.append(token)
        return "\n".join(super(LineWordTokenizer, self).detokenize(t) for t in [*lines, line])

    def __repr__(self):
        return f"LineWordTokenizer(lower={self.lower})"


def build_tokenizer(spec):
    """The tokenizer a checkpoint's ``config['tokenizer']`` describes."""
    if spec.get("kind") == "char":
        return CharTokenizer()
    if spec.get("kind") == "word":
        return LineWordTokenizer(lower=bool(spec.get("lower", True)))
    raise ValueError(f"unknown tokenizer {spec!r} (expected kind 'char' or 'word')")


def load_text_splits(data):
    """``(train, val, test)`` strings of ``data``: ``'shakespeare'`` or a UTF-8 text file."""
    if data == "shakespeare":
        from .datasets import shakespeare
        return tuple(shakespeare(split) for split in ("train", "val", "test"))
    if not os.path.isfile(data):
        raise ValueError(f"--data must be 'shakespeare' or the path of a UTF-8 text file; "
                         f"{data!r} is neither")
    try:
        with open(data, encoding="utf-8") as f:
            text = f.read()
    except UnicodeDecodeError as e:
        raise ValueError(f"{data!r} is not UTF-8 text ({e})") from None
    a, b = int(0.9 * len(text)), int(0.95 * len(text))
    return text[:a], text[a:b], text[b:]


class LanguageModelTrainer(Trainer):
    """``Trainer`` for next-token prediction with truncated BPTT.

    Gradients are clipped to a global norm of ``clip_grad_norm`` (default 1; None: never).
    ``carry_state`` (default: whether ``train_loader.partition == 'sequential'``) passes each
    batch's final state, detached, to the next batch; the state is reset at every epoch's
    start. Evaluation carries the state through a sequential loader the same way (unless
    ``carry_eval_state=False``: a model with a fixed context window, such as ``GPT``, reads
    every window afresh) and reports the loss per token and ``ppl = exp(loss)``; it restarts
    the loader's epoch count so that every evaluation reads the same windows.
    ``model(x, state) -> (logits (N, T, V), state)``.
    """

    unit = "tokens"

    def __init__(self, model, optimizer, train_loader=None, val_loader=None, *,
                 carry_state=None, carry_eval_state=True, clip_grad_norm=1.0,
                 monitor="val_loss", mode="min", **kwargs):
        super().__init__(model, optimizer, nn.CrossEntropyLoss(), train_loader, val_loader,
                         monitor=monitor, mode=mode, clip_grad_norm=clip_grad_norm, **kwargs)
        if carry_state is None:
            carry_state = getattr(train_loader, "partition", None) == "sequential"
        self.carry_state, self.carry_eval_state = bool(carry_state), bool(carry_eval_state)
        self.state = None

    def _loss(self, logits, y):
        return self.loss_fn(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))

    def training_step(self, batch):
        x, y = batch
        state = self.state if self.carry_state and _fits(self.state, x) else None
        logits, state = self.model(x, state)
        self.state = detach_state(state) if self.carry_state else None
        return {"loss": self._loss(logits, y), "n": y.numel(), "correct": None}

    def train_epoch(self):
        self.state = None
        result = super().train_epoch()
        result["train_ppl"] = _perplexity(result["train_loss"])
        return result

    def evaluate_loader(self, loader):
        carry = self.carry_eval_state and getattr(loader, "partition", None) == "sequential"
        if hasattr(loader, "epoch"):
            loader.epoch = 0
        was_training = self.model.training
        self.model.eval()
        total, n, state = 0.0, 0, None
        try:
            with no_grad():
                for x, y in loader:
                    logits, state = self.model(x, state if carry and _fits(state, x) else None)
                    total += float(self._loss(logits, y).item()) * y.numel()
                    n += y.numel()
        finally:
            self.model.train(was_training)
        if n == 0:
            raise ValueError("the evaluation loader yielded no tokens")
        return {"loss": total / n, "acc": None, "n": n, "ppl": _perplexity(total / n)}


def _fits(state, x):
    """Whether a carried ``state`` belongs to a batch of ``x``'s size."""
    h = state[0] if isinstance(state, (tuple, list)) else state
    return h is not None and h.shape[1] == x.shape[0]


def _perplexity(loss):
    return math.exp(loss) if loss < 700 else math.inf


# ------------------------------------------------------------------ the tasks
# char-lstm defaults, chosen on the validation split of the bundled Shakespeare for about
# 15 minutes on 2 cores. Validation loss: 1 x 256 1.72 (6 epochs), 2 x 256 with dropout 0.2
# 1.66 (10 epochs), 1 x 384 with dropout 0.3 1.69 (9 of 12), 1 x 512 with dropout 0.2 1.65
# and with 0.4 1.64 (10 epochs; first epoch at lr 4e-3 1.81, at 3e-3 1.89). 1 x 512 takes
# about 80 s an epoch on 2 idle cores: 8 epochs fit with a margin (val 1.643, 10.5 min).
# The GRU and tanh-RNN tasks share these; word-lstm's are untuned.
_CHAR = {"epochs": 8, "batch_size": 32, "lr": 4e-3, "hidden_size": 512, "embed_dim": 64,
         "num_layers": 1, "seq_len": 100, "dropout": 0.4, "clip": 1.0, "min_freq": 1,
         "partition": "sequential"}
LM_TASKS = {
    "char-lstm": ("character-level LSTM language model", "char", "lstm", _CHAR),
    "char-gru": ("character-level GRU language model", "char", "gru", _CHAR),
    "char-rnn": ("character-level vanilla (tanh) RNN language model", "char", "rnn", _CHAR),
    "word-lstm": ("word-level LSTM language model (lower-cased words, line breaks kept)",
                  "word", "lstm",
                  {"epochs": 6, "batch_size": 32, "lr": 2e-3, "hidden_size": 256,
                   "embed_dim": 128, "num_layers": 1, "seq_len": 35, "dropout": 0.3,
                   "clip": 1.0, "min_freq": 3, "partition": "sequential"}),
}
EVAL_BATCH_SIZE = 32


def add_corpus_arguments(parser, defaults):
    """The options of every language-model task: data, training, batching, clipping and the
    vocabulary (``defaults``: their values, ``partition`` included)."""
    d = defaults
    parser.add_argument("--data", default="shakespeare",
                        help="'shakespeare' (bundled, default) or a UTF-8 text file "
                             "(split 90 / 5 / 5 %% into train / val / test)")
    add_training_arguments(parser, d)
    parser.add_argument("--seq-len", type=positive_int, default=d["seq_len"],
                        help=f"tokens per training sequence (default {d['seq_len']})")
    parser.add_argument("--partition", choices=("sequential", "random"),
                        default=d["partition"],
                        help=f"sequential: rows continue across batches; random: shuffled "
                             f"windows (default {d['partition']})")
    parser.add_argument("--clip", type=non_negative_float, default=d["clip"],
                        help=f"clip the gradients' global norm to this (default "
                             f"{d['clip']:g}; 0: no clipping)")
    parser.add_argument("--min-freq", type=positive_int, default=d["min_freq"],
                        help=f"keep tokens seen this often in the training split, the "
                             f"others become <unk> (default {d['min_freq']})")
    parser.add_argument("--dropout", type=fraction("a probability in [0, 1)"),
                        default=d["dropout"], help=f"dropout (default {d['dropout']:g})")


def _add_arguments(defaults):
    def add(parser):
        d = defaults
        add_corpus_arguments(parser, d)
        parser.add_argument("--hidden-size", type=positive_int, default=d["hidden_size"],
                            help=f"recurrent state size (default {d['hidden_size']})")
        parser.add_argument("--embed-dim", type=positive_int, default=d["embed_dim"],
                            help=f"token embedding size (default {d['embed_dim']})")
        parser.add_argument("--num-layers", type=positive_int, default=d["num_layers"],
                            help=f"stacked recurrent layers (default {d['num_layers']})")
    return add


def make_batches(ids, batch_size, seq_len, partition, seed, split):
    """``LanguageModelBatches``; evaluation splits shrink the batch to fit short texts."""
    if split != "train":
        batch_size = max(1, min(batch_size, len(ids) // seq_len - 1))
    if len(ids) < batch_size * seq_len + seq_len:
        raise ValueError(f"the {split} split has {len(ids)} tokens; batches of {batch_size} x "
                         f"--seq-len {seq_len} need at least {batch_size * seq_len + seq_len} "
                         f"(use more text, or a smaller --seq-len / --batch-size)")
    return LanguageModelBatches(ids, batch_size, seq_len, partition, seed=seed)


def prepare_corpus(args, spec):
    """``(vocab, (train, val, test) batches, token counts)`` of ``args.data`` tokenized by
    ``spec``: the vocabulary from the training split, training batches partitioned by
    ``args.partition``, evaluation batches sequential. Raises ``ValueError`` / ``OSError``
    naming what is wrong with the data or the batch shape."""
    tokenizer = build_tokenizer(spec)
    tokens = [tokenizer.tokenize(s) for s in load_text_splits(args.data)]
    vocab = Vocab(tokens[0], min_freq=args.min_freq, specials=SPECIALS)
    loaders = (make_batches(vocab(tokens[0]), args.batch_size, args.seq_len, args.partition,
                            args.seed, "train"),
               *(make_batches(vocab(t), EVAL_BATCH_SIZE, args.seq_len, "sequential",
                              args.seed, split) for t, split in zip(tokens[1:], ("val", "test"))))
    return vocab, loaders, [len(t) for t in tokens]


def train_language_model(prog, args, model, vocab, spec, loaders, optimizer, scheduler,
                         config, summary, stateful=True):
    """Fit ``model`` with ``LanguageModelTrainer`` (the protocol of the module docstring) and
    print the selected epoch's validation and the test loss; returns the exit status.
    ``config`` (the task's hyper-parameters) is completed with the model, vocabulary and
    tokenizer and stored in every checkpoint; ``summary`` describes the run in one line.
    ``stateful=False`` (a model with a fixed context window) never carries a state from one
    batch to the next, in training or evaluation."""
    train, val, test = loaders
    name = config["task"]
    config = {**config, "data": args.data, "tokenizer": spec, "model": model.config(),
              "vocab": {"itos": vocab.itos, "specials": list(SPECIALS)}}
    tag = args.data if args.data == "shakespeare" else \
        os.path.splitext(os.path.basename(args.data))[0]
    out = args.out or default_out_dir(name, tag)
    n_params = sum(p.numel() for p in model.parameters())
    print(f"{prog}: {summary}, {n_params} parameters", flush=True)
    print(f"output folder: {out}", flush=True)
    t0 = time.perf_counter()
    trainer = LanguageModelTrainer(
        model, optimizer, train, val, test_loader=test, scheduler=scheduler,
        scheduler_interval="step", out_dir=out, progress=not args.no_progress, config=config,
        early_stopping_patience=args.patience, clip_grad_norm=args.clip or None,
        carry_state=None if stateful else False, carry_eval_state=stateful)
    trainer.fit(args.epochs)
    best, test_m = trainer.best_metrics, trainer.test_metrics
    print(f"done in {time.perf_counter() - t0:.1f}s: selected epoch {trainer.best_epoch} of "
          f"{trainer.epoch}, val_loss {best['val_loss']:.4f} (ppl {best['val_ppl']:.2f}), "
          f"test_loss {test_m['loss']:.4f} (ppl {test_m['ppl']:.2f}); checkpoints, metrics "
          f"and curves in {out}")
    return 0


def _run(name, tokenizer_kind, cell):
    def run(args):
        prog = f"minidl train {name}"
        spec = {"kind": tokenizer_kind} if tokenizer_kind == "char" else \
            {"kind": "word", "lower": True}
        try:
            vocab, loaders, counts = prepare_corpus(args, spec)
        except (ValueError, OSError) as e:
            print(f"{prog}: error: {e}", file=sys.stderr)
            return 1
        manual_seed(args.seed)
        model = RNNLanguageModel(len(vocab), args.embed_dim, args.hidden_size,
                                 args.num_layers, cell, args.dropout)
        optimizer = optim.Adam(model.parameters(), lr=args.lr)
        scheduler = optim.lr_scheduler.CosineAnnealingLR(optimizer,
                                                         T_max=args.epochs * len(loaders[0]))
        config = {"task": name, "epochs": args.epochs, "batch_size": args.batch_size,
                  "lr": args.lr, "seq_len": args.seq_len, "partition": args.partition,
                  "clip": args.clip, "min_freq": args.min_freq, "seed": args.seed,
                  "optimizer": "adam", "scheduler": "cosine per step"}
        summary = (f"data {args.data} ({' / '.join(map(str, counts))} train / val / test "
                   f"tokens, vocabulary {len(vocab)}), {cell} {args.num_layers} x "
                   f"{args.hidden_size}, {args.epochs} epochs, batch {args.batch_size} x "
                   f"{args.seq_len}, adam lr {args.lr:g}, clip {args.clip:g}, {args.partition} "
                   f"batches, seed {args.seed}")
        return train_language_model(prog, args, model, vocab, spec, loaders, optimizer,
                                    scheduler, config, summary)
    return run


for _name, (_description, _kind, _cell, _defaults) in LM_TASKS.items():
    register_task(Task(_name, _description, _add_arguments(_defaults),
                       _run(_name, _kind, _cell)))


# ------------------------------------------------------------ minidl generate
# the model class of every task whose checkpoints ``minidl generate`` reads
LANGUAGE_MODELS = {**{name: RNNLanguageModel for name in LM_TASKS}, "gpt": GPT}


def load_language_model(path):
    """``(model, vocab, tokenizer, checkpoint)`` rebuilt from a language-model checkpoint."""
    ckpt, config = load_task_checkpoint(path, LANGUAGE_MODELS)
    model = LANGUAGE_MODELS[config["task"]](**config["model"])
    model.load_state_dict(ckpt["model"])
    specials = config["vocab"]["specials"]
    vocab = Vocab(config["vocab"]["itos"][len(specials):], specials=specials)
    return model, vocab, build_tokenizer(config["tokenizer"]), ckpt


def _generate_arguments(parser):
    parser.add_argument("checkpoint", metavar="CHECKPOINT",
                        help="a .safetensors file written by 'minidl train char-lstm' (or "
                             "char-gru, char-rnn, word-lstm, gpt)")
    parser.add_argument("--prompt", required=True, help="the text to continue")
    parser.add_argument("--max-new-tokens", type=positive_int, default=200,
                        help="tokens to generate (default 200)")
    parser.add_argument("--strategy", choices=STRATEGIES, default="sample",
                        help="greedy: the most likely token; sample: draw from the softmax "
                             "(default)")
    parser.add_argument("--temperature", type=float, default=1.0,
                        help="sampling temperature > 0 (default 1; lower is closer to greedy)")
    parser.add_argument("--top-k", type=int, help="sample among the K most likely tokens")
    parser.add_argument("--top-p", type=float,
                        help="sample among the most likely tokens of total probability P")
    parser.add_argument("--seed", type=int, help="seed of the sampling (reproducible text)")
    parser.add_argument("--no-cache", action="store_true",
                        help="re-read the whole sequence at every step instead of carrying the "
                             "state / key-value cache (same text, slower: shows the saving)")


def _generate_run(args):
    if not os.path.isfile(args.checkpoint):
        print(f"minidl generate: error: checkpoint {args.checkpoint!r} does not exist",
              file=sys.stderr)
        return 1
    try:
        model, vocab, tokenizer, _ = load_language_model(args.checkpoint)
        t0 = time.perf_counter()
        text = generate(model, vocab, tokenizer, args.prompt, args.max_new_tokens,
                        args.strategy, args.temperature, args.top_k, args.top_p, args.seed,
                        use_cache=not args.no_cache)
        seconds = time.perf_counter() - t0
    except (ValueError, TypeError, RuntimeError) as e:
        print(f"minidl generate: error: {e}", file=sys.stderr)
        return 1
    print(text)
    print(f"{args.max_new_tokens} tokens in {seconds:.2f}s ({args.max_new_tokens / seconds:.1f} "
          f"tokens/s, {'no cache' if args.no_cache else 'cached state'})", file=sys.stderr)
    return 0


register_command(Command(
    "generate", "continue a prompt with a trained language model",
    _generate_arguments, _generate_run,
    description="Rebuild the language model, vocabulary and tokenizer stored in CHECKPOINT "
                "and continue PROMPT token by token, greedily or by sampling (temperature, "
                "top-k, top-p). Prompt tokens outside the vocabulary become <unk>."))
