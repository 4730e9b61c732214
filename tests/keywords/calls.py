"""The base call of every public callable: its arguments as Python source.

Fixtures (see harness.make_ns): ``x``, ``y`` (3, 4) float; ``p`` (3, 4) in (0.1, 0.9);
``v`` (4,); ``u`` (3,); ``m`` (4, 5); ``sq`` (3, 3); ``b`` (2, 3, 4); ``b2`` (2, 4, 5);
``sig`` (2, 3, 8); ``img`` (2, 3, 6, 6); ``vol`` (1, 2, 4, 4, 4); conv weights ``w1``
(4, 3, 3), ``w2`` (4, 3, 3, 3), ``w3`` (4, 2, 2, 2, 2); int64 ``t`` = [0, 3, 1], ``i`` (3, 4)
in [0, 10), ``idx`` (3, 4) in [0, 3); bool ``mask`` (3, 4); float64 ``xd`` (3,); ``w`` (4,)
requiring grad; ``params`` (two parameters), ``opt`` (SGD on them), ``lrs``, ``data``,
``ds`` (a TensorDataset of 10 rows), ``stream`` (an IterableDataset of 0..4). A method's
base starts with ``self``. A layer's base is 'constructor args | forward args'. One entry
may name several callables (by the name they share across ``torch.``, ``F.`` and
``Tensor.``), or one qualified name.
"""

