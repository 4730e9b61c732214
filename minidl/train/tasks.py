"""Training tasks beyond the image classifiers, and the commands that use their checkpoints.

``minidl train NAME`` trains either a model of the zoo on images (``recipes``) or a *task*
registered here: a language model, word2vec, a translator... A ``Task`` brings its own
command-line options (``add_arguments``) and its training run (``run(args) -> exit
status``); a ``Command`` is a further ``minidl`` sub-command (``generate``, ``translate``)
built the same way. The modules in ``PROVIDERS`` register them when imported, so the
command line lists whatever exists and nothing here knows the tasks themselves.

Every task follows the same protocol as the image recipes: model selection and early
stopping on a validation split, the test split evaluated once at the end, checkpoints,
logs and curves in ``--out`` (``add_training_arguments`` gives them the shared options).
"""
import importlib
import os
import time
from dataclasses import dataclass

__all__ = ["Task", "Command", "TASKS", "COMMANDS", "PROVIDERS", "register_task",
           "register_command", "load_providers", "add_training_arguments", "default_out_dir"]

# Modules that register tasks and commands when imported.
PROVIDERS = ()


@dataclass
class Task:
    """A ``minidl train NAME`` entry: its options and its run (returns the exit status)."""

    name: str
    description: str
    add_arguments: callable
    run: callable


@dataclass
class Command:
    """A ``minidl NAME`` sub-command: its help line, options and run."""

    name: str
    help: str
    add_arguments: callable
    run: callable
    description: str = None


TASKS = {}
COMMANDS = {}


def register_task(task):
    if task.name in TASKS:
        raise ValueError(f"a task named {task.name!r} is already registered")
    TASKS[task.name] = task
    return task


def register_command(command):
    if command.name in COMMANDS:
        raise ValueError(f"a command named {command.name!r} is already registered")
    COMMANDS[command.name] = command
    return command


def load_providers():
    """Import every provider module once (each registers its tasks and commands)."""
    for name in PROVIDERS:
        importlib.import_module(name)


def add_training_arguments(parser, defaults):
    """The options every training task shares; ``defaults`` gives each its value."""
    from ..cli import THREADS_HELP, _non_negative_float, _positive_int
    d = defaults
    parser.add_argument("--epochs", type=_positive_int, default=d["epochs"],
                        help=f"number of epochs (default {d['epochs']})")
    parser.add_argument("--batch-size", type=_positive_int, default=d["batch_size"],
                        help=f"training batch size (default {d['batch_size']})")
    parser.add_argument("--lr", type=_non_negative_float, default=d["lr"],
                        help=f"learning rate (default {d['lr']:g})")
    parser.add_argument("--patience", type=_positive_int, default=d.get("patience"),
                        help="stop early when the validation loss has not improved for this "
                             "many epochs")
    parser.add_argument("--seed", type=int, default=d.get("seed", 0),
                        help=f"random seed (default {d.get('seed', 0)})")
    parser.add_argument("--out", help="output folder (default runs/<task>-<data>-<timestamp>)")
    parser.add_argument("--threads", type=_positive_int, metavar="N", help=THREADS_HELP)
    parser.add_argument("--no-progress", action="store_true",
                        help="no progress bar; print one line per epoch")


def default_out_dir(name, data):
    """``runs/<name>-<data>-<timestamp>`` (a folder's base name for ``data``), made unique."""
    data = str(data)
    tag = os.path.basename(os.path.normpath(data)) if os.path.isdir(data) else data
    base = os.path.join("runs", f"{name}-{tag}-{time.strftime('%Y%m%d-%H%M%S')}")
    out, i = base, 1
    while os.path.exists(out):
        i += 1
        out = f"{base}-{i}"
    return out
