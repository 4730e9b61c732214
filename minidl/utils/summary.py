"""``minidl.summary``: a per-layer table of a model -- output shapes, parameters and
multiply-accumulates -- from one real forward pass (like ``torchinfo.summary``).

    >>> s = minidl.summary(models.resnet18(), (3, 224, 224))
    >>> print(s)                     # the table
    >>> s.total_params, s.total_macs  # 11689512, 1814073344

How the numbers are counted
---------------------------
The model runs once, in eval mode (so batch-norm statistics are untouched) and under
``no_grad``, on a random batch of ``batch_size`` inputs; forward hooks on every submodule
record each call. Multiply-accumulates (MACs; 1 MAC = one multiplication and one addition,
about 2 FLOPs) are counted for the layers that do the arithmetic, for the whole batch:

=====================================  ===============================================
layer                                  MACs
=====================================  ===============================================
``Conv1d/2d/3d``                       output elements x (in_channels / groups) x kernel
                                       elements (dilation, stride, padding included)
``ConvTranspose1d/2d/3d``              input elements x (out_channels / groups) x kernel
                                       elements
``Linear``                             output elements x in_features
``Bilinear``                           output elements x in1_features x in2_features
everything else: normalization,        0 -- elementwise or data movement; a batch norm in
activations, pooling, dropout,         front of / after a convolution folds into it at
embedding lookups, reshapes            inference time
=====================================  ===============================================

Biases are not counted as MACs (they are additions). Arithmetic done by functional calls
inside ``forward`` (``x @ w``, ``F.conv2d``) is invisible to module hooks and not counted;
modules that did not run (GoogLeNet's auxiliary classifiers in eval mode) count towards
the parameters but not the MACs, and are listed under the table.

Parameters: a row shows the parameters of its module (all of them when its children are
not shown as rows, only its own otherwise); a parameter shared by several modules counts
once in the totals.
"""
import math
from collections import namedtuple

from .. import nn
from .._creation import randn, zeros
from ..autograd import no_grad
from ..backend import as_dtype
from ..nn.modules.conv import _ConvNd
from ..tensor import Tensor

__all__ = ["summary", "ModelSummary", "LayerInfo", "layer_macs"]

LayerInfo = namedtuple("LayerInfo", ["name", "type", "depth", "output_shape", "params",
                                     "macs", "is_leaf"])
LayerInfo.__doc__ = """One row of a summary: the module's qualified name and class name,
its depth (1 = a child of the model), the shape(s) it returned, its parameter count and
MACs (see ``ModelSummary``), and whether it is shown without children."""


def _prod(values):
    return math.prod(int(v) for v in values)