_SHARED = (
    ("x", """abs absolute acos asin atan ceil cos cosh erf erfc exp exp2 expm1 fix floor frac neg
        negative reciprocal round sgn sigmoid sign signbit sin sinh square tan tanh trunc
        isfinite isinf isnan isneginf isposinf isreal positive argwhere t fliplr flipud nonzero
        sum mean nansum std var std_mean var_mean amax amin argmax argmin max min median norm
        count_nonzero unique clone flatten squeeze relu relu6 selu celu elu gelu silu mish
        hardsigmoid hardswish hardtanh leaky_relu logsigmoid softsign tanhshrink softplus
        hardshrink softshrink nan_to_num dropout alpha_dropout feature_alpha_dropout tril triu
        diag diagonal rot90 contiguous is_contiguous float double half long int short char byte
        bool cpu detach numpy tolist stride size dim element_size numel nelement zero_ abs_ neg_
        exp_ sin_ cos_ tan_ tanh_ sigmoid_ ceil_ floor_ round_ trunc_ frac_ sign_ square_ asin_
        acos_ atan_ sinh_ cosh_ erf_ erfc_ exp2_ expm1_ reciprocal_ relu_ selu_ celu_ elu_
        leaky_relu_ hardtanh_ nan_to_num_ fix_ sgn_ absolute_ negative_ clip_ clamp_
        softmax log_softmax softmin prod all any diag_embed nan_to_num argsort sort"""),
    ("p", """log log10 log1p log2 sqrt rsqrt log_ log10_ log1p_ log2_ sqrt_ rsqrt_ bernoulli
        bernoulli_"""),
    ("x, y", """add sub subtract mul multiply div divide true_divide remainder fmod atan2 arctan2
        hypot logaddexp maximum minimum fmax fmin eq ne not_equal lt le gt ge less less_equal
        greater greater_equal logical_and logical_or logical_xor allclose isclose equal floor_divide
        add_ sub_ subtract_ mul_ multiply_ div_ divide_ true_divide_ remainder_ fmod_ atan2_
        arctan2_ hypot_ logaddexp_ maximum_ minimum_ fmax_ fmin_ eq_ ne_ not_equal_ lt_ le_ gt_
        ge_ less_ less_equal_ greater_ greater_equal_ logical_and_ logical_or_ logical_xor_
        floor_divide_ copy_ expand_as reshape_as view_as type_as"""),
    ("p, y", "pow pow_ float_power float_power_ xlogy xlogy_"),
    ("i", "bitwise_not bitwise_not_ logical_not logical_not_"),
    ("i, idx", """bitwise_and bitwise_or bitwise_xor bitwise_left_shift bitwise_right_shift
        bitwise_and_ bitwise_or_ bitwise_xor_ bitwise_left_shift_ bitwise_right_shift_"""),
    ("x, y, p", "addcmul addcdiv addcmul_ addcdiv_ lerp lerp_"),
    ("x, 1", "unsqueeze cumsum cumprod logsumexp unbind cumsum_ cumprod_ chunk"),
    ("x, -0.5, 0.5", "clamp clip clamp_ clip_"),
    ("x, -0.5", "clamp_min clamp_min_"),
    ("x, 0.5", "clamp_max clamp_max_ fill_"),
    ("x, 0.1, 20.0", "threshold threshold_"),
    ("x, m", "mm matmul"),
    ("b, b2", "bmm"),
    ("m, v[:4].repeat(2)[:5]", "mv"),
    ("u, v", "outer ger"),
    ("v, v", "dot inner"),
    ("x @ m, x, m", "addmm"),
    ("u, x, v", "addmv"),
    ("x @ m, b, b2", "addbmm"),
    ("b @ b2, b, b2", "baddbmm"),
    ("x, 1, idx[:, :2]", "gather"),
    ("x, 1, idx, y", "scatter scatter_ scatter_add scatter_add_"),
    ("x, 0, t[:2] % 3, y[:2]", "index_add index_add_"),
    ("x, 0, t[:2] % 3, 2.0", "index_fill index_fill_"),
    ("x, (t % 3,), y", "index_put index_put_"),
    ("x, 0, t % 3", "index_select"),
    ("x, mask, 0.0", "masked_fill masked_fill_"),
    ("x, mask", "masked_select"),
    ("x, idx.flatten()", "take"),
    ("x, idx, 1", "take_along_dim"),
    ("x, 0, 1, 2", "narrow"),
    ("x, 1, 0", "select"),
    ("x, 0, 1", "transpose swapaxes swapdims movedim moveaxis"),
    ("x, (1, 0)", "permute"),
    ("x, 12", "reshape view"),
    ("x, (2, 3, 4)", "broadcast_to expand"),
    ("x, (2, 1)", "tile repeat"),
    ("x, 1, (2, 2)", "unflatten"),
    ("x, (0,)", "flip"),
    ("x, 1, 1", "roll"),
    ("x, 2", "repeat_interleave split topk"),
    ("x, 1, 2, 1", "unfold"),
    ("x, torch.float64", "cast"),
    ("x, (3,), 2.0", "new_full"),
    ("x, [1.0, 2.0]", "new_tensor"),
    ("x, 2, 3", "new_zeros new_ones new_empty"),
    ("x, mask, y", "where"),
    ("t, 4", "one_hot"),
    ("[x, y]", "cat concat concatenate stack hstack vstack dstack column_stack row_stack"),
    ("[x, y], 1", "broadcast_tensors meshgrid atleast_1d"),
    ("sig", "dropout1d"),
    ("img", "dropout2d"),
    ("vol", "dropout3d"),
    ("p, 2", "multinomial"),
    ("*F.max_pool1d(sig, 2, 2, 1, return_indices=True), 2", "max_unpool1d"),
    ("*F.max_pool2d(img, 2, 2, 1, return_indices=True), 2", "max_unpool2d"),
    ("*F.max_pool3d(vol, 2, 2, 1, return_indices=True), 2", "max_unpool3d"),
    ("x", "cuda"),
    ("sig, 3, 2, 1", "avg_pool1d max_pool1d"),
    ("img, 3, 2, 1", "avg_pool2d max_pool2d"),
    ("vol, 3, 2, 1", "avg_pool3d max_pool3d"),
    ("sig, 2", "adaptive_avg_pool1d adaptive_max_pool1d"),
    ("img, 2", "adaptive_avg_pool2d adaptive_max_pool2d pixel_unshuffle"),
    ("vol, 2", "adaptive_avg_pool3d adaptive_max_pool3d"),
    ("sig, w1", "conv1d"),
    ("img, w2", "conv2d"),
    ("vol, w3", "conv3d"),
    ("sig, w1.transpose(0, 1)", "conv_transpose1d"),
    ("img, w2.transpose(0, 1)", "conv_transpose2d"),
    ("vol, w3[:, :2].transpose(0, 1)", "conv_transpose3d"),
    ("img, 3", "group_norm"),
    ("img, (6, 6)", "layer_norm"),
    ("img, scale_factor=2.0", "interpolate upsample"),
    ("img, 3", "local_response_norm"),
    ("img, img.mean((0, 2, 3)), img.var((0, 2, 3))", "batch_norm"),
    ("img", "instance_norm"),
    ("img, scale_factor=2", "upsample_bilinear upsample_nearest"),
    ("img, (6, 6)", "rms_norm"),
    ("b, b, b", "scaled_dot_product_attention"),
    ("b, b, b, 4, 2, torch.ones(12, 4), None, None, None, False, 0.0, torch.eye(4), None",
     "multi_head_attention_forward"),
    ("torch.cat([img, img[:, :1]], 1), 2", "pixel_shuffle"),
    ("img, (1, 1, 2, 2)", "pad"),
    ("x, m.T, m[0]", "linear"),
    ("x, y, torch.ones(2, 4, 4), torch.ones(2)", "bilinear"),
    ("x, torch.tensor([0.25])", "prelu"),
    ("t, m", "embedding"),
    ("p, (p > 0.5).float()", "binary_cross_entropy binary_cross_entropy_with_logits"),
    ("x, t", "cross_entropy nll_loss"),
    ("x, y", "l1_loss mse_loss smooth_l1_loss huber_loss"),
    ("x.log_softmax(1), p.softmax(1)", "kl_div"),
    ("x, y", "cosine_similarity pairwise_distance"),
    ("x, y, y + 0.1", "triplet_margin_loss triplet_margin_with_distance_loss"),
    ("x, x + 0.1 * y, torch.tensor([1, -1, -1])", "cosine_embedding_loss"),
    ("x", "normalize histc pdist"),
    ("t", "bincount"),
    ("x.sort(1)[0], y", "searchsorted"),
    ("(3, 4)", "zeros ones empty rand randn"),
    ("x", """asinh arcsinh arcsin arccos arctan deg2rad rad2deg nanmean diff asinh_ arcsinh_
        deg2rad_ rad2deg_"""),
    ("p", "atanh arctanh logit atanh_ arctanh_ logit_"),
    ("p + 1", "acosh arccosh"),
    ("(p + 1).clone()", "acosh_ arccosh_"),
    ("x, 1", "cummax cummin"),
    ("x, 2", "kthvalue tensor_split"),
    ("x, 0.3", "quantile nanquantile"),
    ("3, 4", "tril_indices triu_indices"),
    ("torch.tensor([-1.0, 0.5, 1.0]), torch.tensor([-1.0, 0.0, 1.0])", "bucketize"),
    ("i, t", "isin"),
    ("x, y", "cdist"),
    ("x[:, :3], y[:, :3]", "cross"),
    ("u, v", "kron"),
    ("", "finfo"),
    ("x[:1, :1].clone()", "squeeze_"),
    ("x.clone()", "arcsin_ arccos_ arctan_"),
    ("x.clone(), 0, 1", "transpose_"),
    ("x.clone(), 1", "unsqueeze_"),
    ("x", "ravel"),
    ("sq", "trace"),
    ("torch.int32", "iinfo"),
    ("torch.int32, torch.float32", "can_cast promote_types"),
    ("x, 1", "result_type"),
    ("'cpu'", "set_default_device"),
)
_BY_NAME = {name: base for base, names in _SHARED for name in names.split()}

