"""Cases for ``nn.functional`` and the ``nn`` layers."""
from .checks import Custom, Differs, InPlace, Refused, Warns, each

_RUNNING = "img, torch.zeros(3), torch.ones(3), use_input_stats=False"  # output uses them
_CONVS = ("conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
          "conv_transpose3d")
_UPSAMPLE_LAYERS = "nn.Upsample nn.UpsamplingBilinear2d nn.UpsamplingNearest2d"
_TRIPLET_LOSSES = ("F.triplet_margin_loss F.triplet_margin_with_distance_loss "
                   "nn.TripletMarginLoss nn.TripletMarginWithDistanceLoss")
_METRIC_LOSSES = f"{_TRIPLET_LOSSES} F.cosine_embedding_loss nn.CosineEmbeddingLoss"

NN_CASES = {
    # ---------------------------------------------------------------- nn.functional
    **each("alpha_dropout feature_alpha_dropout", "p", Differs("0.2", base="x, training=True")),
    **each("alpha_dropout feature_alpha_dropout", "inplace", InPlace(base="x, training=True")),
    **each("avg_pool2d avg_pool3d nn.AvgPool2d nn.AvgPool3d", "divisor_override", Differs("3")),
    **each("F.max_unpool1d F.max_unpool2d F.max_unpool3d nn.MaxUnpool1d nn.MaxUnpool2d "
           "nn.MaxUnpool3d", "stride", Differs("3")),
    ("F.max_unpool1d", "output_size"): [Differs("(9,)")],
    ("F.max_unpool2d", "output_size"): [Differs("(7, 7)")],
    ("F.max_unpool3d", "output_size"): [Differs("(5, 5, 5)")],
    **each(" ".join(_CONVS), "bias", Differs("v")),
    **{(f"{space}.{name}", "groups"): [
        Custom(lambda torch, name=name: _grouped(torch, name),
               "groups=2 convolves each half of the channels with its half of the filters")]
       for space in ("torch", "F") for name in _CONVS},
    **{(f"{space}.conv_transpose{n}d", "output_padding"): [
        Differs("1", base=f"{fixture}, {weight}, None, 2")]
       for space in ("torch", "F") for n, fixture, weight in (
           (1, "sig", "w1.transpose(0, 1)"), (2, "img", "w2.transpose(0, 1)"),
           (3, "vol", "w3[:, :2].transpose(0, 1)"))},
    ("F.batch_norm", "weight"): [Differs("u")], ("F.batch_norm", "bias"): [Differs("u")],
    ("F.batch_norm", "momentum"): [
        Differs("0.5", base="img, u, u.abs() + 1, training=True", track=("u",))],
    ("F.instance_norm", "running_mean"): [Differs("u", base=_RUNNING)],
    ("F.instance_norm", "running_var"): [Differs("u.abs() + 1", base=_RUNNING)],
    ("F.instance_norm", "use_input_stats"): [Differs("True", base=_RUNNING)],
    ("F.instance_norm", "momentum"): [Differs("0.5", base="img, u, u.abs() + 1", track=("u",))],
    **each("F.instance_norm group_norm", "weight", Differs("u")),
    **each("F.instance_norm group_norm", "bias", Differs("u")),
    **each("layer_norm rms_norm", "weight", Differs("torch.full((6, 6), 2.0)")),
    **each("layer_norm", "bias", Differs("torch.full((6, 6), 2.0)")),
    **each("F.binary_cross_entropy F.binary_cross_entropy_with_logits F.l1_loss F.mse_loss "
           "F.huber_loss nn.BCELoss nn.BCEWithLogitsLoss", "weight", Differs("p")),
    **each("F.binary_cross_entropy_with_logits nn.BCEWithLogitsLoss", "pos_weight",
           Differs("torch.full((4,), 2.0)")),
    **each("F.cross_entropy F.nll_loss nn.CrossEntropyLoss nn.NLLLoss", "weight",
           Differs("v.abs()")),
    **each(_METRIC_LOSSES, "margin", Differs("0.5")),
    **each(_TRIPLET_LOSSES, "swap", Differs("True")),
    **each("F.triplet_margin_with_distance_loss nn.TripletMarginWithDistanceLoss",
           "distance_function", Differs("lambda a, b: (a - b).abs().sum(-1)")),
    ("F.embedding", "padding_idx"): [Differs("0", grad=True)],
    ("F.embedding", "max_norm"): [Differs("1.0")],
    ("F.embedding", "norm_type"): [Differs("1.0", base="t, m, max_norm=1.0")],
    ("F.embedding", "scale_grad_by_freq"): [
        Differs("True", base="torch.tensor([0, 0, 1]), m", grad=True)],
    **each("F.embedding nn.Embedding", "sparse", Refused("True", NotImplementedError, "sparse")),
    **each("F.interpolate F.upsample", "size", Differs("(4, 4)", base="img, (3, 3)")),
    **each("F.interpolate F.upsample", "scale_factor", Differs("3.0")),
    **each("F.interpolate F.upsample", "align_corners",
           Differs("True", base="img, scale_factor=2.0, mode='bilinear'")),
    ("F.interpolate", "recompute_scale_factor"): [
        Differs("True", base="img, scale_factor=1.7, mode='bilinear'")],
    ("F.interpolate", "antialias"): [
        Refused("True", NotImplementedError, "antialias", base="img, (3, 3), mode='bilinear'")],
    **each("F.upsample_bilinear F.upsample_nearest", "size",
           Differs("(4, 4)", base="img, (3, 3)")),
    **each("F.upsample_bilinear F.upsample_nearest", "scale_factor", Differs("3")),
    ("F.one_hot", "num_classes"): [Differs("6")],
    ("F.pad", "mode"): [Differs("'reflect'")],
    # ------------------------------------------------------------------------ layers
    **{(f"nn.ConvTranspose{n}d", "output_padding"): [
        Differs("1", base=f"{channels}, 4, {k}, 2 | {fixture}")]
       for n, channels, k, fixture in ((1, 3, 3, "sig"), (2, 3, 3, "img"), (3, 2, 2, "vol"))},
    **{(f"nn.{kind}{n}d", "groups"): [
        Differs("2", base=f"4, 4, 2 | torch.cat([{fixture}, {fixture}], 1)[:, :4]")]
       for kind in ("Conv", "ConvTranspose")
       for n, fixture in ((1, "sig"), (2, "img"), (3, "vol"))},
    **{(f"nn.Conv{n}d", "padding_mode"): [
        Differs("'reflect'", base=f"{channels}, 4, 2, padding=1 | {fixture}")]
       for n, channels, fixture in ((1, 3, "sig"), (2, 3, "img"), (3, 2, "vol"))},
    **{(f"nn.ConvTranspose{n}d", "padding_mode"): [
        Refused("'reflect'", ValueError, "padding mode")] for n in (1, 2, 3)},
    **{(f"nn.InstanceNorm{n}d", kw): [Differs(value, base=f"{channels}, {option} | {fixture}")]
       for n, channels, fixture in ((1, 3, "sig"), (2, 3, "img"), (3, 2, "vol"))
       for kw, value, option in (("momentum", "0.5", "track_running_stats=True"),
                                 ("dtype", "torch.float64", "affine=True"),
                                 ("bias", "False", "affine=True"))},
    ("nn.GLU", "dim"): [Differs("0", base=" | torch.cat([x, y[:1]])")],
    ("nn.Identity", "kwargs"): [
        Custom(lambda torch: _identity_ignores(torch),
               "nn.Identity takes any arguments and uses none, as torch's")],
    ("nn.Embedding", "padding_idx"): [Differs("0")],
    ("nn.Embedding", "max_norm"): [Differs("0.5")],
    ("nn.Embedding", "norm_type"): [Differs("1.0", base="4, 3, max_norm=0.5 | t")],
    ("nn.Embedding", "scale_grad_by_freq"): [
        Differs("True", base="4, 3 | torch.tensor([0, 0, 1])")],
    ("nn.Embedding", "_weight"): [Differs("torch.ones(4, 3)")],
    ("nn.Embedding", "_freeze"): [Differs("True")],
    ("nn.Flatten", "start_dim"): [Differs("2")], ("nn.Flatten", "end_dim"): [Differs("2")],
    ("nn.Hardtanh", "min_value"): [Differs("-0.5"), Warns("-0.5", "deprecated")],
    ("nn.Hardtanh", "max_value"): [Differs("0.5"), Warns("0.5", "deprecated")],
    ("nn.ModuleList", "modules"): [Differs("[nn.ReLU()]")],
    ("nn.ModuleDict", "modules"): [Differs("{'act': nn.ReLU()}")],
    ("nn.ParameterList", "values"): [Differs("[nn.Parameter(y)]")],
    ("nn.ParameterDict", "parameters"): [Differs("{'b': nn.Parameter(y)}")],
    ("nn.PReLU", "num_parameters"): [Differs("4")], ("nn.PReLU", "init"): [Differs("0.5")],
    **each(_UPSAMPLE_LAYERS, "size", Differs("(4, 4)", base="size=(3, 3) | img")),
    **each(_UPSAMPLE_LAYERS, "scale_factor", Differs("3")),
    ("nn.Upsample", "recompute_scale_factor"): [
        Differs("True", base="scale_factor=1.7, mode='bilinear' | img")],
    ("nn.Upsample", "align_corners"): [
        Differs("True", base="scale_factor=2, mode='bilinear' | img")],
}


def _grouped(torch, name):
    """groups=2 is the two halves convolved apart and concatenated."""
    n = int(name[-2])
    x = torch.arange(2.0 * 4 * 5 ** n).reshape(2, 4, *[5] * n) / 100
    w = torch.arange(4.0 * 2 * 2 ** n).reshape(4, 2, *[2] * n) / 10
    f = getattr(torch.nn.functional, name)
    halves = torch.cat([f(x[:, :2], w[:2]), f(x[:, 2:], w[2:])], 1)
    assert torch.allclose(f(x, w, groups=2), halves)


def _identity_ignores(torch):
    x = torch.ones(2)
    assert torch.nn.Identity(54, bogus=1)(x) is x
