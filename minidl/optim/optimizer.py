"""``Optimizer``: parameter groups, per-parameter state, ``state_dict`` and ``step``.

Every optimizer here updates the parameters in place on their raw NumPy arrays
(``p._data``) outside the graph: a step is plain array arithmetic, no Tensor overhead.
A subclass lists its per-group options in ``defaults`` and implements
``_update_group(group)``; ``step`` (closure handling, ``no_grad``, hooks) is shared.
"""
import copy
import functools
import warnings
from collections import OrderedDict, defaultdict

import numpy as np

from ..autograd.grad_mode import enable_grad, no_grad
from ..tensor import Tensor

__all__ = ["Optimizer", "required"]

_LABELS = {"lr": "learning rate", "eps": "epsilon value"}


def check_non_negative(**options):
    """torch's constructor checks: ``Invalid learning rate: -1`` etc. for a negative option."""
    for name, value in options.items():
        if value < 0.0:
            raise ValueError(f"Invalid {_LABELS.get(name, name + ' value')}: {value}")


class _RequiredParameter:
    """Marks an option that every parameter group must give (``torch.optim.optimizer.required``)."""

    def __repr__(self):
        return "<required parameter>"


required = _RequiredParameter()


def _hooked_step(step):
    """Wrap a subclass's ``step``: count the call (schedulers check it) and run the step hooks."""
    if getattr(step, "_minidl_hooked", False):
        return step

    @functools.wraps(step)
    def wrapper(self, *args, **kwargs):
        if self.__dict__.get("_in_step"):  # a subclass's step calling super().step()
            return step(self, *args, **kwargs)
        for hook in list(self._step_pre_hooks.values()):
            result = hook(self, args, kwargs)
            if result is not None:
                args, kwargs = result
        self._opt_called = True
        self._step_count = getattr(self, "_step_count", 0) + 1
        self._in_step = True
        try:
            out = step(self, *args, **kwargs)
        finally:
            self._in_step = False
        for hook in list(self._step_post_hooks.values()):
            hook(self, args, kwargs)
        return out

    wrapper._minidl_hooked = True
    return wrapper


class _Handle:
    """Returned by ``register_*_hook``; ``remove()`` unregisters the hook."""

    _next_id = 0

    def __init__(self, hooks):
        self.hooks = hooks
        self.id = _Handle._next_id
        _Handle._next_id += 1

    def remove(self):
        self.hooks.pop(self.id, None)