BASE = {
    **{f"{space}.{n}": b for n, b in _BY_NAME.items() for space in ("torch", "F", "Tensor")},
    # ----------------------------------------------------------- creation and the like
    "torch.tensor": "[1.0, 2.0]", "torch.as_tensor": "[1.0, 2.0]", "torch.asarray": "[1.0, 2.0]",
    "torch.scalar_tensor": "2.0", "torch.full": "(3, 4), 2.0", "torch.arange": "0.0, 3.0, 0.5",
    "torch.linspace": "0, 1, 5", "torch.logspace": "0, 1, 5", "torch.eye": "3",
    "torch.randint": "0, 10, (3, 4)", "torch.randperm": "6", "torch.normal": "0.0, 1.0, (3,)",
    "torch.zeros_like": "x.T", "torch.ones_like": "x.T", "torch.empty_like": "x.T",
    "torch.rand_like": "x.T", "torch.randn_like": "x.T", "torch.full_like": "x.T, 2.0",
    "torch.randint_like": "x.T, 10", "torch.from_numpy": "np.ones(3)",
    "torch.Tensor": "[1.0, 2.0]", "torch.Generator": "", "torch.device": "'cpu'",
    "torch.autocast": "'cpu'", "torch.compile": "torch.nn.Linear(2, 2)",
    "torch.get_autocast_dtype": "'cpu'", "torch.is_autocast_enabled": "'cpu'",
    "torch.set_float32_matmul_precision": "'highest'", "torch.set_printoptions": "",
    "torch.use_deterministic_algorithms": "False", "torch.GradScaler": "'cpu'",
    "torch.get_device_module": "'cpu'", "torch.is_complex": "x", "torch.is_floating_point": "x",
    "torch.is_nonzero": "x[0, :1]",
    "torch.dtype": "'float32', np.float32", "torch.memory_format": "'contiguous_format'",
    "torch.is_tensor": "x", "torch.inference_mode": "", "torch.set_grad_enabled": "True",
    "torch.einsum": "'ij->j', x", "torch.dropout": "x, 0.5, True",
    "torch.dropout_": "x, 0.5, True", "torch.feature_dropout": "img, 0.5, True",
    "Tensor.new_empty": "x, 2, 3", "Tensor.requires_grad_": "x",
    "Tensor.register_hook": "w * 2, print", "Tensor.backward": "(w * w).sum()",
    "Tensor.type": "x", "Tensor.to": "x", "Tensor.unique": "i", "torch.unique": "i",
    "Tensor.sort": "x",
    "Tensor.random_": "x", "Tensor.uniform_": "x", "Tensor.normal_": "x",
    "Tensor.exponential_": "x", "Tensor.log_normal_": "x", "Tensor.cauchy_": "x",
    "Tensor.geometric_": "x, 0.5", "Tensor.bernoulli_": "x",
    "Tensor.softmax": "x, 1", "Tensor.log_softmax": "x, 1", "Tensor.retain_grad": "w * 2",
    "torch.set_default_dtype": "torch.float32", "torch.manual_seed": "0",
    "torch.set_num_threads": "torch.get_num_threads()",
    "torch.set_rng_state": "torch.get_rng_state()",
    "torch.save": "{'a': x}, __import__('io').BytesIO()",
    "torch.load": "torch.save({'a': x}, _io := __import__('io').BytesIO()) or _io.seek(0) or _io",
    "torch.summary": "nn.Linear(4, 2), (4,)", "torch.where": "mask, x, y",
    "torch.tensordot": "x, m, 1",
    "torch.split": "x, 2", "torch.group_norm": "img, 3", "torch.rms_norm": "img, (6, 6)",
    # ----------------------------------------------------------------------- autograd
    "autograd.grad": "(w * w).sum(), w", "autograd.backward": "(w * w).sum()",
    "autograd.gradcheck": "lambda a: a.exp(), (xd.requires_grad_(),)",
    "autograd.gradgradcheck": "lambda a: a.exp(), (xd.requires_grad_(),)",
    # --------------------------------------------------------------------------- data
    "data.DataLoader": "ds, 3", "data.RandomSampler": "ds", "data.SequentialSampler": "ds",
    "data.Sampler": "ds", "data.BatchSampler": "data.SequentialSampler(ds), 3, False",
    "data.SubsetRandomSampler": "[1, 3, 5, 7]", "data.Subset": "ds, [1, 3]",
    "data.WeightedRandomSampler": "[0.1, 0.2, 0.7], 5", "data.ConcatDataset": "[ds, ds]",
    "data.ChainDataset": "[stream, stream]", "data.random_split": "ds, [0.5, 0.5]",
    "data.default_collate": "[(1, x), (2, y)]", "data.default_convert": "[np.ones(2)]",
    "data.WorkerInfo": "0, 2, 5, ds",
    "data.SlidingWindowDataset": "torch.arange(10.0), 3",
}

