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
import sys
from dataclasses import dataclass

from .arguments import add_training_arguments, default_out_dir  # noqa: F401 (re-exported)

__all__ = ["Task", "Command", "TASKS", "COMMANDS", "PROVIDERS", "register_task",
           "register_command", "load_providers", "add_training_arguments", "default_out_dir",
           "load_task_checkpoint", "report_missing_files"]

# Modules that register tasks and commands when imported.
PROVIDERS = ("minidl.text.lm_task", "minidl.text.gpt_task", "minidl.text.seq2seq_task",
             "minidl.text.word2vec_task", "minidl.vision.detection_task",
             "minidl.vision.segmentation_task", "minidl.vision.super_resolution_task",
             "minidl.vision.srgan_task", "minidl.vision.face_task",
             "minidl.vision.captioning_task", "minidl.vision.style_task",
             "minidl.vision.autoencoder_task", "minidl.vision.gan_task",
             "minidl.vision.sample_command", "minidl.train.gradcheck_command",
             "minidl.train.ensemble", "minidl.train.tune", "minidl.train.analyze")


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


def load_task_checkpoint(path, tasks):
    """``(checkpoint, config)`` of a checkpoint that ``minidl train`` wrote for one of
    ``tasks`` (a name or several); a checkpoint of another task is refused by name."""
    from .trainer import load_checkpoint
    names = (tasks,) if isinstance(tasks, str) else tuple(tasks)
    ckpt = load_checkpoint(path)
    config = ckpt.get("config") or {}
    if config.get("task") not in names:
        raise ValueError(f"{path} is not a checkpoint of 'minidl train {' | '.join(names)}' "
                         f"(its config names the task {config.get('task')!r})")
    return ckpt, config


def report_missing_files(prog, **paths):
    """For a command's file arguments (``checkpoint=path, image=path``): print
    ``prog: error: <name> '<path>' does not exist`` for the first that is not a file and
    return the exit status 1; None when they all exist."""
    for what, path in paths.items():
        if not os.path.isfile(path):
            print(f"{prog}: error: {what} {path!r} does not exist", file=sys.stderr)
            return 1
    return None
