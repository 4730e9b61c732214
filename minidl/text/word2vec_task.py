"""``minidl train word2vec``: skip-gram word vectors from a text, with their evaluation.

    minidl train word2vec                          # the bundled Shakespeare, negative sampling
    minidl train word2vec --method hs --epochs 5   # hierarchical softmax
    minidl train word2vec --data ~/texts/ --embed-dim 50 --window 8

Data: ``--data shakespeare`` is the bundled corpus (``minidl.text.datasets.shakespeare``:
the train split trains, the val split gives the held-out loss, the test split is read once
at the end); any other value is a UTF-8 text file, or a folder of ``.txt`` / ``.txt.gz``
files read in name order, whose paragraphs (split at blank lines) are divided in order into
the first 90 % (train), the next 5 % (val) and the last 5 % (test).

Text: lower-cased ``WordTokenizer`` words, punctuation dropped; a paragraph (a speech in a
play) is a document, and no (center, context) pair crosses two documents. The vocabulary
is the words seen ``--min-count`` times in the training split, most frequent first; other
words are removed from the text before the windows are cut (as in the C tool).

Training (``Word2VecTrainer``): ``SkipGramNegativeSampling`` or
``SkipGramHierarchicalSoftmax`` on shuffled batches of pairs (``SkipGramPairs``: dynamic
window, subsampling with ``--subsample`` redrawn every epoch), Adam with the learning rate
decaying linearly to 1e-4 of its start over the run (word2vec's schedule). The validation
and test losses are the same objective, per pair, on fixed pairs of their split (drawn once
with a fixed seed, as are the noise words of negative sampling); the epoch with the lowest
validation loss is selected.

At the end the selected center vectors become a ``KeyedVectors`` (``vectors.safetensors``);
the nearest neighbours of the ``--probe`` words go to ``neighbours.json`` and the accuracy
and coverage on the word-analogy questions (``--questions``, default the bundled Google
test set) to ``analogies.json``; both are printed.
"""
import gzip
import json
import os
import re
import sys
import time
from collections import Counter

import numpy as np

from .. import optim
from ..autograd import no_grad
from ..backend import Generator, manual_seed
from ..train.tasks import (
    Task,
    add_training_arguments,
    default_out_dir,
    load_task_checkpoint,
    register_task,
)
from ..train.trainer import Trainer
from .tokenizers import WordTokenizer
from .vocab import Vocab
from .word2vec import (
    SkipGramHierarchicalSoftmax,
    SkipGramNegativeSampling,
    SkipGramPairs,
    keep_probabilities,
)
from .word_vectors import ANALOGY_QUESTIONS, KeyedVectors

__all__ = ["Word2VecTrainer", "load_documents", "build_word2vec", "load_word2vec",
           "PROBE_WORDS"]

PROBE_WORDS = ("king", "love", "night", "lord", "sword")
# Chosen on the validation loss of the bundled Shakespeare (see README).
DEFAULTS = {"epochs": 10, "batch_size": 1024, "lr": 3e-3, "seed": 0}
_WORD = re.compile(r"\w")
_PARAGRAPH = re.compile(r"\n\s*\n")


def text_documents(text, tokenizer=None):
    """The paragraphs of ``text`` (split at blank lines) as lists of lower-cased words."""
    tokenizer = tokenizer or WordTokenizer(lower=True)
    documents = []
    for paragraph in _PARAGRAPH.split(text):
        words = [token for token in tokenizer.tokenize(paragraph) if _WORD.match(token)]
        if words:
            documents.append(words)
    return documents


def _read_text(path):
    with open(path, "rb") as handle:
        data = handle.read()
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ValueError(f"{path!r} is not UTF-8 text ({e})") from None


def load_documents(data):
    """``(train, val, test)`` lists of word documents of ``data`` (see the module doc)."""
    if data == "shakespeare":
        from .datasets import shakespeare
        return tuple(text_documents(shakespeare(split)) for split in ("train", "val", "test"))
    if os.path.isdir(data):
        names = sorted(n for n in os.listdir(data) if n.endswith((".txt", ".txt.gz")))
        if not names:
            raise ValueError(f"the folder {data!r} holds no .txt or .txt.gz file")
        text = "\n\n".join(_read_text(os.path.join(data, name)) for name in names)
    elif os.path.isfile(data):
        text = _read_text(data)
    else:
        raise ValueError(f"--data must be 'shakespeare', a UTF-8 text file or a folder of "
                         f".txt / .txt.gz files; {data!r} is none of these")
    documents = text_documents(text)
    a, b = int(0.9 * len(documents)), int(0.95 * len(documents))
    return documents[:a], documents[a:b], documents[b:]