_OPTIM = "params, lr=0.1"
_LAYERS = {
    "Linear": "4, 2 | x", "Bilinear": "4, 4, 2 | x, y", "Identity": " | x",
    "CausalConv1d": "3, 4, 3 | sig",
    "Conv1d": "3, 4, 3 | sig", "Conv2d": "3, 4, 3 | img", "Conv3d": "2, 4, 2 | vol",
    "ConvLSTMCell": "3, 4, 3 | img", "ConvLSTM": "4, 3, 3 | vol",
    "PositionalEncoding": "4 | b", "LearnedPositionalEncoding": "4 | b",
    "RNN": "4, 3 | b", "LSTM": "4, 3 | b", "GRU": "4, 3 | b", "RNNBase": "'LSTM', 4, 3",
    "RNNCell": "4, 3 | x", "LSTMCell": "4, 3 | x", "GRUCell": "4, 3 | x",
    "RNNCellBase": "4, 3, True, 4",
    "MultiheadAttention": "4, 2 | b, b, b",
    "TransformerEncoderLayer": "4, 2, 6, 0.0 | b", "TransformerDecoderLayer": "4, 2, 6, 0.0 | b, b",
    # the layer to copy is made after seeding, so that every call copies the same weights
    "TransformerEncoder": "(torch.manual_seed(0), nn.TransformerEncoderLayer(4, 2, 6, 0.0))[1], "
                          "2, enable_nested_tensor=False | b",
    "TransformerDecoder":
        "(torch.manual_seed(0), nn.TransformerDecoderLayer(4, 2, 6, 0.0))[1], 2 | b, b",
    "Transformer": "4, 2, 1, 1, 6, 0.0 | b, b",
    "ConvTranspose1d": "3, 4, 3 | sig", "ConvTranspose2d": "3, 4, 3 | img",
    "ConvTranspose3d": "2, 4, 2 | vol",
    "BatchNorm1d": "3 | sig", "BatchNorm2d": "3 | img", "BatchNorm3d": "2 | vol",
    "InstanceNorm1d": "3 | sig", "InstanceNorm2d": "3 | img", "InstanceNorm3d": "2 | vol",
    "GroupNorm": "3, 3 | img", "LayerNorm": "6 | img", "RMSNorm": "6 | img",
    "LocalResponseNorm": "2 | img", "Embedding": "4, 3 | t", "PReLU": " | x",
    "Flatten": " | img", "Unflatten": "1, (2, 2) | x", "GLU": " | x",
    "MaxPool1d": "3, 2, 1 | sig", "MaxPool2d": "3, 2, 1 | img", "MaxPool3d": "3, 2, 1 | vol",
    "AvgPool1d": "3, 2, 1 | sig", "AvgPool2d": "3, 2, 1 | img", "AvgPool3d": "3, 2, 1 | vol",
    "AdaptiveAvgPool1d": "3 | sig", "AdaptiveAvgPool2d": "3 | img", "AdaptiveAvgPool3d": "3 | vol",
    "AdaptiveMaxPool1d": "3 | sig", "AdaptiveMaxPool2d": "3 | img", "AdaptiveMaxPool3d": "3 | vol",
    "MaxUnpool1d": "2 | *F.max_pool1d(sig, 2, 2, 1, return_indices=True)",
    "MaxUnpool2d": "2 | *F.max_pool2d(img, 2, 2, 1, return_indices=True)",
    "MaxUnpool3d": "2 | *F.max_pool3d(vol, 2, 2, 1, return_indices=True)",
    "PixelShuffle": "2 | torch.cat([img, img[:, :1]], 1)", "PixelUnshuffle": "2 | img",
    "Upsample": "scale_factor=2 | img", "UpsamplingBilinear2d": "scale_factor=2 | img",
    "UpsamplingNearest2d": "scale_factor=2 | img", "Dropout3d": " | vol",
    "ConstantPad1d": "1, 0.5 | sig", "ConstantPad2d": "1, 0.5 | img", "ZeroPad1d": "1 | sig",
    "ZeroPad2d": "1 | img", "ReflectionPad1d": "1 | sig", "ReflectionPad2d": "1 | img",
    "ReplicationPad1d": "1 | sig", "ReplicationPad2d": "1 | img", "CircularPad1d": "1 | sig",
    "CircularPad2d": "1 | img", "Threshold": "0.1, 20.0 | x",
    "Softmax": " | x", "LogSoftmax": " | x", "Softmin": " | x", "Softmax2d": " | img",
    "CrossEntropyLoss": " | x, t", "NLLLoss": " | x, t", "BCELoss": " | p, (p > 0.5).float()",
    "BCEWithLogitsLoss": " | x, (p > 0.5).float()", "KLDivLoss": " | x.log_softmax(1), p",
    "Sequential": "nn.Linear(4, 2) | x", "ModuleList": "[nn.Linear(4, 2)]",
    "ModuleDict": "{'fc': nn.Linear(4, 2)}", "ParameterList": "[nn.Parameter(x)]",
    "ParameterDict": "{'a': nn.Parameter(x)}", "Module": "",
    "CosineSimilarity": " | x, y", "PairwiseDistance": " | x, y",
    "TripletMarginLoss": " | x, y, y + 0.1", "TripletMarginWithDistanceLoss": " | x, y, y + 0.1",
    "CosineEmbeddingLoss": " | x, x + 0.1 * y, torch.tensor([1, -1, -1])",
}
for _name in """ReLU ReLU6 SELU CELU ELU GELU SiLU Mish Hardsigmoid Hardswish Hardtanh LeakyReLU
        LogSigmoid Softsign Tanhshrink Softplus Hardshrink Softshrink Sigmoid Tanh Dropout
        Dropout1d Dropout2d Dropout3d AlphaDropout FeatureAlphaDropout""".split():
    _LAYERS.setdefault(_name, " | x")
