"""Face verification from the command line: ``minidl train siamese`` and ``minidl train
triplet``, one-shot verification on classes never seen in training.

    minidl train siamese --data mnist-mini                  # contrastive loss on pairs
    minidl train triplet --data mnist-mini --mining hard    # triplet loss, batch-hard
    minidl train triplet --data fashion-mnist-mini --unseen 7-9
    minidl train triplet --data ~/faces --image-size 64     # root/<person>/<image>
    minidl verify runs/triplet-*/best.safetensors a.png b.png  # same identity?

Protocol. The classes are split in two (``--unseen``: indices, ``a-b`` ranges or folder
names; default the last 30 %, e.g. digits 7, 8, 9). The embedding is trained on the seen
classes' training images less a stratified ``--val-fraction``, which validates every
epoch: ROC AUC of fixed same / different pairs selects the epoch, ``--patience`` watches
the validation loss, and the distance threshold is chosen on these pairs. At the end the
selected weights are evaluated once on the unseen classes (bundled data: their TEST split
images only; a folder: all their images): verification accuracy of balanced pairs at the
validation threshold, ROC AUC (``roc.png``), one-shot accuracy (one random reference image
per unseen class, nearest reference wins, mean of 20 draws), and ``neighbours.png``
(query images of unseen classes with their nearest neighbours; green frame: same class).

Training. ``siamese``: ``SiameseNetwork`` on balanced random pairs (new ones every epoch),
``contrastive_loss`` (Hadsell et al. 2006). ``triplet``: batches of ``--per-class`` images
of each of several seen classes, triplets mined in the batch from the current embeddings
(``--mining semi-hard`` (default, FaceNet), ``hard`` (batch hard) or ``all`` (every valid
triplet, the loss averaged over the active ones)), ``nn.TripletMarginLoss``. Both: Adam, a
cosine decay per step, unit-length embeddings of ``EmbeddingNet``, training images moved by
up to ``--shift`` pixels (default 2).

``minidl verify CHECKPOINT IMAGE IMAGE``: the two pictures, read as the training images were
(the model's channels, resized to its image size, normalised with the training mean and
std), are embedded; "same" when their distance is below the threshold chosen on the
validation pairs (stored with the checkpoint's metrics) or ``--threshold``.
"""
import os
import sys
import time

import numpy as np

from .. import optim
from .._creation import from_numpy
from ..autograd import no_grad
from ..backend import manual_seed
from ..nn import TripletMarginLoss
from ..train.arguments import number, positive_int
from ..train.splits import stratified_split
from ..train.tasks import (
    Command,
    Task,
    add_training_arguments,
    default_out_dir,
    register_command,
    register_task,
    report_missing_files,
)
from ..train.trainer import Trainer
from .face_data import ClassBalancedBatches, PairBatches, load_face_data
from .face_pictures import plot_roc, save_neighbours
from .face_verification import (
    MINERS,
    EmbeddingNet,
    SiameseNetwork,
    balanced_pairs,
    best_threshold,
    contrastive_loss,
    distance_matrix,
    one_shot_accuracy,
    roc_auc,
    roc_curve,
    verification_accuracy,
)
from .image_files import read_image

__all__ = ["FaceTrainer", "PairSet", "DEFAULTS", "build_face_model", "load_embedding_net",
           "verify_images"]

# chosen on mnist-mini: validation pairs of digits 0-6 and, for generalisation, pairs of
# the TRAIN split images of digits 7-9 (never the test split; see the README)
DEFAULTS = {"siamese": {"epochs": 8, "batch_size": 64, "lr": 2e-3, "margin": 1.0, "shift": 2},
            "triplet": {"epochs": 5, "batch_size": 64, "lr": 2e-3, "margin": 0.2, "shift": 2}}
EVAL_PAIRS = 6000
EMBED_BATCH = 500