class Word2VecTrainer(Trainer):
    """``Trainer`` for the skip-gram models: batches of ``(center, context)`` pairs.

    Evaluation is the training objective per pair; for negative sampling the noise words
    are drawn from a generator seeded with ``eval_seed`` at every evaluation, so that each
    epoch is measured on the same pairs and the same noise.
    """

    unit = "pairs"

    def __init__(self, model, optimizer, train_loader=None, val_loader=None, *, eval_seed=0,
                 monitor="val_loss", mode="min", **kwargs):
        super().__init__(model, optimizer, None, train_loader, val_loader, monitor=monitor,
                         mode=mode, **kwargs)
        self.eval_seed = eval_seed

    def _loss(self, center, context, generator=None):
        if isinstance(self.model, SkipGramNegativeSampling):
            negatives = self.model.sample_negatives(len(center), generator=generator)
            return self.model(center, context, negatives)
        return self.model(center, context)

    def training_step(self, batch):
        center, context = batch
        return {"loss": self._loss(center, context), "n": len(center), "correct": None}

    def evaluate_loader(self, loader):
        generator = Generator().manual_seed(self.eval_seed)
        was_training = self.model.training
        self.model.eval()
        total, n = 0.0, 0
        try:
            with no_grad():
                for center, context in loader:
                    total += float(self._loss(center, context, generator).item()) * len(center)
                    n += len(center)
        finally:
            self.model.train(was_training)
        if n == 0:
            raise ValueError("the evaluation loader yielded no pairs")
        return {"loss": total / n, "acc": None, "n": n}


def build_word2vec(config):
    """The (untrained) model a checkpoint's ``config`` describes, and its ``Vocab``."""
    itos, freqs = config["vocab"]["itos"], config["vocab"]["freqs"]
    vocab = Vocab(Counter(dict(zip(itos, freqs))), specials=())
    if vocab.itos != itos:
        raise ValueError("the checkpoint's vocabulary is not in descending frequency order")
    kwargs = dict(config["model"])
    if config["method"] == "neg":
        return SkipGramNegativeSampling(freqs=freqs, **kwargs), vocab
    return SkipGramHierarchicalSoftmax(freqs=freqs, **kwargs), vocab


def load_word2vec(path):
    """``(model, KeyedVectors, checkpoint)`` from a ``minidl train word2vec`` checkpoint."""
    ckpt, config = load_task_checkpoint(path, "word2vec")
    model, vocab = build_word2vec(config)
    model.load_state_dict(ckpt["model"])
    return model, KeyedVectors(model.embeddings(), vocab), ckpt


def _add_arguments(parser):
    from ..train.arguments import non_negative_float, positive_int
    parser.add_argument("--data", default="shakespeare",
                        help="'shakespeare' (bundled, default), a UTF-8 text file or a folder "
                             "of .txt / .txt.gz files (paragraphs split 90 / 5 / 5 %% into "
                             "train / val / test)")
    add_training_arguments(parser, DEFAULTS)
    parser.add_argument("--method", choices=("neg", "hs"), default="neg",
                        help="neg: negative sampling (default); hs: hierarchical softmax")
    parser.add_argument("--embed-dim", type=positive_int, default=100,
                        help="word vector size (default 100)")
    parser.add_argument("--window", type=positive_int, default=5,
                        help="largest distance between center and context words (default 5)")
    parser.add_argument("--fixed-window", action="store_true",
                        help="use the whole window for every center (default: a window drawn "
                             "from 1 .. --window per center, as in word2vec)")
    parser.add_argument("--negatives", type=positive_int, default=5,
                        help="noise words per pair for --method neg (default 5)")
    parser.add_argument("--min-count", type=positive_int, default=5,
                        help="keep words seen this often in the training split (default 5)")
    parser.add_argument("--subsample", type=non_negative_float, default=1e-4,
                        help="subsampling threshold t: a word of frequency f is dropped with "
                             "probability 1 - sqrt(t / f) (default 1e-4; 0: off)")
    parser.add_argument("--probe", nargs="+", metavar="WORD", default=list(PROBE_WORDS),
                        help=f"words whose nearest neighbours are shown (default "
                             f"{' '.join(PROBE_WORDS)})")
    parser.add_argument("--questions", default=str(ANALOGY_QUESTIONS),
                        help="word-analogy question file (default: the bundled Google set)")


def _pairs(documents, vocab, args, keep, split):
    ids = [np.array([vocab.stoi[w] for w in doc if w in vocab.stoi], dtype=np.int64)
           for doc in documents]
    if sum(len(d) > 1 for d in ids) == 0:
        raise ValueError(f"the {split} split has no two vocabulary words in one paragraph, so "
                         f"no pairs (use more text or a smaller --min-count)")
    seed = args.seed if split == "train" else args.seed + 1 + ("val", "test").index(split)
    pairs = SkipGramPairs(ids, args.window, args.batch_size, keep,
                          dynamic_window=not args.fixed_window, shuffle=split == "train",
                          seed=seed)
    return pairs if split == "train" else list(pairs)  # val / test: one fixed draw


