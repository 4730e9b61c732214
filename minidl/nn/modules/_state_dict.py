"""State dicts of a module tree: ``Module.state_dict`` collects what each module's
``_save_to_state_dict`` gives, ``Module.load_state_dict`` hands the entries back through each
module's ``_load_from_state_dict`` (both may be overridden by subclasses)."""
import itertools
from collections import OrderedDict, namedtuple

import numpy as np

from ...autograd.grad_mode import no_grad
from ...tensor import Size, Tensor
from ..parameter import Parameter


class _IncompatibleKeys(namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])):
    """What ``load_state_dict`` returns: the keys it missed and the keys it did not use."""

    def __repr__(self):
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return (f"_IncompatibleKeys(missing_keys={self.missing_keys}, "
                f"unexpected_keys={self.unexpected_keys})")

    __str__ = __repr__


def _to_array(value):
    """A NumPy array for a checkpoint value (minidl / torch tensor, ndarray); None if not one."""
    if isinstance(value, Tensor):
        return value._data
    if isinstance(value, np.ndarray):
        return value
    if hasattr(value, "detach") and hasattr(value, "numpy"):  # a torch tensor
        return value.detach().cpu().numpy()
    if hasattr(value, "__array__") and hasattr(value, "shape"):
        return np.asarray(value)
    return None


def save_state_dict(root, destination, prefix, keep_vars):
    """``destination`` (a new OrderedDict when None) filled by ``_save_to_state_dict`` of
    ``root`` and its descendants, depth first, keys prefixed by their dotted path."""
    if destination is None:
        destination = OrderedDict()
    stack = [(prefix, root)]
    while stack:
        pre, mod = stack.pop()
        mod._save_to_state_dict(destination, pre, keep_vars)
        stack.extend(reversed([(pre + k + ".", m) for k, m in mod._modules.items()
                               if m is not None]))
    return destination


def load_own_entries(module, state_dict, prefix, missing_keys, error_msgs, assign):
    """Copy (or with ``assign``, install) ``module``'s own parameters and persistent buffers
    from ``state_dict[prefix + name]``; no recursion into children."""
    persistent = {k: v for k, v in module._buffers.items()
                  if k not in module._non_persistent_buffers_set}
    local = list(itertools.chain(module._parameters.items(), persistent.items()))
    for name, current in local:
        if current is None:
            continue
        key = prefix + name
        if key not in state_dict:
            missing_keys.append(key)
            continue
        value = state_dict[key]
        array = _to_array(value)
        if array is None:
            error_msgs.append(f'While copying the parameter named "{key}", expected '
                              f'torch.Tensor or Tensor-like object from checkpoint but '
                              f'received {type(value)}')
            continue
        if array.shape != current._data.shape:
            error_msgs.append(f"size mismatch for {key}: copying a param with shape "
                              f"{Size(array.shape)!r} from checkpoint, the shape in current "
                              f"model is {current.shape!r}.")
            continue
        if assign:
            new = array.astype(current._data.dtype, copy=True) \
                if array.dtype != current._data.dtype else np.array(array)
            if isinstance(current, Parameter):
                setattr(module, name, Parameter(new, requires_grad=current.requires_grad))
            else:
                module._buffers[name] = Tensor(new)
        else:
            with no_grad():
                current._set_data_(array)


def load_state_dict(root, state_dict, strict, assign):
    """Call ``_load_from_state_dict`` on ``root`` and every descendant, then report (or with
    ``strict``, raise on) the missing and unexpected keys."""
    if not hasattr(state_dict, "keys") or not hasattr(state_dict, "__getitem__"):
        raise TypeError(f"Expected state_dict to be dict-like, got {type(state_dict)}.")
    state_dict = OrderedDict(state_dict)
    missing, unexpected, errors = [], [], []
    stack = [("", root)]
    while stack:
        prefix, mod = stack.pop()
        mod._load_from_state_dict(state_dict, prefix, {}, True, missing, unexpected, errors,
                                  assign)
        stack.extend(reversed([(prefix + k + ".", m) for k, m in mod._modules.items()
                               if m is not None]))
    expected = set(root.state_dict().keys())
    unexpected.extend(k for k in state_dict if k not in expected)
    if strict:
        if unexpected:
            errors.insert(0, "Unexpected key(s) in state_dict: {}. ".format(
                ", ".join(f'"{k}"' for k in unexpected)))
        if missing:
            errors.insert(0, "Missing key(s) in state_dict: {}. ".format(
                ", ".join(f'"{k}"' for k in missing)))
    if errors:
        raise RuntimeError("Error(s) in loading state_dict for {}:\n\t{}".format(
            root._get_name(), "\n\t".join(errors)))
    return _IncompatibleKeys(missing, unexpected)