for _name in "L1Loss MSELoss SmoothL1Loss HuberLoss".split():
    _LAYERS[_name] = " | x, y"
BASE.update({f"nn.{n}": b for n, b in _LAYERS.items()})
BASE.update({f"optim.{n}": _OPTIM for n in
             "SGD Adam AdamW Adamax Adadelta Adagrad NAdam RAdam RMSprop".split()})
BASE["optim.Optimizer"] = "params, {'lr': 0.1}"
BASE["optim.LBFGS"] = "params"  # its cases (cases_training._lbfgs_keyword) step with a closure
BASE.update({f"lr_scheduler.{n}": b for n, b in {
    "StepLR": "opt, 2", "MultiStepLR": "opt, [2, 5]", "ExponentialLR": "opt, 0.9",
    "ConstantLR": "opt", "LinearLR": "opt", "PolynomialLR": "opt",
    "CosineAnnealingLR": "opt, 4", "CosineAnnealingWarmRestarts": "opt, 3",
    "LambdaLR": "opt, lambda e: 0.9 ** e", "MultiplicativeLR": "opt, lambda e: 0.9",
    "CyclicLR": "opt, 0.01, 0.1, 2", "OneCycleLR": "opt, 0.5, 8", "LRScheduler": "opt",
    "ReduceLROnPlateau": "opt, patience=1",
    "ChainedScheduler": "[lrs.ExponentialLR(opt, 0.9), lrs.StepLR(opt, 2)]",
    "SequentialLR": "opt, [lrs.ConstantLR(opt, 0.5, 2), lrs.ExponentialLR(opt, 0.9)], [2]",
}.items()})
