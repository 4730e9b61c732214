"""Every minidl kernel is differentiated twice by at least one gradgrad case.

The cases live in this package's test_*.py modules (one per family of kernels); this test
runs each case's double backward once, records which kernels' backward was recorded, and
fails naming every Kernel subclass that no case reaches.
"""
import importlib
import pkgutil

import minidl.ops  # noqa: F401  (defines every kernel)
import tests.autograd.gradgrad as package
from minidl.autograd.function import Kernel
from tests.autograd.gradgrad.harness import kernels_recorded

# Kernels with nothing to differentiate twice, and why.
EXEMPT = {
    "PointwiseActivation": "abstract base (no f / grad of its own), never applied; each "
                           "subclass has cases",
    "_PointwiseLoss": "abstract base of the MSE / L1 / SmoothL1 / Huber losses (no f / df of "
                      "its own), never applied; each subclass has cases",
}


def _all_kernels():
    out, stack = set(), [Kernel]
    while stack:
        for sub in stack.pop().__subclasses__():
            out.add(sub)
            stack.append(sub)
    return out


def _cases():
    for info in pkgutil.iter_modules(package.__path__):
        if info.name.startswith("test_") and info.name != "test_coverage":
            yield from importlib.import_module(f"{package.__name__}.{info.name}").CASES


def test_every_kernel_has_a_gradgrad_case():
    reached = set()
    for case in _cases():
        reached |= kernels_recorded(case)
    missing = sorted(f"{k.__module__}.{k.__qualname__}" for k in _all_kernels() - reached
                     if k.__qualname__ not in EXEMPT)
    assert not missing, f"kernels no gradgrad case differentiates twice: {missing}"
