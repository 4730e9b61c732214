"""torch's argument checks for convolution and transposed convolution, with its messages.

Each check returns the attributes the kernels take: stride, dilation and groups as Python
ints, padding as (lo, hi) pairs per axis (``padding='same'`` puts the odd one out on the
right), and, for a transposed convolution, its output size

    out = (in - 1) * stride - 2 * padding + dilation * (k - 1) + output_padding + 1.
"""
from ._util import check_tensor
from .window import fmt_size, is_int, ntuple, padded_sizes

__all__ = ["conv_args", "conv_transpose_args"]


def _check_common(fn, n, input, weight, bias, stride, dilation, groups):
    """Checks shared by convolution and transposed convolution; (stride, dilation, groups)."""
    check_tensor(input, fn, "input")
    check_tensor(weight, fn, "weight")
    if bias is not None:
        check_tensor(bias, fn, "bias")
    if input.ndim not in (n + 1, n + 2):
        raise RuntimeError(f"Expected {n + 1}D (unbatched) or {n + 2}D (batched) input to {fn}, "
                           f"but got input of size: {fmt_size(input.shape)}")
    if weight.ndim != n + 2:
        raise RuntimeError(f"{fn}(): expected weight to be {n + 2}-dimensional, but got weight "
                           f"of size {fmt_size(weight.shape)}")
    dt = input._data.dtype
    if weight._data.dtype != dt:
        raise RuntimeError(f"{fn}(): input type ({input.dtype.name}) and weight type "
                           f"({weight.dtype.name}) should be the same")
    if bias is not None and bias._data.dtype != dt:
        raise RuntimeError(f"{fn}(): Input type ({input.dtype.name}) and bias type "
                           f"({bias.dtype.name}) should be the same")
    if dt.kind not in "fiu":
        raise RuntimeError(f"{fn}(): not implemented for dtype {input.dtype.name}")
    stride = ntuple(stride, n, "stride", fn, low=1)
    dilation = ntuple(dilation, n, "dilation", fn, low=1)
    if not is_int(groups):
        raise TypeError(f"{fn}(): argument 'groups' must be int, not {type(groups).__name__}")
    if groups <= 0:
        raise RuntimeError(f"{fn}(): non-positive groups is not supported, got groups={groups}")
    if weight.shape[0] % groups or weight.shape[0] == 0:
        raise RuntimeError(f"Given groups={groups}, expected weight to be divisible by {groups} "
                           f"(and at least 1) at dimension 0, but got weight of size "
                           f"{fmt_size(weight.shape)} instead")
    return stride, dilation, int(groups)


def _check_channels(input, weight, bias, groups, n, transposed):
    """Input channels against the weight; bias length against the output channels."""
    expect = weight.shape[0] if transposed else weight.shape[1] * groups
    c_out = weight.shape[1] * groups if transposed else weight.shape[0]
    C = input.shape[-n - 1]
    given = "Given transposed=1, weight" if transposed else f"Given groups={groups}, weight"
    if C != expect:
        raise RuntimeError(f"{given} of size {fmt_size(weight.shape)}, expected "
                           f"input{fmt_size(input.shape)} to have {expect} channels, but got "
                           f"{C} channels instead")
    if bias is not None and tuple(bias.shape) != (c_out,):
        raise RuntimeError(f"Given {'transposed=1, ' if transposed else ''}weight of size "
                           f"{fmt_size(weight.shape)}, expected bias to be 1-dimensional with "
                           f"{c_out} elements, but got bias of size {fmt_size(bias.shape)} instead")


def conv_args(fn, n, input, weight, bias, stride, padding, dilation, groups):
    """Validate torch's conv arguments; the attributes of ``ConvNd``."""
    stride, dilation, groups = _check_common(fn, n, input, weight, bias, stride, dilation, groups)
    kernel = tuple(weight.shape[2:])
    if isinstance(padding, str):
        if padding == "valid":
            pads = ((0, 0),) * n
        elif padding == "same":
            if any(s != 1 for s in stride):
                raise RuntimeError(f"{fn}(): padding='same' is not supported for strided "
                                   f"convolutions (got stride={list(stride)})")
            total = [d * (k - 1) for k, d in zip(kernel, dilation)]
            pads = tuple((t // 2, t - t // 2) for t in total)   # the odd one out goes right
        else:
            raise RuntimeError(f"{fn}(): Invalid padding string: {padding!r}, expected 'same' "
                               f"or 'valid'")
    else:
        pads = tuple((v, v) for v in ntuple(padding, n, "padding", fn, low=0))
    _check_channels(input, weight, bias, groups, n, transposed=False)
    padded = padded_sizes(input.shape, pads)
    extent = [d * (k - 1) + 1 for k, d in zip(kernel, dilation)]
    if any(p < e for p, e in zip(padded, extent)):
        raise RuntimeError(f"{fn}(): Calculated padded input size per channel: "
                           f"({' x '.join(map(str, padded))}). Kernel size: "
                           f"({' x '.join(map(str, extent))}). Kernel size can't be greater "
                           f"than actual input size")
    return dict(stride=stride, padding=pads, dilation=dilation, groups=groups)


def conv_transpose_args(fn, n, input, weight, bias, stride, padding, output_padding, groups,
                        dilation):
    """Validate torch's transposed-conv arguments; the attributes of ``ConvTransposeNd``."""
    stride, dilation, groups = _check_common(fn, n, input, weight, bias, stride, dilation, groups)
    if isinstance(padding, str):
        raise TypeError(f"{fn}(): argument 'padding' must be an int or a tuple of {n} ints, "
                        f"not str")
    padding = ntuple(padding, n, "padding", fn, low=0)
    output_padding = ntuple(output_padding, n, "output_padding", fn, low=0)
    if any(op >= max(s, d) for op, s, d in zip(output_padding, stride, dilation)):
        raise RuntimeError(f"{fn}(): output padding must be smaller than either stride or "
                           f"dilation, but got output_padding={list(output_padding)}, "
                           f"stride={list(stride)}, dilation={list(dilation)}")
    _check_channels(input, weight, bias, groups, n, transposed=True)
    out = tuple((s - 1) * st - 2 * p + d * (k - 1) + op + 1 for s, st, p, d, k, op in
                zip(input.shape[-n:], stride, padding, dilation, weight.shape[2:], output_padding))
    if min(out) <= 0:
        raise RuntimeError(f"{fn}(): Given input size per channel: {fmt_size(input.shape[-n:])}, "
                           f"calculated output size per channel: {fmt_size(out)}. Output size "
                           f"is too small")
    return dict(stride=stride, padding=tuple((p, p) for p in padding), dilation=dilation,
                groups=groups, out=out)

