"""Tensor probes and method forms that have no function of their own: the device probes
(``is_cpu``, ``get_device``), byte sizes (``nbytes``, ``itemsize``), ``in`` (``__contains__``)
and the method forms of the random draws ``bernoulli`` / ``multinomial``."""
from .. import _creation
from ..tensor import Tensor
from ._operands import is_number
from .compare import eq


def is_cpu(self):
    """Always True: minidl tensors live on the CPU."""
    return True


def get_device(self):
    """The device index: -1 for a CPU tensor, as in torch."""
    return -1


def nbytes(self):
    """Bytes of the elements: ``numel() * element_size()``."""
    return self.numel() * self.element_size()


def itemsize(self):
    """Bytes of one element (``element_size()``)."""
    return self.element_size()


def contains(self, element):
    """``element in tensor``: whether any element equals it (a tensor or a number)."""
    if not isinstance(element, Tensor) and not is_number(element):
        raise RuntimeError(f"Tensor.__contains__ only supports Tensor or scalar, but you "
                           f"passed in a {type(element)}.")
    return bool(eq(self, element)._data.any())


def bernoulli(self, p=None, *, generator=None):
    """``minidl.bernoulli(self, p, generator=...)``."""
    return _creation.bernoulli(self, p, generator=generator)


def multinomial(self, num_samples, replacement=False, *, generator=None):
    """``minidl.multinomial(self, num_samples, replacement, generator=...)``."""
    return _creation.multinomial(self, num_samples, replacement, generator=generator)
