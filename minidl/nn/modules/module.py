"""``Module``: the base class of every layer and model (``torch.nn.Module``).

A module keeps three ordered registries -- ``_parameters``, ``_buffers`` and ``_modules`` --
filled by plain attribute assignment (``self.fc = Linear(...)``). Everything else (walking
the tree, ``state_dict``, moving dtypes, hooks, printing) is built on those registries.
"""
from collections import OrderedDict, namedtuple
import itertools

import numpy as np

from ...autograd import Kernel
from ...autograd.function import RemovableHandle
from ...autograd.grad_mode import no_grad
from ...backend import as_dtype
from ...tensor import Tensor, Size
from ..parameter import Parameter, Buffer

__all__ = ["Module"]


class _IncompatibleKeys(namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])):
    """What ``load_state_dict`` returns: the keys it missed and the keys it did not use."""

    def __repr__(self):
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return (f"_IncompatibleKeys(missing_keys={self.missing_keys}, "
                f"unexpected_keys={self.unexpected_keys})")

    __str__ = __repr__


def _type_name(value):
    """torch's legacy tensor type names in assignment errors ('torch.FloatTensor')."""
    if isinstance(value, Tensor):
        names = {"float32": "FloatTensor", "float64": "DoubleTensor", "float16": "HalfTensor",
                 "int64": "LongTensor", "int32": "IntTensor", "int16": "ShortTensor",
                 "int8": "CharTensor", "uint8": "ByteTensor", "bool": "BoolTensor"}
        return "torch." + names.get(value.dtype.name, "Tensor")
    return type(value).__name__


def _addindent(text, spaces):
    """Indent every line of ``text`` but the first by ``spaces``."""
    lines = text.split("\n")
    if len(lines) == 1:
        return text
    pad = " " * spaces
    return lines[0] + "\n" + "\n".join(pad + line for line in lines[1:])


