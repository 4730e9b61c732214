"""``minidl.nn.functional`` (``F``): the stateless forms of every layer and loss.

The functions live with their kernels in ``minidl.ops``; this namespace gathers the names
each kernel family lists in its ``FUNCTIONAL``.
"""
from ..ops import FAMILIES as _FAMILIES

for _family in _FAMILIES:
    globals().update({_name: getattr(_family, _name) for _name in _family.FUNCTIONAL})
del _family, _FAMILIES
