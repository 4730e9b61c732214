"""Grad modes: whether ops record the graph (``no_grad``, ``enable_grad``, ``set_grad_enabled``)."""
import functools
import threading

__all__ = ["no_grad", "enable_grad", "set_grad_enabled", "is_grad_enabled", "inference_mode",
           "is_inference_mode_enabled"]


class _State(threading.local):
    """Per-thread grad mode; class defaults, so that a thread's first read is a plain lookup
    (a getattr default costs a caught AttributeError on every op until the first set)."""
    enabled = True
    inference = False


_state = _State()


def is_grad_enabled():
    return _state.enabled


def is_inference_mode_enabled():
    """Whether an ``inference_mode()`` region (not ``no_grad``) is active, as in torch."""
    return _state.inference


def _set(mode):
    _state.enabled = bool(mode)


def _switch(grad_mode, inference):
    """Set grad mode (and the inference flag unless ``inference`` is None); the previous pair."""
    prev = (is_grad_enabled(), is_inference_mode_enabled())
    _set(grad_mode)
    if inference is not None:
        _state.inference = inference
    return prev


def _restore(prev):
    _state.enabled, _state.inference = prev


class _GradMode:
    """Context manager and decorator that sets grad mode and restores it on exit."""

    mode = True
    inference = None  # inference_mode sets the inference flag; the other modes keep it

    def __enter__(self):
        self._prev = _switch(self.mode, self.inference)
        return self

    def __exit__(self, *exc):
        _restore(self._prev)
        return False

    def __call__(self, fn):
        mode, inference = self.mode, self.inference

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            prev = _switch(mode, inference)
            try:
                return fn(*args, **kwargs)
            finally:
                _restore(prev)
        return wrapper


class no_grad(_GradMode):
    """Ops inside do not record the graph; results have ``requires_grad=False``."""
    mode = False


class enable_grad(_GradMode):
    mode = True


class inference_mode(_GradMode):
    """Same as ``no_grad`` here (minidl has no separate inference tensors)."""

    def __init__(self, mode=True):
        self.mode = not mode
        self.inference = bool(mode)


class set_grad_enabled(_GradMode):
    """``set_grad_enabled(False)`` works as a call, a context manager and a decorator."""

    def __init__(self, mode):
        self.mode = bool(mode)
        self._prev = is_grad_enabled()
        _set(self.mode)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        _set(self._prev)
        return False

    def __call__(self, fn):
        _set(self._prev)  # used as a decorator: the mode applies only inside fn
        return super().__call__(fn)
