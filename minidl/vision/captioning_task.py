"""Image captioning from the command line: ``minidl train captioning`` and ``minidl caption``.

    minidl train captioning --data scenes-mnist           # show, attend and tell
    minidl train captioning --data scenes-fashion --blind # the image-blind baseline
    minidl caption runs/captioning-scenes-mnist-.../best.safetensors scene.png \\
        --attention words.png

Data: the named scene sets of ``minidl.vision.datasets.open_scenes``, captioned by
``minidl.vision.captions.SceneCaptioner`` (three references per scene; the model learns the
first, the reading-order one). The vocabulary comes from the training captions.

Model: ``minidl.vision.captioning.Captioner`` (CNN grid encoder, LSTM decoder with soft
attention and the gate beta). Training: teacher forcing, ``CaptionLoss`` (masked
cross-entropy per token + ``--attention-reg`` x the doubly stochastic regulariser), Adam with
a cosine decay per step, gradients clipped to norm 5. Every epoch the validation scenes are
captioned greedily: ``val_bleu`` (sacreBLEU-style corpus BLEU-4, 0-100, against all
references) selects the model and ``--patience`` stops on it; ``val_exact`` is the share of
captions equal to one of their references. The selected weights caption the test scenes
once at the end with beam search (``--beam-size``). Printed and stored in the config: the
BLEU-4 of an image-blind baseline, the most frequent training caption for every scene.
``--blind`` trains the same model on blank images (a language model of the captions).

Written to ``--out``: checkpoints, metrics, curves, ``attention.png`` (test scene 0 and, per
generated word, the attention upsampled over the image) and ``sample_scene.png`` (that
scene as a plain image, to try ``minidl caption`` on).
"""
import os
import sys
import time
from collections import Counter

import numpy as np

from .. import optim
from .._creation import from_numpy
from ..autograd import no_grad
from ..backend import manual_seed
from ..ops.interpolate import interpolate
from ..tensor import Tensor
from ..text.bleu import bleu_score
from ..text.vocab import Vocab
from ..train.arguments import fraction, non_negative_float, positive_int
from ..train.callbacks import EarlyStopping
from ..train.tasks import (
    Command,
    Task,
    add_training_arguments,
    default_out_dir,
    load_task_checkpoint,
    register_command,
    register_task,
    report_missing_files,
)
from ..train.trainer import Trainer
from ..utils.data.index_batches import IndexBatches
from .captioning import Captioner, CaptionLoss, caption_attention, caption_images
from .captions import SceneCaptioner
from .datasets import SCENE_DATA, open_scenes
from .image_files import read_image
from .utils import save_image

__all__ = ["CaptionBatches", "CaptionTrainer", "load_captioner", "plot_caption_attention",
           "DEFAULTS"]

# sized for ~10 min on an idle 2-core machine; lambda compared on scenes-mnist's validation
# split (see the README)
DEFAULTS = {"epochs": 8, "batch_size": 32, "lr": 2e-3, "embed_size": 64, "hidden_size": 128,
            "attention_size": 64, "channels": "8,16,32,64", "dropout": 0.0,
            "attention_reg": 0.001}
EVAL_BATCH_SIZE = 100
LENGTH_ALPHA = 0.75
CLIP = 5.0