def _report(kv, args, out):
    """Print and write the probe words' neighbours and the analogy figures."""
    neighbours = {w: kv.most_similar(w, topn=10) if w in kv else None for w in args.probe}
    for word, near in neighbours.items():
        shown = ", ".join(f"{n} {s:.2f}" for n, s in near[:8]) if near else "(not in vocabulary)"
        print(f"  {word:>10}: {shown}")
    with open(os.path.join(out, "neighbours.json"), "w", encoding="utf-8") as f:
        json.dump(neighbours, f, indent=1)
    result = kv.evaluate_analogies(args.questions)
    accuracy = "n/a" if result["accuracy"] is None else f"{100 * result['accuracy']:.2f}%"
    print(f"analogies ({os.path.basename(args.questions)}): accuracy {accuracy} "
          f"({result['correct']} / {result['evaluated']}), coverage "
          f"{100 * result['coverage']:.2f}% ({result['skipped']} of {result['questions']} "
          f"questions skipped: a word outside the vocabulary)")
    for s in result["sections"]:
        if s["evaluated"]:
            print(f"  {s['section']:>28}: {s['correct']:>4} / {s['evaluated']:<5} "
                  f"({100 * s['accuracy']:.1f}%)")
    with open(os.path.join(out, "analogies.json"), "w", encoding="utf-8") as f:
        json.dump({"questions_file": args.questions, **result}, f, indent=1)


def _run(args):
    prog = "minidl train word2vec"
    t0 = time.perf_counter()
    try:
        train_docs, val_docs, test_docs = load_documents(args.data)
        vocab = Vocab(train_docs, min_freq=args.min_count, specials=())
        if len(vocab) < 2:
            raise ValueError(f"the training split has {len(vocab)} word(s) seen --min-count "
                             f"{args.min_count} times; word2vec needs at least 2")
        keep = keep_probabilities(vocab.freqs, args.subsample)
        train, val, test = (_pairs(docs, vocab, args, keep, split) for docs, split in
                            ((train_docs, "train"), (val_docs, "val"), (test_docs, "test")))
        if not (val and test):
            raise ValueError("the val or test split yields no pairs (use more text)")
    except (ValueError, OSError) as e:
        print(f"{prog}: error: {e}", file=sys.stderr)
        return 1
    manual_seed(args.seed)
    model_kwargs = {"vocab_size": len(vocab), "embed_dim": args.embed_dim}
    if args.method == "neg":
        model_kwargs["negatives"] = args.negatives
    config = {"task": "word2vec", "data": args.data, "method": args.method,
              "model": model_kwargs, "vocab": {"itos": vocab.itos, "freqs": vocab.freqs},
              "window": args.window, "dynamic_window": not args.fixed_window,
              "min_count": args.min_count, "subsample": args.subsample,
              "epochs": args.epochs, "batch_size": args.batch_size, "lr": args.lr,
              "seed": args.seed, "optimizer": "adam", "scheduler": "linear decay per step"}
    model, _ = build_word2vec(config)
    optimizer = optim.Adam(model.parameters(), lr=args.lr)
    scheduler = optim.lr_scheduler.LinearLR(optimizer, 1.0, 1e-4,
                                            total_iters=args.epochs * len(train))
    out = args.out or default_out_dir("word2vec", args.data)
    n_words = sum(map(len, train_docs))
    print(f"{prog}: data {args.data} ({n_words} / {sum(map(len, val_docs))} / "
          f"{sum(map(len, test_docs))} train / val / test words, vocabulary {len(vocab)} "
          f"words seen >= {args.min_count} times), skip-gram "
          f"{'negative sampling' if args.method == 'neg' else 'hierarchical softmax'}, "
          f"dim {args.embed_dim}, window {args.window}"
          f"{'' if args.fixed_window else ' (dynamic)'}, subsample {args.subsample:g}, "
          f"{args.epochs} epochs of ~{len(train.epoch_pairs(0)[0])} pairs, batch "
          f"{args.batch_size}, adam lr {args.lr:g}, seed {args.seed}", flush=True)
    print(f"output folder: {out}", flush=True)
    trainer = Word2VecTrainer(model, optimizer, train, val, test_loader=test,
                              scheduler=scheduler, scheduler_interval="step", out_dir=out,
                              progress=not args.no_progress, config=config,
                              early_stopping_patience=args.patience, eval_seed=args.seed)
    trainer.fit(args.epochs)
    train_s = time.perf_counter() - t0
    model.load_state_dict(trainer.best_state())
    kv = KeyedVectors(model.embeddings(), vocab)
    kv.save(os.path.join(out, "vectors.safetensors"))
    best = trainer.best_metrics
    print(f"trained in {train_s:.1f}s: selected epoch {trainer.best_epoch} of {trainer.epoch}, "
          f"val_loss {best['val_loss']:.4f}, test_loss {trainer.test_metrics['loss']:.4f}; "
          f"nearest neighbours (cosine) of the selected vectors:")
    try:
        _report(kv, args, out)
    except (ValueError, OSError) as e:
        print(f"{prog}: error: {e}", file=sys.stderr)
        return 1
    print(f"checkpoints, metrics, curves, vectors.safetensors, neighbours.json and "
          f"analogies.json in {out}")
    return 0


register_task(Task("word2vec", "skip-gram word vectors (negative sampling or hierarchical "
                               "softmax), with neighbours and analogy accuracy", _add_arguments,
                   _run))