class Module:
    """Base class for all neural network modules; subclass and define ``forward``."""

    _version = 1
    training: bool

    def __init__(self, *args, **kwargs):
        if args or kwargs:
            raise TypeError(f"{type(self).__name__}.__init__() got unexpected arguments: "
                            f"{args} {kwargs}")
        d = self.__dict__
        d["training"] = True
        d["_parameters"] = OrderedDict()
        d["_buffers"] = OrderedDict()
        d["_non_persistent_buffers_set"] = set()
        d["_modules"] = OrderedDict()
        d["_forward_pre_hooks"] = []
        d["_forward_hooks"] = []
        d["_backward_hooks"] = []
        d["_backward_pre_hooks"] = []

    def forward(self, *args, **kwargs):
        raise NotImplementedError(f'Module [{type(self).__name__}] is missing the required '
                                  f'"forward" function')

    # ------------------------------------------------------------ registration
    def _check_name(self, name, kind, registry):
        if "_parameters" not in self.__dict__:
            raise AttributeError(f"cannot assign {kind} before Module.__init__() call")
        if not isinstance(name, str):
            raise TypeError(f"{kind} name should be a string. Got {type(name).__name__}")
        if "." in name:
            raise KeyError(f"{kind} name can't contain \".\"")
        if name == "":
            raise KeyError(f"{kind} name can't be empty string \"\"")
        if hasattr(self, name) and name not in registry:
            raise KeyError(f"attribute '{name}' already exists")

    def register_buffer(self, name, tensor, persistent=True):
        """Keep ``tensor`` with the module (moved by ``to``, saved by ``state_dict`` when
        ``persistent``) without training it."""
        if "_buffers" not in self.__dict__:
            raise AttributeError("cannot assign buffer before Module.__init__() call")
        self._check_name(name, "buffer", self._buffers)
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(f"cannot assign '{_type_name(tensor)}' object to buffer '{name}' "
                            f"(torch Tensor or None required)")
        if isinstance(tensor, Buffer):
            persistent = tensor.__dict__.get("persistent", persistent)
        self._buffers[name] = tensor
        if persistent:
            self._non_persistent_buffers_set.discard(name)
        else:
            self._non_persistent_buffers_set.add(name)

    def register_parameter(self, name, param):
        """Register ``param`` (a ``Parameter`` or None) under ``name``."""
        if "_parameters" not in self.__dict__:
            raise AttributeError("cannot assign parameter before Module.__init__() call")
        self._check_name(name, "parameter", self._parameters)
        if param is None:
            self._parameters[name] = None
            return
        if not isinstance(param, Parameter):
            raise TypeError(f"cannot assign '{_type_name(param)}' object to parameter '{name}' "
                            f"(torch.nn.Parameter or None required)")
        if param.grad_fn is not None:
            raise ValueError(f"Cannot assign non-leaf Tensor to parameter '{name}'. Model "
                             f"parameters must be created explicitly. To express '{name}' as a "
                             f"function of another Tensor, compute the value in the forward() "
                             f"method.")
        self._parameters[name] = param

    def add_module(self, name, module):
        """Register ``module`` as a child under ``name``."""
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"{_type_name(module)} is not a Module subclass")
        self._check_name(name, "module", self._modules)
        self._modules[name] = module

    register_module = add_module

    def __setattr__(self, name, value):
        d = self.__dict__
        params = d.get("_parameters")
        if isinstance(value, Parameter):
            if params is None:
                raise AttributeError("cannot assign parameters before Module.__init__() call")
            self._forget(name, keep="_parameters")
            self.register_parameter(name, value)
        elif params is not None and name in params:
            if value is not None:
                raise TypeError(f"cannot assign '{_type_name(value)}' as parameter '{name}' "
                                f"(torch.nn.Parameter or None expected)")
            self.register_parameter(name, value)
        elif isinstance(value, Module):
            if d.get("_modules") is None:
                raise AttributeError("cannot assign module before Module.__init__() call")
            self._forget(name, keep="_modules")
            d["_modules"][name] = value
        elif d.get("_modules") is not None and name in d["_modules"]:
            if value is not None:
                raise TypeError(f"cannot assign '{_type_name(value)}' as child module '{name}' "
                                f"(torch.nn.Module or None expected)")
            d["_modules"][name] = value
        elif isinstance(value, Buffer) or (d.get("_buffers") is not None and name in d["_buffers"]):
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(f"cannot assign '{_type_name(value)}' as buffer '{name}' "
                                f"(torch.nn.Buffer, torch.Tensor or None expected)")
            if isinstance(value, Buffer):
                persistent = value.__dict__.get("persistent", True)
            else:
                persistent = name not in self._non_persistent_buffers_set
            self._forget(name, keep="_buffers")
            self.register_buffer(name, value, persistent)
        else:
            object.__setattr__(self, name, value)

    def _forget(self, name, keep):
        """Drop ``name`` from the instance dict and every registry but ``keep`` (where a
        re-assignment keeps its position)."""
        d = self.__dict__
        d.pop(name, None)
        for registry in ("_parameters", "_modules", "_buffers"):
            if registry != keep:
                d[registry].pop(name, None)
        if keep != "_buffers":
            d["_non_persistent_buffers_set"].discard(name)

    def __getattr__(self, name):
        d = self.__dict__
        for registry in ("_parameters", "_buffers", "_modules"):
            r = d.get(registry)
            if r is not None and name in r:
                return r[name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name):
        d = self.__dict__
        for registry in ("_parameters", "_buffers", "_modules"):
            if name in d.get(registry, ()):
                del d[registry][name]
                d["_non_persistent_buffers_set"].discard(name)
                return
        object.__delattr__(self, name)

    def __dir__(self):
        attrs = list(object.__dir__(self))
        extra = list(self._parameters) + list(self._buffers) + list(self._modules)
        return sorted(set(a for a in attrs + extra if not (isinstance(a, str) and a[:1].isdigit())))

    def __setstate__(self, state):
        self.__dict__.update(state)

    # ----------------------------------------------------------------- walking
    def named_modules(self, memo=None, prefix="", remove_duplicate=True):
        """(name, module) for this module and every descendant, depth first, pre-order."""
        if memo is None:
            memo = set()
        stack = [(prefix, self)]
        while stack:
            name, mod = stack.pop()
            if remove_duplicate:
                if id(mod) in memo:
                    continue
                memo.add(id(mod))
            yield name, mod
            kids = [((name + "." if name else "") + k, m) for k, m in mod._modules.items()
                    if m is not None]
            stack.extend(reversed(kids))

    def modules(self, remove_duplicate=True):
        for _, m in self.named_modules(remove_duplicate=remove_duplicate):
            yield m

    def named_children(self):
        seen = set()
        for name, m in self._modules.items():
            if m is not None and id(m) not in seen:
                seen.add(id(m))
                yield name, m

    def children(self):
        for _, m in self.named_children():
            yield m

    def _named_members(self, registry, prefix, recurse, remove_duplicate):
        mods = self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate) \
            if recurse else [(prefix, self)]
        seen = set()
        for mod_name, mod in mods:
            for name, value in getattr(mod, registry).items():
                if value is None:
                    continue
                if remove_duplicate:
                    if id(value) in seen:
                        continue
                    seen.add(id(value))
                yield (mod_name + "." if mod_name else "") + name, value

    def named_parameters(self, prefix="", recurse=True, remove_duplicate=True):
        """(dotted name, Parameter) in registration order, shared parameters once."""
        return self._named_members("_parameters", prefix, recurse, remove_duplicate)

    def parameters(self, recurse=True):
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(self, prefix="", recurse=True, remove_duplicate=True):
        return self._named_members("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse=True):
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    def _lookup(self, target):
        """The object at dotted path ``target``; torch's messages when it is not there."""
        if target == "":
            return self
        *path, last = target.split(".")
        mod = self
        for item in path:
            if not hasattr(mod, item):
                raise AttributeError(f"{mod._get_name()} has no attribute `{item}`")
            mod = getattr(mod, item)
            if not isinstance(mod, Module):
                raise AttributeError(f"`{item}` is not an nn.Module")
        if not hasattr(mod, last):
            raise AttributeError(f"{mod._get_name()} has no attribute `{last}`")
        return getattr(mod, last)

    def get_submodule(self, target):
        mod = self._lookup(target)
        if not isinstance(mod, Module):
            raise AttributeError(f"`{target.split('.')[-1]}` is not an nn.Module")
        return mod

    def get_parameter(self, target):
        p = self._lookup(target)
        if not isinstance(p, Parameter):
            raise AttributeError(f"`{target.split('.')[-1]}` is not an nn.Parameter")
        return p

    def get_buffer(self, target):
        *path, last = target.split(".")
        mod = self.get_submodule(".".join(path))
        if last not in mod._buffers:
            if not hasattr(mod, last):
                raise AttributeError(f"{mod._get_name()} has no attribute `{last}`")
            raise AttributeError(f"`{last}` is not a buffer")
        return mod._buffers[last]

    # ------------------------------------------------------------------ modes
    def train(self, mode=True):
        """Set training mode on this module and all descendants (Dropout, BatchNorm care)."""
        if not isinstance(mode, bool):
            raise ValueError("training mode is expected to be boolean")
        self.training = mode
        for m in self.children():  # through train() itself, so that overrides apply
            m.train(mode)
        return self

    def eval(self):
        return self.train(False)

    def requires_grad_(self, requires_grad=True):
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none=True):
        """Reset the ``.grad`` of every parameter (to None by default, else to zeros)."""
        for p in self.parameters():
            if p.grad is not None:
                if set_to_none:
                    p.grad = None
                else:
                    p.grad.detach_()
                    p.grad._set_data_(0)

    def apply(self, fn):
        """Call ``fn`` on every child (recursively) then on this module; returns self."""
        for m in self.children():
            m.apply(fn)
        fn(self)
        return self

    # ------------------------------------------------------------------ dtypes
    def _apply(self, fn, recurse=True):
        """Replace the data of every parameter, its grad and every buffer by ``fn(array)``."""
        if recurse:
            for m in self.children():
                m._apply(fn)
        for p in self._parameters.values():
            if p is not None:
                p._data = fn(p._data)
                if p.grad is not None:
                    p.grad._data = fn(p.grad._data)
        for name, b in self._buffers.items():
            if b is not None:
                b._data = fn(b._data)
        return self

    def _cast_floats(self, dtype):
        np_dtype = as_dtype(dtype).np
        return self._apply(lambda a: a.astype(np_dtype) if a.dtype.kind == "f" and
                           a.dtype != np_dtype else a)

    def to(self, *args, **kwargs):
        """``to(dtype)``, ``to(device)``, ``to(device, dtype)``, ``to(tensor)``: casts floating
        parameters and buffers; the device must be the CPU."""
        from ...backend import check_device
        dtype = kwargs.pop("dtype", None)
        device = kwargs.pop("device", None)
        kwargs.pop("non_blocking", None)
        kwargs.pop("memory_format", None)
        if kwargs:
            raise TypeError(f"to() got unexpected keyword arguments {sorted(kwargs)}")
        for a in args:
            if isinstance(a, Tensor):
                dtype = a.dtype
            elif isinstance(a, str) or type(a).__name__ == "device":
                device = a
            elif isinstance(a, bool) or a is None:
                continue
            else:
                dtype = a
        check_device(device)
        if dtype is not None:
            d = as_dtype(dtype)
            if not d.is_floating_point:
                raise TypeError(f"nn.Module.to only accepts floating point or complex dtypes, "
                                f"but got desired dtype={d}")
            self._cast_floats(d)
        return self

    def float(self):
        return self._cast_floats("float32")

    def double(self):
        return self._cast_floats("float64")

    def half(self):
        return self._cast_floats("float16")

    def type(self, dst_type):
        return self._cast_floats(dst_type)

    def cpu(self):
        return self

    def cuda(self, device=None):
        raise RuntimeError("minidl runs on the CPU only; there is no CUDA device")

    def share_memory(self):
        return self

    # ------------------------------------------------------------- state dict
    def _save_to_state_dict(self, destination, prefix, keep_vars):
        for name, p in self._parameters.items():
            if p is not None:
                destination[prefix + name] = p if keep_vars else p.detach()
        for name, b in self._buffers.items():
            if b is not None and name not in self._non_persistent_buffers_set:
                destination[prefix + name] = b if keep_vars else b.detach()

    def state_dict(self, *args, destination=None, prefix="", keep_vars=False):
        """An ordered dict name -> tensor of every parameter and persistent buffer."""
        if args:  # torch's deprecated positional form (destination, prefix, keep_vars)
            destination = args[0]
            prefix = args[1] if len(args) > 1 else prefix
            keep_vars = args[2] if len(args) > 2 else keep_vars
        if destination is None:
            destination = OrderedDict()
        stack = [(prefix, self)]
        while stack:
            pre, mod = stack.pop()
            mod._save_to_state_dict(destination, pre, keep_vars)
            stack.extend(reversed([(pre + k + ".", m) for k, m in mod._modules.items()
                                   if m is not None]))
        return destination

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys,
                              unexpected_keys, error_msgs, assign=False):
        """Copy this module's own entries of ``state_dict`` (no recursion)."""
        persistent = {k: v for k, v in self._buffers.items()
                      if k not in self._non_persistent_buffers_set}
        local = list(itertools.chain(self._parameters.items(), persistent.items()))
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
                    setattr(self, name, Parameter(new, requires_grad=current.requires_grad))
                else:
                    self._buffers[name] = Tensor(new)
            else:
                with no_grad():
                    current._set_data_(array)

    def load_state_dict(self, state_dict, strict=True, assign=False):
        """Copy tensors (or NumPy arrays) from ``state_dict`` into this module's parameters
        and buffers; returns ``(missing_keys, unexpected_keys)``."""
        if not hasattr(state_dict, "keys") or not hasattr(state_dict, "__getitem__"):
            raise TypeError(f"Expected state_dict to be dict-like, got {type(state_dict)}.")
        state_dict = OrderedDict(state_dict)
        missing, unexpected, errors = [], [], []
        stack = [("", self)]
        while stack:
            prefix, mod = stack.pop()
            mod._load_from_state_dict(state_dict, prefix, {}, True, missing, unexpected, errors,
                                      assign)
            stack.extend(reversed([(prefix + k + ".", m) for k, m in mod._modules.items()
                                   if m is not None]))
        expected = set(self.state_dict().keys())
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
                self._get_name(), "\n\t".join(errors)))
        return _IncompatibleKeys(missing, unexpected)

    # ------------------------------------------------------------------ hooks
    def register_forward_pre_hook(self, hook, *, prepend=False, with_kwargs=False):
        """``hook(module, args)`` (or ``(module, args, kwargs)``) runs before ``forward``; it
        may return replacement args."""
        return _add_hook(self._forward_pre_hooks, (hook, with_kwargs, False), prepend)

    def register_forward_hook(self, hook, *, prepend=False, with_kwargs=False, always_call=False):
        """``hook(module, args, output)`` runs after ``forward``; it may return a new output."""
        return _add_hook(self._forward_hooks, (hook, with_kwargs, always_call), prepend)

    def register_full_backward_hook(self, hook, prepend=False):
        """``hook(module, grad_input, grad_output)`` runs once the gradients with respect to
        the module's tensor inputs are known; it may return replacement ``grad_input``."""
        return _add_hook(self._backward_hooks, hook, prepend)

    def register_full_backward_pre_hook(self, hook, prepend=False):
        """``hook(module, grad_output)`` runs when the output gradients arrive; it may return
        replacement ``grad_output``."""
        return _add_hook(self._backward_pre_hooks, hook, prepend)

    def _call_impl(self, *args, **kwargs):
        d = self.__dict__
        if not (d["_forward_pre_hooks"] or d["_forward_hooks"] or d["_backward_hooks"]
                or d["_backward_pre_hooks"]):
            return self.forward(*args, **kwargs)
        for hook, with_kwargs, _ in list(d["_forward_pre_hooks"]):
            if with_kwargs:
                res = hook(self, args, kwargs)
                if res is not None:
                    if not (isinstance(res, tuple) and len(res) == 2):
                        raise RuntimeError("forward pre-hook must return None or a tuple of "
                                           f"(new_args, new_kwargs), but got {res}.")
                    args, kwargs = res
            else:
                res = hook(self, args)
                if res is not None:
                    args = res if isinstance(res, tuple) else (res,)
        hooked = None
        if d["_backward_hooks"] or d["_backward_pre_hooks"]:
            hooked = _BackwardHookState(self)
            args = hooked.wrap_inputs(args)
        try:
            out = self.forward(*args, **kwargs)
        except Exception:
            for hook, with_kwargs, always in list(d["_forward_hooks"]):
                if always:
                    hook(self, args, kwargs, None) if with_kwargs else hook(self, args, None)
            raise
        for hook, with_kwargs, _ in list(d["_forward_hooks"]):
            res = hook(self, args, kwargs, out) if with_kwargs else hook(self, args, out)
            if res is not None:
                out = res
        if hooked is not None:
            out = hooked.wrap_outputs(out)
        return out

    __call__ = _call_impl

    # --------------------------------------------------------------- printing
    def _get_name(self):
        return type(self).__name__

    def extra_repr(self):
        """The module's own settings, shown inside its repr (override in layers)."""
        return ""

    def __repr__(self):
        extra = self.extra_repr()
        lines = extra.split("\n") if extra else []
        children = [f"({name}): " + _addindent(repr(m), 2) for name, m in self._modules.items()]
        body = lines + children
        if not body:
            return self._get_name() + "()"
        if len(lines) == 1 and not children:
            return f"{self._get_name()}({lines[0]})"
        return self._get_name() + "(\n  " + "\n  ".join(body) + "\n)"