class CaptionBatches(IndexBatches):
    """Batches ``(images, inputs, targets, lengths, indices)`` of captioned images: inputs
    ``<bos>`` + caption, targets caption + ``<eos>`` (both padded to the batch's longest),
    ``lengths`` the caption lengths + 1. ``references`` (strings, several per image) and
    ``beam_size`` tell the trainer how to score the loader; ``blind`` blanks every image."""

    def __init__(self, images, captions, vocab, batch_size, shuffle=False, seed=0,
                 references=None, beam_size=1, blind=False):
        super().__init__(len(images), batch_size, shuffle, seed)
        self.images = np.zeros_like(images) if blind else images
        self.references, self.beam_size = references, beam_size
        width = max(len(c) for c in captions) + 1
        self.inputs = np.full((len(captions), width), vocab.pad_index, np.int64)
        self.targets = np.full((len(captions), width), vocab.pad_index, np.int64)
        self.lengths = np.array([len(c) + 1 for c in captions], np.int64)
        for i, caption in enumerate(captions):
            ids = vocab.lookup_indices(caption)
            self.inputs[i, :len(ids) + 1] = [vocab.bos_index] + ids
            self.targets[i, :len(ids) + 1] = ids + [vocab.eos_index]

    def __iter__(self):
        for idx in self.batch_indices():
            width = int(self.lengths[idx].max())
            yield (Tensor(self.images[idx]), from_numpy(self.inputs[idx, :width]),
                   from_numpy(self.targets[idx, :width]), self.lengths[idx], idx)


class CaptionTrainer(Trainer):
    """``Trainer`` of a ``Captioner`` on ``CaptionBatches``: ``CaptionLoss`` per batch;
    evaluation adds ``bleu`` and ``exact`` of the decoded captions (greedy, or beam search
    when the loader's ``beam_size`` > 1)."""

    unit = "images"

    def __init__(self, model, optimizer, vocab, max_len, lam, train_loader=None,
                 val_loader=None, **kwargs):
        super().__init__(model, optimizer, CaptionLoss(lam), train_loader, val_loader, **kwargs)
        self.vocab, self.max_len = vocab, max_len

    def _loss(self, batch, cross_entropy=False):
        """The loss of a batch (and its cross-entropy part when ``cross_entropy``)."""
        images, inputs, targets, lengths, _ = batch
        logits = self.model(images, inputs)
        loss = self.loss_fn(logits, targets, lengths, self.model.decoder.attention_weights)
        if not cross_entropy:
            return loss
        return loss, self.loss_fn.cross_entropy(logits, targets, lengths)

    def training_step(self, batch):
        return {"loss": self._loss(batch), "n": len(batch[4]), "correct": None}

    def caption(self, images, beam_size=1):
        ids = caption_images(self.model, images, self.vocab.bos_index, self.vocab.eos_index,
                             self.max_len, beam_size, LENGTH_ALPHA)
        return [" ".join(self.vocab.lookup_tokens(i)) for i in ids]

    def evaluate_loader(self, loader):
        was_training = self.model.training
        self.model.eval()
        total, ce, hyps, t0 = 0.0, 0.0, {}, time.perf_counter()
        try:
            for batch in loader:
                with no_grad():
                    loss, xent = self._loss(batch, cross_entropy=True)
                total += float(loss.item()) * len(batch[4])
                ce += float(xent.item()) * len(batch[4])
                hyps.update(zip(batch[4].tolist(), self.caption(batch[0], loader.beam_size)))
        finally:
            self.model.train(was_training)
        hyps = [hyps[i] for i in range(len(loader.references))]
        exact = float(np.mean([h in refs for h, refs in zip(hyps, loader.references)]))
        return {"loss": total / len(hyps), "acc": None, "n": len(hyps),
                "cross_entropy": ce / len(hyps), "exact": exact,
                "bleu": bleu_score(hyps, loader.references),
                "images_per_s": len(hyps) / max(time.perf_counter() - t0, 1e-9)}


