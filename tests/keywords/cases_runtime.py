"""Cases for the runtime API around the ops (printing, compile, autocast, global flags)
and the counting functions."""
from .checks import Custom, Differs, Refused, Warns, each

_PRINTED = "[[0.12345678, 2.0], [3.5, 0.25]] * 10"


def _prints(torch, kw, value, changes):
    """``set_printoptions(kw=value)`` changes how a 20 x 2 tensor prints (then resets)."""
    t = torch.tensor(eval(_PRINTED))
    before = repr(t)
    try:
        torch.set_printoptions(**{kw: value})
        assert changes(before, repr(t)), f"set_printoptions({kw}={value!r}) had no effect"
    finally:
        torch.set_printoptions(profile="default")


def _flag(torch):
    torch.use_deterministic_algorithms(True, warn_only=True)
    assert torch.is_deterministic_algorithms_warn_only_enabled()
    torch.use_deterministic_algorithms(False)


def _model_returned(torch):
    m = torch.nn.Linear(2, 2)
    assert torch.compile(model=m, disable=True) is m


_COMPILE = "torch.nn.Linear(2, 2)"

RUNTIME_CASES = {
    ("torch.set_printoptions", "precision"): [Custom(
        lambda torch: _prints(torch, "precision", 2, lambda a, b: "0.12," in b and a != b),
        "digits after the point")],
    ("torch.set_printoptions", "threshold"): [Custom(
        lambda torch: _prints(torch, "threshold", 10, lambda a, b: "..." in b),
        "summarise past this many elements")],
    ("torch.set_printoptions", "edgeitems"): [Custom(
        lambda torch: _prints(torch, "edgeitems", 0, lambda a, b: "size=" in b),
        "elements kept at each end")],
    ("torch.set_printoptions", "linewidth"): [Custom(
        lambda torch: _prints(torch, "linewidth", 10, lambda a, b: b.count("\n") > a.count("\n")),
        "characters per line")],
    ("torch.set_printoptions", "profile"): [Custom(
        lambda torch: _prints(torch, "profile", "short", lambda a, b: "0.12," in b),
        "a preset of the four options"), Refused("'long'", ValueError, "profile")],
    ("torch.set_printoptions", "sci_mode"): [Custom(
        lambda torch: _prints(torch, "sci_mode", True, lambda a, b: "e-01" in b),
        "force or forbid scientific notation")],
    ("torch.use_deterministic_algorithms", "warn_only"): [Custom(
        _flag, "reported by is_deterministic_algorithms_warn_only_enabled")],
    ("torch.compile", "model"): [Custom(_model_returned, "the model comes back unchanged")],
    ("torch.compile", "disable"): [Custom(_model_returned, "no notice, the model as it is")],
    **{("torch.compile", kw): [Warns(value, f"{kw}={value}".replace("'", ".")[:-1],
                                     base=_COMPILE)]
       for kw, value in (("fullgraph", "True"), ("dynamic", "True"),
                         ("backend", "'eager'"), ("mode", "'max-autotune'"),
                         ("options", "{'a': 1}"))},
    ("torch.autocast", "dtype"): [Refused("torch.float16", NotImplementedError, "float16",
                                          base="'cpu'"),
                                  Warns("torch.float32", "not supported", base="'cpu'")],
    ("torch.autocast", "enabled"): [Warns("True", "Disabling", base="'cuda', enabled=False")],
    ("torch.autocast", "cache_enabled"): [Refused("'yes'", TypeError, "cache_enabled",
                                                  base="'cpu'")],
    **each("torch.bincount Tensor.bincount", "weights",
           Differs("torch.tensor([0.5, 2.0, 1.5])")),
    **each("torch.bincount Tensor.bincount", "minlength", Differs("8")),
    **each("torch.cosine_similarity F.cosine_similarity F.normalize nn.CosineSimilarity",
           "eps", Differs("10.0")),
    **each("torch.histc Tensor.histc", "bins", Differs("5")),
    **each("torch.histc Tensor.histc", "min", Differs("-0.5")),
    **each("torch.histc Tensor.histc", "max", Differs("0.5")),
    ("torch.GradScaler", "device"): [Custom(lambda torch: _scales(torch, {}, None) == [1.0, 1.0],
                                            "'cuda' (the default) is missing: disabled")],
    ("torch.GradScaler", "enabled"): [Custom(
        lambda torch: _scales(torch, {"enabled": False}) == [1.0, 1.0],
        "disabled: a pass-through")],
    ("torch.GradScaler", "init_scale"): [Custom(
        lambda torch: _scales(torch, {"init_scale": 8.0})[0] == 8.0, "the first scale")],
    ("torch.GradScaler", "growth_interval"): [Custom(
        lambda torch: _scales(torch, {"growth_interval": 1})[0] == 2.0 ** 17,
        "clean steps before growing")],
    ("torch.GradScaler", "growth_factor"): [Custom(
        lambda torch: _scales(torch, {"growth_interval": 1, "growth_factor": 4.0})[0]
        == 2.0 ** 18, "the growth per interval")],
    ("torch.GradScaler", "backoff_factor"): [Custom(
        lambda torch: _scales(torch, {"backoff_factor": 0.25})[1] == 2.0 ** 14,
        "the shrink after an overflow")],
    ("torch.get_device_module", "device"): [Custom(
        lambda torch: torch.get_device_module(device="cuda") is torch.cuda,
        "the module of that device type")],
    **each("torch.is_autocast_enabled", "device_type", Custom(
        lambda torch: _autocast_device(torch), "which device's region is asked about")),
}


def _autocast_device(torch):
    with torch.autocast("cpu"):
        assert torch.is_autocast_enabled(device_type="cpu")
        assert not torch.is_autocast_enabled(device_type="cuda")


def _scales(torch, kw, device="cpu"):
    """The scale after a clean step and after an overflowing one (``device=None``: the
    constructor's default device)."""
    w = torch.ones(2, requires_grad=True)
    opt = torch.optim.SGD([w], lr=0.1)
    s = torch.GradScaler(**kw) if device is None else torch.GradScaler(device, **kw)
    out = []
    for x in (1.0, float("inf")):
        opt.zero_grad()
        s.scale((w * x).sum()).backward()
        s.step(opt)
        s.update()
        out.append(s.get_scale())
    return out