def _add_hook(hooks, entry, prepend):
    if prepend:
        hooks.insert(0, entry)
    else:
        hooks.append(entry)
    return RemovableHandle(hooks, entry)


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


# ---------------------------------------------------------------- backward hooks
class _HookIdentity(Kernel):
    """Identity on a group of tensors; its backward hands their gradients to ``on_grad``."""

    @staticmethod
    def forward(ctx, *arrays, on_grad):
        ctx.on_grad = on_grad
        return tuple(arrays)

    @staticmethod
    def backward(ctx, *grads):
        """dx = dy (possibly replaced by a module's backward hook)."""
        return tuple(ctx.on_grad(list(grads)))


def _wrap_requiring_grad(items, on_grad):
    """``items`` with every tensor that requires grad passed through one ``_HookIdentity``
    (whose backward calls ``on_grad``); also returns how many were wrapped."""
    idx = [i for i, a in enumerate(items) if isinstance(a, Tensor) and a.requires_grad]
    if not idx:
        return items, 0
    new = _HookIdentity.apply(*[items[i] for i in idx], on_grad=on_grad)
    items = list(items)
    for i, t in zip(idx, new):
        items[i] = t
    return tuple(items), len(idx)


class _BackwardHookState:
    """Calls a module's full backward (pre-)hooks with the gradients of its inputs/outputs."""

    def __init__(self, module):
        self.module = module
        self.grad_output = None
        self.n_inputs = 0

    def wrap_inputs(self, args):
        args, self.n_inputs = _wrap_requiring_grad(args, self._input_grads)
        return args

    def wrap_outputs(self, out):
        if isinstance(out, Tensor):
            return _wrap_requiring_grad((out,), self._output_grads)[0][0]
        if isinstance(out, (tuple, list)):
            return type(out)(_wrap_requiring_grad(tuple(out), self._output_grads)[0])
        return out

    @staticmethod
    def _call_user(grads, call):
        res = call(tuple(None if g is None else Tensor(g) for g in grads))
        if res is None:
            return grads
        res = (res,) if isinstance(res, Tensor) else tuple(res)
        if len(res) != len(grads):
            raise RuntimeError(f"backward hook returned {len(res)} gradients, expected "
                               f"{len(grads)}")
        return [None if r is None else r._data for r in res]

    def _output_grads(self, grads):
        m = self.module
        for hook in list(m._backward_pre_hooks):
            grads = self._call_user(grads, lambda g, h=hook: h(m, g))
        self.grad_output = tuple(None if g is None else Tensor(g) for g in grads)
        if self.n_inputs == 0:
            for hook in list(m._backward_hooks):
                hook(m, (None,), self.grad_output)
        return grads

    def _input_grads(self, grads):
        m = self.module
        for hook in list(m._backward_hooks):
            grads = self._call_user(grads, lambda g, h=hook: h(m, g, self.grad_output))
        return grads