def plot_caption_attention(image, words, weights, path, title=None, per_row=8):
    """Panels, ``per_row`` to a row: ``image`` (H, W) in [0, 1], then per word its attention
    ``weights[k]`` (h, w) upsampled (bilinear) over the image as a heat map, titled with the
    word. The panels are composed into one picture (one matplotlib image, fast to draw)."""
    from matplotlib import colormaps
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    height, width = image.shape
    up = interpolate(Tensor(np.asarray(weights, np.float64)[None]), size=(height, width),
                     mode="bilinear", align_corners=False).numpy()[0]
    grey = np.repeat(np.clip(image, 0, 1)[:, :, None], 3, 2)
    panels = [grey]
    for heat in up:
        colour = colormaps["jet"](heat / max(heat.max(), 1e-12))[:, :, :3]
        panels.append(0.5 * grey + 0.5 * colour)
    titles = ["image"] + list(words)
    cols = min(per_row, len(panels))
    rows = -(-len(panels) // cols)
    gap, head = 4, 14
    canvas = np.ones((rows * (height + head + gap), cols * (width + gap), 3))
    fig = Figure(figsize=(canvas.shape[1] / 60, canvas.shape[0] / 60 + (0.3 if title else 0)),
                 dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0, 0, 1, 0.92 if title else 1))
    for k, panel in enumerate(panels):
        top, left = (k // cols) * (height + head + gap) + head, (k % cols) * (width + gap)
        canvas[top:top + height, left:left + width] = panel
        ax.text(left + width / 2, top - 2, titles[k], ha="center", va="bottom", fontsize=8)
    ax.imshow(canvas, interpolation="nearest")
    ax.axis("off")
    if title:
        fig.suptitle(title, fontsize=9)
    fig.savefig(path)


def _draw_attention(model, vocab, image, ids, path, title=None):
    weights = caption_attention(model, Tensor(image[None]), [ids], vocab.bos_index,
                                vocab.eos_index)[0]
    plot_caption_attention(image[0], vocab.lookup_tokens(ids) + ["<eos>"], weights, path, title)


# ------------------------------------------------------------ minidl train captioning
def _channels(text):
    import argparse
    try:
        channels = tuple(int(c) for c in text.split(","))
    except ValueError:
        channels = ()
    if not channels or min(channels) < 1:
        raise argparse.ArgumentTypeError(f"expected comma-separated positive ints (e.g. "
                                         f"8,16,32,64), got {text!r}")
    return channels


def _add_arguments(parser):
    d = DEFAULTS
    add_training_arguments(parser, d)
    for action in parser._actions:
        if action.dest == "patience":
            action.help = ("stop early when the validation BLEU-4 has not improved for this "
                           "many epochs")
    parser.add_argument("--data", choices=sorted(SCENE_DATA), default="scenes-mnist",
                        help="the scene set (default scenes-mnist)")
    for name, kind, help_text in (
            ("embed_size", positive_int, "word embedding size"),
            ("hidden_size", positive_int, "LSTM state size"),
            ("attention_size", positive_int, "hidden width of the attention MLP"),
            ("channels", _channels, "conv channels per encoder block; a 2 x 2 pool follows "
                                    "all but the last (4 blocks: a 12 x 12 grid)"),
            ("dropout", fraction("a dropout probability 0 <= p < 1"),
             "dropout before the output layer"),
            ("attention_reg", non_negative_float, "lambda of the doubly stochastic attention "
                                                  "regulariser")):
        parser.add_argument("--" + name.replace("_", "-"), type=kind, default=d[name],
                            help=f"{help_text} (default {d[name]})")
    parser.add_argument("--no-gate", action="store_true",
                        help="no gating scalar beta on the attended context")
    parser.add_argument("--blind", action="store_true",
                        help="blank every image: the image-blind (language model) baseline")
    parser.add_argument("--beam-size", type=positive_int, default=3,
                        help="beam width of the final test captions (default 3; 1: greedy)")
    parser.add_argument("--train-scenes", type=positive_int, metavar="N",
                        help="number of training scenes (default 4000)")
    parser.add_argument("--eval-scenes", type=positive_int, metavar="N",
                        help="number of validation and test scenes (default 500; quick checks)")


def _strings(references):
    return [[" ".join(r) for r in refs] for refs in references]


def _run(args):
    prog = "minidl train captioning"
    t0 = time.perf_counter()
    sets = {split: open_scenes(args.data, split, n) for split, n in
            (("train", args.train_scenes), ("val", args.eval_scenes),
             ("test", args.eval_scenes))}
    captioner = SceneCaptioner.for_scenes(sets["train"])
    arrays = {split: s.to_arrays()[:2] for split, s in sets.items()}
    refs = {split: captioner.scene_references(targets) for split, (_, targets) in arrays.items()}
    train_captions = [r[0] for r in refs["train"]]
    vocab = Vocab(train_captions)
    max_len = max(len(c) for c in train_captions) + 3
    loaders = {
        "train": CaptionBatches(arrays["train"][0], train_captions, vocab, args.batch_size,
                                shuffle=True, seed=args.seed, blind=args.blind),
        **{split: CaptionBatches(arrays[split][0], [r[0] for r in refs[split]], vocab,
                                 EVAL_BATCH_SIZE, references=_strings(refs[split]),
                                 beam_size=beam, blind=args.blind)
           for split, beam in (("val", 1), ("test", args.beam_size))}}
    common = Counter(" ".join(c) for c in train_captions).most_common(1)[0][0]
    baseline = {"caption": common, **{
        f"{split}_bleu": bleu_score([common] * len(refs[split]), _strings(refs[split]))
        for split in ("val", "test")}}
    manual_seed(args.seed)
    model_kwargs = {"vocab_size": len(vocab), "image_shape": list(sets["train"][0][0].shape),
                    "channels": list(args.channels), "embed_size": args.embed_size,
                    "hidden_size": args.hidden_size, "attention_size": args.attention_size,
                    "dropout": args.dropout, "gate": not args.no_gate}
    try:
        model = Captioner(**model_kwargs)
    except ValueError as e:
        print(f"{prog}: error: {e}", file=sys.stderr)
        return 1
    optimizer = optim.Adam(model.parameters(), lr=args.lr)
    scheduler = optim.lr_scheduler.CosineAnnealingLR(
        optimizer, T_max=args.epochs * len(loaders["train"]))
    config = {"task": "captioning", "data": args.data, "model": model_kwargs,
              "vocab": vocab.to_dict(), "max_len": max_len,
              "names": captioner.names,
              "noun": captioner.noun, "blind": args.blind, "epochs": args.epochs,
              "batch_size": args.batch_size, "lr": args.lr, "optimizer": "adam",
              "scheduler": "cosine per step", "clip": CLIP, "attention_reg": args.attention_reg,
              "seed": args.seed, "beam_size": args.beam_size, "length_alpha": LENGTH_ALPHA,
              "train_scenes": len(sets["train"]), "monitor": "val_bleu", "baseline": baseline}
    out = args.out or default_out_dir("captioning", args.data)
    grid = model.encoder.grid
    print(f"{prog}: data {args.data} ({' / '.join(str(len(s)) for s in sets.values())} train "
          f"/ val / test scenes, vocabulary {len(vocab)}, captions up to {max_len - 3} words)"
          f", {'BLIND (blank images), ' if args.blind else ''}encoder {args.channels} -> "
          f"{grid[0]} x {grid[1]} grid, LSTM {args.hidden_size}, "
          f"{sum(p.numel() for p in model.parameters())} parameters, {args.epochs} epochs, "
          f"batch {args.batch_size}, adam lr {args.lr:g}, attention reg {args.attention_reg:g}, "
          f"seed {args.seed}", flush=True)
    print(f"image-blind baseline (the most frequent training caption {common!r} for every "
          f"scene): val BLEU-4 {baseline['val_bleu']:.2f}, test BLEU-4 "
          f"{baseline['test_bleu']:.2f}", flush=True)
    print(f"output folder: {out}", flush=True)
    stop = [] if args.patience is None else [EarlyStopping("val_bleu", args.patience, "max")]
    trainer = CaptionTrainer(
        model, optimizer, vocab, max_len, args.attention_reg, loaders["train"], loaders["val"],
        test_loader=loaders["test"], scheduler=scheduler, scheduler_interval="step",
        callbacks=stop, out_dir=out, progress=not args.no_progress, config=config,
        monitor="val_bleu", mode="max", clip_grad_norm=CLIP)
    trainer.fit(args.epochs)
    best, tested = trainer.best_metrics, trainer.test_metrics
    model.load_state_dict(trainer.best_state())
    test_images = loaders["test"].images
    shown = min(5, len(test_images))
    ids = caption_images(model, Tensor(test_images[:shown]), vocab.bos_index, vocab.eos_index,
                         max_len, args.beam_size, LENGTH_ALPHA)
    for i in range(shown):
        print(f"test scene {i}: {' '.join(vocab.lookup_tokens(ids[i]))!r}\n  references: "
              + " | ".join(loaders["test"].references[i]))
    _draw_attention(model, vocab, test_images[0], ids[0], os.path.join(out, "attention.png"),
                    f"test scene 0 (beam {args.beam_size})")
    save_image(Tensor(test_images[0]), os.path.join(out, "sample_scene.png"))
    print(f"done in {time.perf_counter() - t0:.1f}s: selected epoch {trainer.best_epoch} of "
          f"{trainer.epoch} (val BLEU-4 {best['val_bleu']:.2f}, exact "
          f"{100 * best['val_exact']:.1f}%); test with beam {args.beam_size}: BLEU-4 "
          f"{tested['bleu']:.2f}, exact {100 * tested['exact']:.1f}% (image-blind baseline "
          f"{baseline['test_bleu']:.2f}); {best['images_per_s']:.0f} training images/s; "
          f"checkpoints, metrics, curves, attention.png in {out}")
    return 0


register_task(Task("captioning", "show, attend and tell: CNN grid encoder + LSTM decoder with "
                                 "soft attention, captions of the scene sets, BLEU-4",
                   _add_arguments, _run))


# ------------------------------------------------------------------ minidl caption
def load_captioner(path):
    """``(model, vocab, config)`` rebuilt from a ``minidl train captioning`` checkpoint."""
    ckpt, config = load_task_checkpoint(path, "captioning")
    model = Captioner(**config["model"])
    model.load_state_dict(ckpt["model"])
    vocab = Vocab.from_dict(config["vocab"], path)
    return model.eval(), vocab, config


def _caption_arguments(parser):
    parser.add_argument("checkpoint", metavar="CHECKPOINT",
                        help="a .safetensors file written by 'minidl train captioning'")
    parser.add_argument("image", metavar="IMAGE", help="an image file (PNG, JPEG...)")
    parser.add_argument("--beam-size", type=positive_int, default=3,
                        help="beam width (default 3; 1: greedy)")
    parser.add_argument("--attention", metavar="PNG",
                        help="draw the attention of every word of the caption into this file")


def _caption_run(args):
    prog = "minidl caption"
    missing = report_missing_files(prog, checkpoint=args.checkpoint, image=args.image)
    if missing:
        return missing
    try:
        model, vocab, config = load_captioner(args.checkpoint)
        channels, *size = config["model"]["image_shape"]
        image, _ = read_image(args.image, channels, size)
    except (ValueError, KeyError, RuntimeError, OSError) as e:
        print(f"{prog}: error: {e}", file=sys.stderr)
        return 1
    if config["blind"]:
        image = np.zeros_like(image)
    ids = caption_images(model, Tensor(image[None]), vocab.bos_index, vocab.eos_index,
                         config["max_len"], args.beam_size, LENGTH_ALPHA)[0]
    print(" ".join(vocab.lookup_tokens(ids)))
    if args.attention:
        _draw_attention(model, vocab, image, ids, args.attention)
    return 0


register_command(Command(
    "caption", "caption an image with a trained 'minidl train captioning' model",
    _caption_arguments, _caption_run,
    description="Rebuild the captioner stored in CHECKPOINT, caption IMAGE (converted to the "
                "model's channels and resized to its training size) by beam search "
                "(--beam-size 1: greedy) and, with --attention, draw where each word looked."))
