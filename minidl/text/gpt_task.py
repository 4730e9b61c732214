"""``minidl train gpt``: a decoder-only Transformer language model from the command line.

    minidl train gpt                              # the bundled Shakespeare, by characters
    minidl train gpt --data my_book.txt --epochs 3 --d-model 192
    minidl generate runs/gpt-shakespeare-.../best.safetensors --prompt "ROMEO:" [--no-cache]

The data, vocabulary, splits and protocol are the recurrent language models' (``lm_task``):
``--data shakespeare`` or any UTF-8 text file (90 / 5 / 5 % train / val / test), the
vocabulary from the training split, the epoch of lowest validation loss selected and
evaluated once on the test split. Differences, as for GPT-2 (Radford et al. 2019):

- every training sequence is an independent window of ``--seq-len`` tokens (the model's
  context; ``--partition random`` by default) and evaluation reads the validation / test
  text as consecutive windows, each from an empty context;
- AdamW (Loshchilov & Hutter 2019) with weight decay on the weight matrices and embeddings
  only (not on biases or LayerNorm), a linear warm-up over the first ``--warmup`` steps,
  then cosine decay to 0 (per step).
"""
import argparse
import sys

from .. import optim
from ..backend import manual_seed
from ..train.arguments import non_negative_float, positive_int
from ..train.tasks import Task, register_task
from .gpt import GPT
from .lm_task import add_corpus_arguments, prepare_corpus, train_language_model

__all__ = ["GPT_DEFAULTS", "decay_groups"]

# On the validation split of the bundled Shakespeare (4 x 128, context 128, 6 epochs of 227
# steps): lr 2e-3 with dropout 0.1 was at 2.21 after 2 epochs, lr 3e-3 without dropout at
# 2.08, ending at 1.776 (train 1.47: more epochs would need dropout). About 90 s an epoch
# on 2 idle cores.
GPT_DEFAULTS = {"epochs": 6, "batch_size": 32, "lr": 3e-3, "seq_len": 128, "d_model": 128,
                "num_layers": 4, "num_heads": 4, "dropout": 0.0, "weight_decay": 0.1,
                "warmup": 200, "clip": 1.0, "min_freq": 1, "partition": "random"}


def _add_arguments(parser):
    d = GPT_DEFAULTS
    add_corpus_arguments(parser, d)
    parser.add_argument("--tokenizer", choices=("char", "word"), default="char",
                        help="char: one token per character (default); word: lower-cased "
                             "words and line breaks")
    parser.add_argument("--d-model", type=positive_int, default=d["d_model"],
                        help=f"width of the residual stream (default {d['d_model']})")
    parser.add_argument("--num-layers", type=positive_int, default=d["num_layers"],
                        help=f"Transformer blocks (default {d['num_layers']})")
    parser.add_argument("--num-heads", type=positive_int, default=d["num_heads"],
                        help=f"attention heads per block (default {d['num_heads']})")
    parser.add_argument("--ff-dim", type=positive_int,
                        help="feed-forward hidden width (default 4 x --d-model)")
    parser.add_argument("--tie-weights", action=argparse.BooleanOptionalAction, default=True,
                        help="share the token embedding with the output layer's weight "
                             "(default: shared, as in GPT-2)")
    parser.add_argument("--weight-decay", type=non_negative_float, default=d["weight_decay"],
                        help=f"AdamW weight decay of the weight matrices (default "
                             f"{d['weight_decay']:g})")
    parser.add_argument("--warmup", type=int,
                        help=f"steps of linear learning-rate warm-up, fewer than the training "
                             f"steps (default {d['warmup']}, at most a tenth of them)")


def decay_groups(model, weight_decay):
    """AdamW parameter groups: weight decay on tensors of 2 or more dims (the matrices and
    embeddings), none on biases and LayerNorm gains."""
    params = list(model.parameters())
    return [{"params": [p for p in params if p.ndim >= 2], "weight_decay": weight_decay},
            {"params": [p for p in params if p.ndim < 2], "weight_decay": 0.0}]


def _run(args):
    prog = "minidl train gpt"
    spec = {"kind": "char"} if args.tokenizer == "char" else {"kind": "word", "lower": True}
    try:
        vocab, loaders, counts = prepare_corpus(args, spec)
        manual_seed(args.seed)
        model = GPT(len(vocab), args.seq_len, args.d_model, args.num_layers, args.num_heads,
                    args.ff_dim, args.dropout, args.tie_weights)
    except (ValueError, OSError) as e:
        print(f"{prog}: error: {e}", file=sys.stderr)
        return 1
    optimizer = optim.AdamW(decay_groups(model, args.weight_decay), lr=args.lr)
    total = args.epochs * len(loaders[0])
    warmup = min(GPT_DEFAULTS["warmup"], total // 10) if args.warmup is None else args.warmup
    if not 0 <= warmup < total:
        print(f"{prog}: error: --warmup must be >= 0 and below the {total} training steps, got "
              f"{warmup}", file=sys.stderr)
        return 1
    cosine = optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=total - warmup)
    if warmup:
        ramp = optim.lr_scheduler.LinearLR(optimizer, start_factor=1 / warmup, total_iters=warmup)
        scheduler = optim.lr_scheduler.SequentialLR(optimizer, [ramp, cosine], [warmup])
    else:
        scheduler = cosine
    config = {"task": "gpt", "epochs": args.epochs, "batch_size": args.batch_size,
              "lr": args.lr, "seq_len": args.seq_len, "partition": args.partition,
              "clip": args.clip, "min_freq": args.min_freq, "seed": args.seed,
              "optimizer": "adamw", "weight_decay": args.weight_decay,
              "scheduler": f"linear warm-up {warmup} steps, then cosine per step"}
    summary = (f"data {args.data} ({' / '.join(map(str, counts))} train / val / test tokens, "
               f"vocabulary {len(vocab)}), GPT {args.num_layers} x {args.d_model} "
               f"({args.num_heads} heads, context {args.seq_len}), {args.epochs} epochs, batch "
               f"{args.batch_size}, adamw lr {args.lr:g} weight decay {args.weight_decay:g}, "
               f"warm-up {warmup}, clip {args.clip:g}, {args.partition} windows, seed "
               f"{args.seed}")
    return train_language_model(prog, args, model, vocab, spec, loaders, optimizer, scheduler,
                                config, summary, stateful=False)


register_task(Task("gpt", "decoder-only Transformer (GPT-style) language model",
                   _add_arguments, _run))