class PairSet:
    """Images and fixed evaluation pairs: ``balanced_pairs`` (``n_pairs``, seeded) and as
    many random triplets (for the triplet validation loss). ``threshold_from``: the
    validation ``PairSet`` whose pairs choose the threshold (set on the test set)."""

    def __init__(self, images, labels, n_pairs, seed, threshold_from=None, one_shot=False):
        self.images, self.labels = images, labels
        rng = np.random.default_rng(seed)
        self.i, self.j, self.same = balanced_pairs(labels, n_pairs, rng)
        k = self.same
        negatives = [rng.choice(np.flatnonzero(labels != labels[a])) for a in self.i[k]]
        self.triplets = (self.i[k], self.j[k], np.array(negatives, dtype=np.int64))
        self.threshold_from, self.one_shot = threshold_from, one_shot
        self.seed = seed


class FaceTrainer(Trainer):
    """``Trainer`` of an embedding: ``method`` 'siamese' (``SiameseNetwork``, pairs,
    contrastive loss) or 'triplet' (``EmbeddingNet``, mined triplets). Evaluation on a
    ``PairSet``: ``loss``, ``auc``, ``verif_acc`` at the threshold (``threshold``) chosen
    on the set itself or on its ``threshold_from`` set, ``one_shot_acc`` when asked. Its
    ``loss_fn`` is ``nn.TripletMarginLoss(margin, reduction='none')`` (triplet only)."""

    unit = "images"

    def __init__(self, model, optimizer, method, margin, mining=None, train_loader=None,
                 val_loader=None, **kwargs):
        super().__init__(model, optimizer, TripletMarginLoss(margin, reduction="none"),
                         train_loader, val_loader, **kwargs)
        self.method, self.margin, self.mining = method, margin, mining

    @property
    def embedder(self):
        return self.model.embedding_net if self.method == "siamese" else self.model

    def triplet_loss(self, e, labels):
        """The loss of the triplets mined among embeddings ``e`` (zero when none is)."""
        dist = distance_matrix(e.detach().numpy())
        a, p, n = MINERS[self.mining](dist, labels, self.margin)
        if len(a) == 0:
            return (e * 0).sum()
        loss = self.loss_fn(e[a], e[p], e[n])
        if self.mining == "all":  # Hermans et al.: the mean over the active triplets
            return loss.sum() / max(int(np.count_nonzero(loss.detach().numpy() > 0)), 1)
        return loss.mean()

    def training_step(self, batch):
        if self.method == "siamese":
            x1, x2, same = batch
            e1, e2 = self.model(x1, x2)
            return {"loss": contrastive_loss(e1, e2, same, self.margin), "n": 2 * len(x1),
                    "correct": None}
        x, labels = batch
        return {"loss": self.triplet_loss(self.model(x), labels), "n": len(x),
                "correct": None}

    def embed(self, images):
        """NumPy embeddings of NumPy images, in eval mode without gradients."""
        net = self.embedder
        was_training = net.training
        net.eval()
        try:
            with no_grad():
                return np.concatenate([net(from_numpy(images[k:k + EMBED_BATCH])).numpy()
                                       for k in range(0, len(images), EMBED_BATCH)])
        finally:
            net.train(was_training)

    def _pair_distances(self, pairs):
        e = self.embed(pairs.images)
        return e, np.linalg.norm(e[pairs.i] - e[pairs.j], axis=1)

    def evaluate_loader(self, loader):
        e, d = self._pair_distances(loader)
        t = from_numpy(e)
        with no_grad():
            if self.method == "siamese":
                loss = contrastive_loss(t[loader.i], t[loader.j],
                                        from_numpy(loader.same.astype(np.float32)),
                                        self.margin)
            else:
                a, p, n = loader.triplets
                loss = self.loss_fn(t[a], t[p], t[n]).mean()
        chooser = loader.threshold_from or loader
        threshold = best_threshold(d if chooser is loader
                                   else self._pair_distances(chooser)[1], chooser.same)[0]
        result = {"loss": float(loss.item()), "acc": None, "n": len(loader.images),
                  "auc": roc_auc(-d, loader.same),
                  "verif_acc": verification_accuracy(d, loader.same, threshold),
                  "threshold": threshold}
        if loader.one_shot:
            mean, std = one_shot_accuracy(e, loader.labels, np.random.default_rng(loader.seed))
            result.update(one_shot_acc=mean, one_shot_std=std)
        return result


MODEL_ARGS = ("in_channels", "embedding_dim", "width", "depth", "pool_size")


