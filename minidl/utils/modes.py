"""``eval_mode(model)``: run a model in evaluation mode for a while, then give every
submodule back its own training flag (``model.train(was_training)`` would overwrite the
flags of submodules a user had set apart, e.g. a frozen BatchNorm)."""
from contextlib import contextmanager

__all__ = ["eval_mode"]


@contextmanager
def eval_mode(model):
    """Context manager: ``model.eval()`` inside, every submodule's ``training`` restored after."""
    flags = [(m, m.training) for m in model.modules()]
    model.eval()
    try:
        yield model
    finally:
        for m, flag in flags:
            m.training = flag
