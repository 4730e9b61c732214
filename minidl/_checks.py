"""Argument checks shared by model constructors (text and vision; errors name the argument)."""

__all__ = ["positive_int", "probability"]


def positive_int(owner, name, value):
    """``value`` if it is an int >= 1, else ValueError naming ``owner(name=)``."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{owner}({name}=) must be an int >= 1, got {value!r}")
    return value


def probability(owner, name, value):
    """``value`` if it is a number in [0, 1), else ValueError naming ``owner(name=)``."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < 1:
        raise ValueError(f"{owner}({name}=) must be a probability in [0, 1), got {value!r}")
    return value