def build_face_model(method, **kwargs):
    """The model a checkpoint's ``config['model']`` describes: ``SiameseNetwork`` of an
    ``EmbeddingNet`` ('siamese') or the ``EmbeddingNet`` itself ('triplet')."""
    if method not in DEFAULTS:
        raise ValueError(f"unknown face verification method {method!r} (expected 'siamese' "
                         f"or 'triplet')")
    extra = sorted(set(kwargs) - set(MODEL_ARGS))
    if extra:
        raise TypeError(f"build_face_model takes {', '.join(MODEL_ARGS)}; unexpected: "
                        f"{', '.join(extra)}")
    net = EmbeddingNet(**kwargs)
    return SiameseNetwork(net) if method == "siamese" else net


def load_embedding_net(path):
    """``(EmbeddingNet, config)`` rebuilt from a ``minidl train siamese|triplet``
    checkpoint."""
    net, config, _ = _load_embedding(path)
    return net, config


def _load_embedding(path):
    from ..train.tasks import load_task_checkpoint
    ckpt, config = load_task_checkpoint(path, tuple(DEFAULTS))
    model = build_face_model(config["task"], **config["model"])
    model.load_state_dict(ckpt["model"])
    net = model.embedding_net if config["task"] == "siamese" else model
    return net, config, ckpt.get("metrics") or {}


def verify_images(path, first, second, threshold=None):
    """``(distance, threshold, same)`` for two image files and the ``minidl train siamese
    | triplet`` checkpoint at ``path``: the embeddings' Euclidean distance, the threshold
    (``threshold``, else the validation one the checkpoint's metrics hold) and distance <
    threshold."""
    net, config, metrics = _load_embedding(path)
    if threshold is None:
        threshold = metrics.get("val_threshold")
        if threshold is None:
            raise ValueError(f"{path} holds no validation threshold (metrics "
                             f"'val_threshold'); give one with --threshold")
    size = config["image_size"]
    mean = np.asarray(config["mean"], np.float32).reshape(-1, 1, 1)
    std = np.asarray(config["std"], np.float32).reshape(-1, 1, 1)
    images = np.stack([(read_image(f, config["model"]["in_channels"], (size, size))[0] - mean)
                       / std for f in (first, second)])
    net.eval()
    with no_grad():
        e = net(from_numpy(images.astype(np.float32))).numpy()
    distance = float(np.linalg.norm(e[0] - e[1]))
    return distance, float(threshold), distance < threshold


# --------------------------------------------------------------- the commands
def _add_arguments(method):
    d = DEFAULTS[method]

    def add(parser):
        add_training_arguments(parser, d)
        parser.add_argument("--data", default="mnist-mini",
                            help="mnist-mini (default), fashion-mnist-mini, or a folder of "
                                 "images, one sub-folder per identity (ImageFolder layout)")
        parser.add_argument("--unseen", metavar="CLASSES",
                            help="classes held out of training and tested on: indices, a-b "
                                 "ranges or folder names, comma-separated (default: the last "
                                 "30%% of the classes, e.g. 7-9 for digits)")
        parser.add_argument("--val-fraction", type=number(float, 0.01, "a fraction "
                                                          "0.01 <= f < 1", below=1.0),
                            default=0.1, help="share of every seen class's training images "
                                              "kept for validation (default 0.1)")
        parser.add_argument("--margin", type=number(float, 1e-9, "a margin > 0"),
                            default=d["margin"], help=f"loss margin (default {d['margin']})")
        parser.add_argument("--embedding-dim", type=positive_int, default=32,
                            help="embedding size (default 32)")
        parser.add_argument("--width", type=positive_int, default=32,
                            help="channels of the first conv block, doubled per block "
                                 "(default 32)")
        parser.add_argument("--depth", type=positive_int, default=3,
                            help="conv blocks (default 3)")
        parser.add_argument("--pool-size", type=positive_int, default=1,
                            help="the last feature map is averaged to this square grid "
                                 "before the linear layer (default 1: global pooling)")
        parser.add_argument("--image-size", type=number(int, 8, "an integer >= 8"),
                            help="images are resized to this square size (default: 28 for "
                                 "the bundled data, 64 for a folder)")
        parser.add_argument("--grey", action="store_true",
                            help="read a folder's images as grey (default RGB; the bundled "
                                 "data is grey)")
        parser.add_argument("--shift", type=number(int, 0, "an integer >= 0"),
                            default=d["shift"],
                            help=f"training augmentation: move every image by up to this many "
                                 f"pixels along each axis (default {d['shift']}; 0: none)")
        parser.add_argument("--limit", type=positive_int, metavar="N",
                            help="train on N training images only (quick checks)")
        parser.add_argument("--eval-pairs", type=number(int, 10, "an integer >= 10"),
                            default=EVAL_PAIRS, help=f"same / different pairs of the "
                                                     f"validation and test evaluations "
                                                     f"(default {EVAL_PAIRS}, half same)")
        if method == "triplet":
            parser.add_argument("--mining", choices=tuple(MINERS), default="semi-hard",
                                help="triplets mined in each batch: semi-hard (default, "
                                     "FaceNet), hard (hardest positive and negative per "
                                     "anchor) or all (every valid triplet)")
            parser.add_argument("--per-class", type=number(int, 2, "an integer >= 2"),
                                default=8, help="images of each class in a batch (default 8;"
                                                " batch-size / per-class classes)")
    return add