class Optimizer:
    """Base class of all optimizers (``torch.optim.Optimizer``).

    ``params`` is an iterable of tensors, of ``(name, tensor)`` pairs, or of dicts (parameter
    groups: ``{'params': [...], 'lr': ...}``, options missing from a group come from
    ``defaults``).
    """

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "step" in cls.__dict__:
            cls.step = _hooked_step(cls.__dict__["step"])

    def __init__(self, params, defaults):
        self.defaults = defaults
        self._step_pre_hooks = OrderedDict()
        self._step_post_hooks = OrderedDict()
        self._opt_called = False
        self._step_count = 0
        if isinstance(params, Tensor):
            raise TypeError("params argument given to the optimizer should be an iterable of "
                            "Tensors or dicts, but got Tensor")
        self.state = defaultdict(dict)
        self.param_groups = []
        param_groups = list(params)
        if len(param_groups) == 0:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(param_groups[0], dict):
            param_groups = [{"params": param_groups}]
        for group in param_groups:
            self.add_param_group(group)

    # ------------------------------------------------------------------ groups
    def add_param_group(self, param_group):
        """Add a group of parameters with its own options (e.g. a smaller ``lr`` for a backbone)."""
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group).__name__}")
        param_group = dict(param_group)
        params = param_group.get("params")
        if params is None:
            raise ValueError("param_group must have a 'params' entry")
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, (set, frozenset)):
            raise TypeError("optimizer parameters need to be organized in ordered collections, "
                            "but the ordering of tensors in sets will change between runs. "
                            "Please use a list instead.")
        else:
            params = list(params)
        names = []
        for i, p in enumerate(params):
            if isinstance(p, tuple) and len(p) == 2 and isinstance(p[0], str):
                names.append(p[0])
                params[i] = p = p[1]
            if not isinstance(p, Tensor):
                kind = type(p).__name__ if type(p).__module__ == "builtins" else \
                    f"{type(p).__module__}.{type(p).__name__}"
                raise TypeError(f"optimizer can only optimize Tensors, but one of the params "
                                f"is {kind}")
            if not (p.is_leaf or p.retains_grad):
                raise ValueError("can't optimize a non-leaf Tensor")
        if names:
            if len(names) != len(params):
                raise ValueError("all optimizer params should be with/without names. Some param "
                                 "names are missing")
            param_group["param_names"] = names
        param_group["params"] = params
        for name, default in self.defaults.items():
            if default is required and name not in param_group:
                raise ValueError(f"parameter group didn't specify a value of required "
                                 f"optimization parameter {name}")
            param_group.setdefault(name, default)
        self._refuse_unsupported(param_group)
        if len({id(p) for p in params}) != len(params):
            warnings.warn("optimizer contains a parameter group with duplicate parameters; in "
                          "future, this will cause an error; see "
                          "github.com/pytorch/pytorch/issues/40967 for more information",
                          stacklevel=3)
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        if any(id(p) in seen for p in params):
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(param_group)

    def _refuse_unsupported(self, group):
        """``differentiable=True`` and ``capturable=True`` (in the defaults or a group)."""
        name = type(self).__name__
        if group.get("differentiable"):
            raise NotImplementedError(
                f"{name}(differentiable=True): minidl's optimizer steps update parameters in "
                f"place outside the graph and cannot be differentiated through")
        if group.get("capturable"):
            raise RuntimeError(f"{name}(capturable=True) needs parameters on an accelerator "
                               f"(CUDA graphs); minidl runs on the CPU only")

    # -------------------------------------------------------------------- step
    def zero_grad(self, set_to_none=True):
        """Reset the gradients: drop them (default) or fill them with zeros."""
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                if set_to_none:
                    p.grad = None
                else:
                    if p.grad.grad_fn is not None:
                        p.grad.detach_()
                    else:
                        p.grad.requires_grad = False
                    p.grad._set_data_(0)

    def step(self, closure=None):
        """One update of every parameter that has a gradient; returns ``closure()``'s loss."""
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        with no_grad():
            for group in self.param_groups:
                self._update_group(group)
        return loss

    step = _hooked_step(step)

    def _update_group(self, group):
        raise NotImplementedError(f"{type(self).__name__} does not implement step()")

    @staticmethod
    def _grads(group):
        """(param, raw gradient array, raw param array) for every parameter with a gradient."""
        out = []
        for p in group["params"]:
            if p.grad is not None:
                g = p.grad._data
                if g.shape != p._data.shape:
                    raise RuntimeError(f"the gradient of a parameter has shape {g.shape} but "
                                       f"the parameter has shape {p._data.shape}")
                out.append((p, g, p._data))
        return out

    def _lazy_state(self, p, *buffers):
        """``state[p]``; on first use a 0 step counter and zero arrays named ``buffers``."""
        state = self.state[p]
        if buffers[0] not in state:
            state["step"] = Tensor(np.array(0.0, np.float32))
            for name in buffers:
                state[name] = Tensor(np.zeros_like(p._data))
        return state

    @staticmethod
    def _direction(group, g, x, decoupled=False):
        """The gradient to descend along: negated for ``maximize``, plus ``wd * p`` (L2), or,
        for decoupled weight decay, ``p`` shrunk in place by ``1 - lr * wd`` (AdamW)."""
        if group["maximize"]:
            g = -g
        wd = group["weight_decay"]
        if wd != 0:
            if decoupled:
                x *= 1 - group["lr"] * wd
            else:
                g = g + wd * x
        return g

    @staticmethod
    def _bump(p):
        """Record an in-place write to ``p`` (torch's version counter)."""
        p._vc[0] += 1

    def _step_counter(self, state):
        """Increment and return ``state['step']`` (a 0-d float32 tensor, like torch's)."""
        t = state.get("step")
        if not isinstance(t, Tensor):
            t = state["step"] = Tensor(np.array(0.0 if t is None else float(t), np.float32))
        t._data[...] += 1
        return float(t._data)

    # --------------------------------------------------------------- hooks
    def register_step_pre_hook(self, hook):
        """``hook(optimizer, args, kwargs)`` runs before every ``step``."""
        handle = _Handle(self._step_pre_hooks)
        self._step_pre_hooks[handle.id] = hook
        return handle

    def register_step_post_hook(self, hook):
        """``hook(optimizer, args, kwargs)`` runs after every ``step``."""
        handle = _Handle(self._step_post_hooks)
        self._step_post_hooks[handle.id] = hook
        return handle

    # ---------------------------------------------------------- state dict
    def state_dict(self):
        """``{'state': {index: {...}}, 'param_groups': [{..., 'params': [indices]}]}``.

        Parameters are replaced by their position across all groups, as in torch; the
        state values are the live buffers (save or deep-copy the dict to keep a snapshot).
        """
        index = {}
        groups = []
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != "params"}
            for p in group["params"]:
                index.setdefault(id(p), len(index))
            packed["params"] = [index[id(p)] for p in group["params"]]
            groups.append(packed)
        state = {(index[id(k)] if isinstance(k, Tensor) else k): v for k, v in self.state.items()}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict):
        """Restore options and state saved by ``state_dict`` (buffers are copied)."""
        if not isinstance(state_dict, dict) or "param_groups" not in state_dict or \
                "state" not in state_dict:
            raise ValueError("optimizer state_dict must be a dict with keys 'state' and "
                             "'param_groups' (as returned by Optimizer.state_dict())")
        saved_groups = copy.deepcopy(state_dict["param_groups"])
        groups = self.param_groups
        if len(groups) != len(saved_groups):
            raise ValueError(f"loaded state dict has a different number of parameter groups "
                             f"({len(saved_groups)}) than the optimizer ({len(groups)})")
        for i, (g, s) in enumerate(zip(groups, saved_groups)):
            if len(g["params"]) != len(s["params"]):
                raise ValueError(f"loaded state dict contains a parameter group that doesn't "
                                 f"match the size of optimizer's group: group {i} has "
                                 f"{len(s['params'])} parameters in the state dict but "
                                 f"{len(g['params'])} in the optimizer")
        id_map = {}
        for g, s in zip(groups, saved_groups):
            id_map.update(zip(s["params"], g["params"]))
        state = defaultdict(dict)
        for k, v in state_dict["state"].items():
            param = id_map.get(k)
            if param is None:
                state[k] = copy.deepcopy(v)
            else:
                state[param] = _cast_state(param, v)
        new_groups = []
        for g, s in zip(groups, saved_groups):
            s["params"] = g["params"]
            for name, default in self.defaults.items():
                if default is not required:
                    s.setdefault(name, default)
            new_groups.append(s)
        self.state = state
        self.param_groups = new_groups

    # ------------------------------------------------------------ printing
    def __repr__(self):
        lines = [type(self).__name__ + " ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            for key in sorted(k for k in group if k != "params"):
                lines.append(f"    {key}: {group[key]}")
        lines.append(")")
        return "\n".join(lines)

    def __getstate__(self):
        return dict(self.__dict__)

    def __setstate__(self, state):
        self.__dict__.update(state)
        self.__dict__.setdefault("_step_pre_hooks", OrderedDict())
        self.__dict__.setdefault("_step_post_hooks", OrderedDict())


def lerp_(a, b, w):
    """a <- a + w (b - a), in place, evaluated as torch does for either size of ``w``."""
    if w < 0.5:
        a += w * (b - a)
    else:
        np.subtract(b, (1 - w) * (b - a), out=a)


def ema_sq_(s, g, decay):
    """s <- decay s + (1 - decay) g^2, in place (a running mean of squared gradients)."""
    s *= decay
    s += (1 - decay) * g * g


def _cast_state(param, value, key=None):
    """A copy of a saved state value, floating buffers cast to the parameter's dtype."""
    if isinstance(value, np.ndarray):
        value = Tensor(value)
    if isinstance(value, Tensor):
        a = value._data
        if key != "step" and a.dtype.kind == "f" and param._data.dtype.kind == "f":
            a = a.astype(param._data.dtype)
        elif key == "step":
            a = a.astype(np.float32)
        return Tensor(np.array(a, copy=True))
    if isinstance(value, dict):
        return {k: _cast_state(param, v, k) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_cast_state(param, v, key) for v in value)
    return copy.deepcopy(value)
