"""Layer 8: training loops, callbacks and task recipes (``minidl.train``).

``fit(model, train_loader, val_loader, optimizer, loss_fn, epochs, test_loader=...)`` runs
the epoch loop with a progress bar, per-epoch validation, model selection on it
(``best.safetensors`` / ``last.safetensors``), JSON + CSV metrics logs and a PNG of the
curves, and evaluates the selected weights on the test set once at the end; ``Trainer`` is
the same as an object; it resumes exactly (``checkpointing``). ``metrics`` has accuracy,
top-k accuracy, the confusion matrix and precision / recall / F1. ``splits``: seeded,
stratified train / validation (``stratified_split``), train / dev / test and the course's
training-dev split.
Recipes (``train_classifier``, ``evaluate_checkpoint``) back the ``minidl`` command.
"""
from . import metrics, recipes  # noqa: F401
from .callbacks import (  # noqa: F401
    Callback,
    EarlyStopping,
    MetricsLogger,
    ModelCheckpoint,
    PlotCurves,
    ProgressBar,
)
from .checkpointing import TrainingInterrupted  # noqa: F401
from .metrics import (  # noqa: F401
    accuracy,
    confusion_matrix,
    precision_recall_f1,
    top_k_accuracy,
)
from .recipes import RECIPES, Recipe, evaluate_checkpoint, register_recipe, train_classifier  # noqa: F401
from .regularization import l1_penalty, l2_penalty  # noqa: F401
from .splits import stratified_split, train_dev_test_split, training_dev_split  # noqa: F401
from .trainer import Trainer, evaluate, fit, load_checkpoint  # noqa: F401

__all__ = ["Callback", "ProgressBar", "ModelCheckpoint", "MetricsLogger", "PlotCurves",
           "EarlyStopping", "stratified_split", "train_dev_test_split",
           "training_dev_split", "Trainer", "fit", "evaluate",
           "load_checkpoint", "Recipe", "RECIPES", "register_recipe", "train_classifier",
           "evaluate_checkpoint", "l2_penalty", "l1_penalty", "TrainingInterrupted",
           "accuracy", "top_k_accuracy", "confusion_matrix", "precision_recall_f1"]