def _run(method):
    def run(args):
        prog = f"minidl train {method}"
        t0 = time.perf_counter()
        try:
            data = load_face_data(args.data, args.unseen, args.image_size, not args.grey)
        except (ValueError, FileNotFoundError, RuntimeError) as e:
            print(f"{prog}: error: {e}", file=sys.stderr)
            return 1
        return _train(method, args, data, prog, t0)
    return run


def _train(method, args, data, prog, t0):
    x, y = data["train"]
    try:
        tr, va = stratified_split(y, args.val_fraction, args.seed)
    except ValueError as e:
        print(f"{prog}: error: {e}", file=sys.stderr)
        return 1
    if args.limit:
        tr = np.sort(np.random.default_rng(args.seed).permutation(tr)[:args.limit])
    x_test, y_test = data["test"]
    try:
        val = PairSet(x[va], y[va], args.eval_pairs, args.seed)
        test = PairSet(x_test, y_test, args.eval_pairs, args.seed + 1, threshold_from=val,
                       one_shot=True)
        if method == "siamese":
            train = PairBatches(x[tr], y[tr], args.batch_size, args.seed, args.shift)
        else:
            train = ClassBalancedBatches(x[tr], y[tr], args.batch_size, args.per_class,
                                         args.seed, args.shift)
    except ValueError as e:
        print(f"{prog}: error: {e}", file=sys.stderr)
        return 1
    manual_seed(args.seed)
    model_kwargs = {"in_channels": x.shape[1], "embedding_dim": args.embedding_dim,
                    "width": args.width, "depth": args.depth, "pool_size": args.pool_size}
    model = build_face_model(method, **model_kwargs)
    optimizer = optim.Adam(model.parameters(), lr=args.lr)
    scheduler = optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=args.epochs * len(train))
    seen, unseen = data["seen"], data["unseen"]
    config = {"task": method, "data": args.data, "classes": data["classes"],
              "seen": seen, "unseen": unseen, "image_size": x.shape[-1],
              "mean": data["mean"], "std": data["std"], "model": model_kwargs,
              "epochs": args.epochs, "batch_size": args.batch_size, "lr": args.lr,
              "margin": args.margin, "optimizer": "adam", "scheduler": "cosine per step",
              "shift": args.shift, "val_fraction": args.val_fraction, "eval_pairs": args.eval_pairs,
              "seed": args.seed, "limit": args.limit, "monitor": "val_auc"}
    how = "contrastive loss on pairs"
    if method == "triplet":
        config.update(mining=args.mining, per_class=args.per_class)
        how = (f"triplet loss, {args.mining} mining, {train.classes_per_batch} classes x "
               f"{args.per_class} images per batch")
    out = args.out or default_out_dir(method, args.data)
    names = data["classes"]
    n_params = sum(p.numel() for p in model.parameters())
    print(f"{prog}: data {args.data} ({x.shape[1]} x {x.shape[2]} x {x.shape[3]}); seen "
          f"classes {', '.join(names[c] for c in seen)}: {len(tr)} train / {len(va)} val "
          f"images; unseen classes {', '.join(names[c] for c in unseen)}: {len(x_test)} "
          f"test images ({data['test_source']}); {how}, margin {args.margin:g}; embedding "
          f"{args.embedding_dim}, width {args.width}, depth {args.depth}, pool "
          f"{args.pool_size}, {n_params} "
          f"parameters; {args.epochs} epochs, batch {args.batch_size}, adam lr {args.lr:g}, "
          f"shift {args.shift}, seed {args.seed}", flush=True)
    print(f"output folder: {out}", flush=True)
    trainer = FaceTrainer(model, optimizer, method, args.margin, getattr(args, "mining", None),
                          train, val, test_loader=test, scheduler=scheduler,
                          scheduler_interval="step", out_dir=out,
                          progress=not args.no_progress, config=config,
                          early_stopping_patience=args.patience, monitor="val_auc", mode="max")
    trainer.fit(args.epochs)
    best, t = trainer.best_metrics, trainer.test_metrics
    model.load_state_dict(trainer.best_state())
    e_test = trainer.embed(x_test)
    d_test = np.linalg.norm(e_test[test.i] - e_test[test.j], axis=1)
    plot_roc(*roc_curve(-d_test, test.same), t["auc"], os.path.join(out, "roc.png"),
             f"{method}: unseen classes {', '.join(names[c] for c in unseen)}")
    save_neighbours(x_test, y_test, e_test, os.path.join(out, "neighbours.png"),
                    data["mean"], data["std"], np.random.default_rng(args.seed))
    print(f"done in {time.perf_counter() - t0:.1f}s: selected epoch {trainer.best_epoch} of "
          f"{trainer.epoch} (val AUC {best['val_auc']:.4f}, val threshold "
          f"{best['val_threshold']:.3f}); unseen classes (test): verification accuracy "
          f"{100 * t['verif_acc']:.2f}% at the val threshold, ROC AUC {t['auc']:.4f}, "
          f"one-shot accuracy {100 * t['one_shot_acc']:.2f}% (+- {100 * t['one_shot_std']:.2f}"
          f", {len(unseen)} classes); checkpoints, metrics, curves, roc.png, neighbours.png "
          f"in {out}")
    return 0


