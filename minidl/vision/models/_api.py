"""The model registry: ``list_models``, ``get_model``, ``get_model_builder`` (torchvision's API).

A builder registers itself with ``@register_model()`` (under its function name) and is then
reachable by name from Python and from the ``minidl`` command line.
"""
__all__ = ["register_model", "list_models", "get_model", "get_model_builder"]

_MODELS = {}


def register_model(name=None):
    """Decorator: record a builder function under ``name`` (default: its ``__name__``)."""
    def wrap(fn):
        key = name or fn.__name__
        if key in _MODELS:
            raise ValueError(f"An entry is already registered under the name '{key}'.")
        _MODELS[key] = fn
        return fn
    return wrap


def list_models():
    """The names of the registered model builders, sorted."""
    return sorted(_MODELS)


def get_model_builder(name):
    """The builder function registered under ``name``."""
    try:
        return _MODELS[name.lower()]
    except KeyError:
        raise ValueError(f"Unknown model {name!r}; available models: "
                         f"{', '.join(list_models())}") from None


def get_model(name, **config):
    """Build the model registered under ``name`` with the keyword arguments ``config``."""
    return get_model_builder(name)(**config)