def layer_macs(module, inputs, output):
    """Multiply-accumulates of one call of ``module`` (0 for layers without a formula)."""
    if isinstance(module, _ConvNd):
        k = _prod(module.kernel_size)
        if module.transposed:
            return inputs[0].numel() * (module.out_channels // module.groups) * k
        return output.numel() * (module.in_channels // module.groups) * k
    if isinstance(module, nn.Linear):
        return output.numel() * module.in_features
    if isinstance(module, nn.Bilinear):
        return output.numel() * module.in1_features * module.in2_features
    return 0


def _shapes(value):
    """The shape of a tensor output, or a list of shapes for tuples / lists / dicts."""
    if isinstance(value, Tensor):
        return list(value.shape)
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, (tuple, list)):
        return [_shapes(v) for v in value if v is not None]
    return None


def _count(params):
    return sum(p.numel() for p in params)


class _Call:
    """One recorded module call: its place in the call tree, output shape and own MACs."""

    __slots__ = ("module", "name", "depth", "parent", "children", "shape", "macs")

    def __init__(self, module, name, depth, parent):
        self.module, self.name, self.depth, self.parent = module, name, depth, parent
        self.children, self.shape, self.macs = [], None, 0


class ModelSummary:
    """The result of ``summary``: ``str()`` is the table; the numbers are attributes.

    ``total_params``, ``trainable_params``, ``non_trainable_params``: parameter counts of
    the whole model. ``total_macs``: multiply-accumulates of the forward pass over the
    whole batch (``batch_size`` inputs). ``input_size`` / ``output_shape``: what went in and
    out. ``rows``: one ``LayerInfo`` per shown call. ``not_run``: (name, type, params) of
    modules with parameters that the forward pass did not call.
    """

    def __init__(self, model_name, rows, total_params, trainable_params, total_macs,
                 input_size, output_shape, batch_size, not_run, param_bytes):
        self.model_name = model_name
        self.rows = rows
        self.total_params = total_params
        self.trainable_params = trainable_params
        self.non_trainable_params = total_params - trainable_params
        self.total_macs = total_macs
        self.input_size = input_size
        self.output_shape = output_shape
        self.batch_size = batch_size
        self.not_run = not_run
        self.param_bytes = param_bytes

    def __str__(self):
        head = ("Layer (type)", "Output shape", "Params", "MACs")
        body = []
        for r in self.rows:
            label = "  " * (r.depth - 1) + f"{r.name.rsplit('.', 1)[-1]} ({r.type})"
            params = f"{r.params:,}" if r.params or r.is_leaf else "--"
            macs = f"{r.macs:,}" if r.is_leaf else "--"
            body.append((label, str(r.output_shape), params, macs))
        widths = [max([len(head[i])] + [len(b[i]) for b in body]) for i in range(4)]
        width = sum(widths) + 6

        def line(cells):
            return (f"{cells[0]:<{widths[0]}}  {cells[1]:<{widths[1]}}  "
                    f"{cells[2]:>{widths[2]}}  {cells[3]:>{widths[3]}}").rstrip()

        out = [f"{self.model_name}: input {self.input_size} -> output {self.output_shape}",
               "=" * width, line(head), "=" * width]
        out += [line(b) for b in body]
        out.append("=" * width)
        out += [f"Total params: {self.total_params:,} ({_human(self.total_params)})",
                f"Trainable params: {self.trainable_params:,}",
                f"Non-trainable params: {self.non_trainable_params:,}",
                f"Total MACs: {self.total_macs:,} ({_human(self.total_macs)}) for a batch of "
                f"{self.batch_size}",
                f"Parameter size: {self.param_bytes / 2 ** 20:.2f} MiB"]
        if self.not_run:
            out.append("Not run by this forward pass (parameters counted, no MACs): " +
                       ", ".join(f"{n} ({t}, {p:,})" for n, t, p in self.not_run))
        return "\n".join(out)

    __repr__ = __str__


def _human(n):
    for unit, scale in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(n) >= scale:
            return f"{n / scale:.2f} {unit}"
    return str(n)


def _make_inputs(input_size, dtypes, batch_size):
    sizes = input_size
    if not sizes or not isinstance(sizes[0], (tuple, list)):
        sizes = [sizes]
    sizes = [tuple(int(v) for v in s) for s in sizes]
    if dtypes is None:
        dtypes = [None] * len(sizes)
    elif not isinstance(dtypes, (tuple, list)):
        dtypes = [dtypes]
    if len(dtypes) != len(sizes):
        raise ValueError(f"summary: got {len(sizes)} input sizes but {len(dtypes)} dtypes")
    inputs = []
    for size, dt in zip(sizes, dtypes):
        if any(v < 0 for v in size):
            raise ValueError(f"summary: input sizes must be non-negative, got {list(size)}")
        shape = (batch_size,) + size
        if dt is not None and not as_dtype(dt).is_floating_point:
            inputs.append(zeros(shape, dtype=dt))      # valid indices for embeddings
        else:
            inputs.append(randn(shape, dtype=dt))
    return inputs


def summary(model, input_size=None, dtypes=None, batch_size=1, depth=None, input_data=None):
    """Run ``model`` once and return a ``ModelSummary`` (print it for the table).

    ``input_size``: the size of one input *without* the batch dimension, e.g. ``(3, 224,
    224)``, or a list of sizes for a model with several inputs. ``dtypes``: their dtypes
    (default: the default float dtype; integer inputs are filled with zeros).
    ``batch_size``: the batch the numbers are for (default 1: per sample). ``depth``: show
    rows down to this nesting depth (deeper calls are folded into their ancestor's row);
    None shows every module. ``input_data``: a tensor (or list of tensors) to use instead of
    random inputs, which then give the batch size (so ``input_size``, ``dtypes`` and
    ``batch_size`` must not be passed with it).
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"summary: model must be an nn.Module, got {type(model).__name__}")
    if input_data is None and input_size is None:
        raise ValueError("summary: pass input_size (without the batch dimension) or input_data")
    if depth is not None and depth < 1:
        raise ValueError(f"summary: depth must be None or >= 1, got {depth}")
    if input_data is not None:
        given = [name for name, value, default in (("input_size", input_size, None),
                                                   ("dtypes", dtypes, None),
                                                   ("batch_size", batch_size, 1))
                 if value != default]
        if given:
            raise ValueError(f"summary: input_data gives the inputs; do not pass "
                             f"{' or '.join(given)} with it")
        inputs = list(input_data) if isinstance(input_data, (tuple, list)) else [input_data]
        batch_size = int(inputs[0].shape[0]) if inputs[0].dim() else 1
    else:
        if int(batch_size) < 1:
            raise ValueError(f"summary: batch_size must be >= 1, got {batch_size}")
        inputs = _make_inputs(input_size, dtypes, int(batch_size))

    names = {}
    for name, m in model.named_modules():
        names.setdefault(id(m), name)
    top = _Call(None, "", -1, None)     # above the model: the model's call is its child
    stack = [top]
    calls = []
    handles = []

    def pre_hook(module, args):
        parent = stack[-1]
        call = _Call(module, names.get(id(module), type(module).__name__), parent.depth + 1,
                     parent)
        parent.children.append(call)
        calls.append(call)
        stack.append(call)

    def post_hook(module, args, output):
        call = stack.pop()
        call.shape = _shapes(output)
        call.macs = layer_macs(module, args, output)

    for m in model.modules():
        handles.append(m.register_forward_pre_hook(pre_hook))
        handles.append(m.register_forward_hook(post_hook))
    was_training = model.training
    model.eval()
    try:
        with no_grad():
            output = model(*inputs)
    finally:
        for h in handles:
            h.remove()
        model.train(was_training)

    def total_macs(call):
        return call.macs + sum(total_macs(c) for c in call.children)

    rows = []

    def walk(call, shown_depth):
        folded = depth is not None and shown_depth >= depth
        leaf = folded or not call.children
        params = _count(call.module.parameters(recurse=leaf))
        rows.append(LayerInfo(call.name or type(call.module).__name__,
                              type(call.module).__name__, shown_depth, call.shape, params,
                              total_macs(call) if leaf else 0, leaf))
        if not leaf:
            for c in call.children:
                walk(c, shown_depth + 1)

    root = top.children[0]
    for c in root.children or [root]:   # a model without submodules is its own only row
        walk(c, 1)

    called = {id(c.module) for c in calls}
    not_run = []
    for name, m in model.named_modules():
        if m is model or id(m) in called or not name:
            continue
        parent = name.rsplit(".", 1)[0] if "." in name else ""
        parent_mod = model.get_submodule(parent) if parent else model
        if (parent_mod is model or id(parent_mod) in called) and _count(m.parameters()):
            not_run.append((name, type(m).__name__, _count(m.parameters())))

    params = list(model.parameters())
    n_params = _count(params)
    trainable = _count(p for p in params if p.requires_grad)
    param_bytes = sum(p.numel() * p.element_size() for p in params)
    shown_input = [list(t.shape) for t in inputs]
    shown_input = shown_input[0] if len(shown_input) == 1 else shown_input
    return ModelSummary(type(model).__name__, rows, n_params, trainable,
                        total_macs(root), shown_input, _shapes(output), batch_size, not_run,
                        param_bytes)