register_task(Task("siamese", "face verification: Siamese embedding network, contrastive "
                              "loss, tested one-shot on unseen classes",
                   _add_arguments("siamese"), _run("siamese")))
register_task(Task("triplet", "face verification: embedding network, triplet loss with "
                              "semi-hard / hard mining, tested one-shot on unseen classes",
                   _add_arguments("triplet"), _run("triplet")))


def _verify_arguments(parser):
    parser.add_argument("checkpoint", metavar="CHECKPOINT",
                        help="a checkpoint of minidl train siamese / triplet (best.safetensors)")
    parser.add_argument("first", metavar="IMAGE", help="an image file (PNG, JPEG...)")
    parser.add_argument("second", metavar="IMAGE", help="the image to compare it with")
    parser.add_argument("--threshold", type=number(float, 0.0, "a distance >= 0"),
                        help="call the pair the same below this embedding distance (default: "
                             "the threshold chosen on the validation pairs)")


def _verify_run(args):
    prog = "minidl verify"
    missing = report_missing_files(prog, checkpoint=args.checkpoint, image=args.first,
                                   second_image=args.second)
    if missing:
        return missing
    try:
        distance, threshold, same = verify_images(args.checkpoint, args.first, args.second,
                                                  args.threshold)
    except (ValueError, KeyError, RuntimeError) as e:
        print(f"{prog}: error: {e}", file=sys.stderr)
        return 1
    print(f"{args.first} vs {args.second}: distance {distance:.4f}, threshold {threshold:.4f}"
          f": {'same' if same else 'different'}")
    return 0


register_command(Command(
    "verify", "say whether two images show the same identity (face verification)",
    _verify_arguments, _verify_run,
    description="Embed the two IMAGEs with the network stored in CHECKPOINT (minidl train "
                "siamese / triplet) and print their distance and 'same' or 'different' at "
                "the validation threshold (or --threshold)."))
