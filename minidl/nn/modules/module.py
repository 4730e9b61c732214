"""``Module``: the base class of every layer and model (``torch.nn.Module``).

Three ordered registries (``_parameters``, ``_buffers``, ``_modules``) filled by attribute
assignment (``self.fc = Linear(...)``); walking, ``state_dict``, ``to``, hooks, printing use them.
"""
from collections import OrderedDict

from ...backend import as_dtype
from ...tensor import Tensor
from ..parameter import Buffer, Parameter
from . import _parse_to, _state_dict
from ._hooks import (
    BackwardHookState,
    add_hook,
    run_always_called_hooks,
    run_forward_hooks,
    run_forward_pre_hooks,
)

__all__ = ["Module"]


def _type_name(value):
    """The name in assignment errors: torch's legacy tensor type ('torch.FloatTensor') for a
    tensor, else the class name."""
    return value.type() if isinstance(value, Tensor) else type(value).__name__


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

    def _lookup(self, target, kind, kind_name):
        """The ``kind`` object at dotted path ``target``; torch's messages when it is not
        there or not a ``kind_name``."""
        found = self
        if target != "":
            *path, last = target.split(".")
            for item in path:
                if not hasattr(found, item):
                    raise AttributeError(f"{found._get_name()} has no attribute `{item}`")
                found = getattr(found, item)
                if not isinstance(found, Module):
                    raise AttributeError(f"`{item}` is not an nn.Module")
            if not hasattr(found, last):
                raise AttributeError(f"{found._get_name()} has no attribute `{last}`")
            found = getattr(found, last)
        if not isinstance(found, kind):
            raise AttributeError(f"`{target.split('.')[-1]}` is not an {kind_name}")
        return found

    def get_submodule(self, target):
        return self._lookup(target, Module, "nn.Module")

    def get_parameter(self, target):
        return self._lookup(target, Parameter, "nn.Parameter")

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
        for b in self._buffers.values():
            if b is not None:
                b._data = fn(b._data)
        return self

    def _cast_floats(self, dtype):
        np_dtype = as_dtype(dtype).np
        return self._apply(lambda a: a.astype(np_dtype) if a.dtype.kind == "f" and
                           a.dtype != np_dtype else a)

    def to(self, *args, **kwargs):
        """``to(dtype)``, ``to(device)``, ``to(device, dtype)``, ``to(tensor)``, as torch's:
        casts floating parameters and buffers; the device must be the CPU (see _parse_to)."""
        return _parse_to.to(self, *args, **kwargs)

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
        return _state_dict.save_state_dict(self, destination, prefix, keep_vars)

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys,
                              unexpected_keys, error_msgs, assign=False):
        """Copy this module's own entries of ``state_dict`` (no recursion)."""
        _state_dict.load_own_entries(self, state_dict, prefix, missing_keys, error_msgs, assign)

    def load_state_dict(self, state_dict, strict=True, assign=False):
        """Copy tensors (or NumPy arrays) from ``state_dict`` into this module's parameters
        and buffers; returns ``(missing_keys, unexpected_keys)``."""
        return _state_dict.load_state_dict(self, state_dict, strict, assign)

    # ------------------------------------------------------------------ hooks
    def register_forward_pre_hook(self, hook, *, prepend=False, with_kwargs=False):
        """``hook(module, args)`` (or ``(module, args, kwargs)``) runs before ``forward``; it
        may return replacement args."""
        return add_hook(self._forward_pre_hooks, (hook, with_kwargs, False), prepend)

    def register_forward_hook(self, hook, *, prepend=False, with_kwargs=False, always_call=False):
        """``hook(module, args, output)`` runs after ``forward``; it may return a new output."""
        return add_hook(self._forward_hooks, (hook, with_kwargs, always_call), prepend)

    def register_full_backward_hook(self, hook, prepend=False):
        """``hook(module, grad_input, grad_output)`` runs once the gradients with respect to
        the module's tensor inputs are known; it may return replacement ``grad_input``."""
        return add_hook(self._backward_hooks, hook, prepend)

    def register_full_backward_pre_hook(self, hook, prepend=False):
        """``hook(module, grad_output)`` runs when the output gradients arrive; it may return
        replacement ``grad_output``."""
        return add_hook(self._backward_pre_hooks, hook, prepend)

    def _call_impl(self, *args, **kwargs):
        d = self.__dict__
        if not (d["_forward_pre_hooks"] or d["_forward_hooks"] or d["_backward_hooks"]
                or d["_backward_pre_hooks"]):
            return self.forward(*args, **kwargs)
        args, kwargs = run_forward_pre_hooks(self, args, kwargs)
        backward = None
        if d["_backward_hooks"] or d["_backward_pre_hooks"]:
            backward = BackwardHookState(self)
            args = backward.wrap_inputs(args)
        try:
            out = self.forward(*args, **kwargs)
        except Exception:
            run_always_called_hooks(self, args, kwargs)
            raise
        out = run_forward_hooks(self, args, kwargs, out)
        return out if backward is None else backward.wrap_outputs(out)

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

