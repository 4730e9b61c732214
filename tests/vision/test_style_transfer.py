"""Style-transfer costs, feature networks and VGG-19 weight loading against torch (float64
where the costs are checked: values and gradients with respect to the image)."""
import os

import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from PIL import Image

import minidl
from minidl import cli
from minidl.vision.style_features import (
    IMAGENET_MEAN,
    IMAGENET_STD,
    VGG19_LAYERS,
    RandomMultiScaleFeatures,
    VGGFeatures,
    load_vgg19_features,
)
from minidl.vision.style_transfer import (
    StyleTransferLoss,
    content_cost,
    gram_matrix,
    style_cost,
    style_layer_cost,
    total_variation,
)

RNG = np.random.default_rng(0)
VGG19_CFG = [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M",
             512, 512, 512, 512, "M"]


def _pair(a):
    """The same float64 array as a minidl and a torch leaf that require grad."""
    return (minidl.from_numpy(a.copy()).requires_grad_(True),
            torch.from_numpy(a.copy()).requires_grad_(True))


def _check(ours, theirs, m_leaf, t_leaf, rtol=1e-9):
    ours.backward()
    theirs.backward()
    np.testing.assert_allclose(ours.item(), theirs.item(), rtol=rtol)
    np.testing.assert_allclose(m_leaf.grad.numpy(), t_leaf.grad.numpy(), rtol=rtol, atol=1e-12)


def _torch_gram(f):
    b, c, h, w = f.shape
    f = f.reshape(b, c, h * w)
    return f @ f.transpose(1, 2)  # the paper's un-normalised G = F F^T


def test_gram_matrix_is_f_ft_over_the_layer_size():
    m, t = _pair(RNG.standard_normal((2, 4, 3, 5)))
    g = gram_matrix(m)
    assert tuple(g.shape) == (2, 4, 4)
    np.testing.assert_allclose(g.detach().numpy(), (_torch_gram(t) / 15).detach().numpy(),
                               rtol=1e-12)
    weights = RNG.standard_normal((2, 4, 4))
    _check((g * minidl.from_numpy(weights)).sum(),
           ((_torch_gram(t) / 15) * torch.from_numpy(weights)).sum(), m, t)


@pytest.mark.parametrize("normalization", ["paper", "course"])
def test_content_cost_matches_the_formula(normalization):
    target = RNG.standard_normal((1, 6, 4, 5))
    m, t = _pair(RNG.standard_normal((1, 6, 4, 5)))
    ref = ((t - torch.from_numpy(target)) ** 2).sum()
    ref = ref / 2 if normalization == "paper" else ref / (4 * 6 * 4 * 5)
    _check(content_cost(m, minidl.from_numpy(target), normalization), ref, m, t)


def test_style_cost_is_the_papers_eq_4_and_5_with_layer_weights():
    shapes = {"a": (1, 3, 6, 5), "b": (1, 8, 3, 2)}
    weights = {"a": 0.3, "b": 1.7}
    style = {k: RNG.standard_normal(s) for k, s in shapes.items()}
    pairs = {k: _pair(RNG.standard_normal(s)) for k, s in shapes.items()}
    targets = {k: gram_matrix(minidl.from_numpy(v)) for k, v in style.items()}
    ours = style_cost({k: p[0] for k, p in pairs.items()}, targets, weights)
    theirs = 0
    for k, (_, t) in pairs.items():
        n, m = shapes[k][1], shapes[k][2] * shapes[k][3]
        a = _torch_gram(torch.from_numpy(style[k]))
        theirs = theirs + weights[k] * ((_torch_gram(t) - a) ** 2).sum() / (4 * n**2 * m**2)
    ours.backward()
    theirs.backward()
    np.testing.assert_allclose(ours.item(), theirs.item(), rtol=1e-9)
    for m_leaf, t_leaf in pairs.values():
        np.testing.assert_allclose(m_leaf.grad.numpy(), t_leaf.grad.numpy(), rtol=1e-9)
    with pytest.raises(ValueError, match="differ in shape"):
        style_layer_cost(pairs["a"][0], targets["b"])


@pytest.mark.parametrize("kind", ["squared", "absolute"])
def test_total_variation_sums_neighbour_differences(kind):
    m, t = _pair(RNG.random((2, 3, 5, 7)))
    dh, dw = t[:, :, 1:] - t[:, :, :-1], t[..., 1:] - t[..., :-1]
    ref = ((dh**2).sum() + (dw**2).sum() if kind == "squared"
           else dh.abs().sum() + dw.abs().sum())
    _check(total_variation(m, kind), ref, m, t)
    with pytest.raises(ValueError, match="kind"):
        total_variation(m, "cubic")


def _torch_normalize(x):
    mean = torch.tensor(IMAGENET_MEAN, dtype=x.dtype).reshape(1, 3, 1, 1)
    std = torch.tensor(IMAGENET_STD, dtype=x.dtype).reshape(1, 3, 1, 1)
    return (x - mean) / std


def test_total_cost_of_the_random_network_matches_torch():
    """alpha L_c + beta L_s + gamma TV through RandomMultiScaleFeatures, rebuilt in torch
    from its filters; float64; values and gradients with respect to the image."""
    net = RandomMultiScaleFeatures(levels=3, channels=8, kernel_size=5, seed=1).double()
    filters = [torch.from_numpy(c.weight.detach().numpy()) for c in net.convs]
    for w in filters:  # zero-mean, unit-norm filters
        np.testing.assert_allclose(w.sum(dim=(1, 2, 3)).numpy(), 0, atol=1e-6)
        np.testing.assert_allclose(w.pow(2).sum(dim=(1, 2, 3)).numpy(), 1, rtol=1e-6)

    def torch_features(img):
        """Level s: the image blurred by a 2^s box, filters dilated by 2^s."""
        x, out = _torch_normalize(img), {}
        for s, w in enumerate(filters):
            if s:
                x = TF.avg_pool2d(_torch_normalize(img), 2**s, stride=1)
            out[f"scale{s}"] = TF.relu(TF.conv2d(x, w, padding=2 * 2**s, dilation=2**s))
        return out

    content, style = RNG.random((1, 3, 16, 12)), RNG.random((1, 3, 12, 16))
    layers = {"scale0": 0.5, "scale1": 0.3, "scale2": 0.2}
    loss = StyleTransferLoss(net, minidl.from_numpy(content), minidl.from_numpy(style),
                             "scale1", layers, content_weight=0.7, style_weight=1e3,
                             tv_weight=0.1)
    m, t = _pair(RNG.random((1, 3, 16, 12)))
    total, parts = loss(m)
    with torch.no_grad():
        p = torch_features(torch.from_numpy(content))["scale1"]
        grams = {k: _torch_gram(v) for k, v in torch_features(torch.from_numpy(style)).items()}
    f = torch_features(t)
    lc = ((f["scale1"] - p) ** 2).sum() / 2
    ls = sum(w * ((_torch_gram(f[k]) - grams[k]) ** 2).sum()
             / (4 * f[k].shape[1] ** 2 * (f[k].shape[2] * f[k].shape[3]) ** 2)
             for k, w in layers.items())
    tv = ((t[:, :, 1:] - t[:, :, :-1]) ** 2).sum() + ((t[..., 1:] - t[..., :-1]) ** 2).sum()
    for name, ref in (("content", lc), ("style", ls), ("tv", tv)):
        np.testing.assert_allclose(parts[name].item(), ref.item(), rtol=1e-9, err_msg=name)
    _check(total, 0.7 * lc + 1e3 * ls + 0.1 * tv, m, t)
    with pytest.raises(ValueError, match="no layer"):
        StyleTransferLoss(net, minidl.from_numpy(content), minidl.from_numpy(style),
                          "conv4_2", layers)


def test_vgg19_layer_indices_are_torchvisions():
    expected = {"conv1_1": 0, "conv2_1": 5, "conv3_1": 10, "conv4_1": 19, "conv4_2": 21,
                "conv5_1": 28, "conv5_4": 34}
    assert {k: VGG19_LAYERS[k] for k in expected} == expected
    assert len(VGG19_LAYERS) == 16


def _torch_vgg19_features():
    layers, c = [], 3
    for v in VGG19_CFG:
        if v == "M":
            layers.append(torch.nn.MaxPool2d(2, 2))
        else:
            layers += [torch.nn.Conv2d(c, v, 3, padding=1), torch.nn.ReLU(inplace=True)]
            c = v
    return torch.nn.Sequential(*layers)


@pytest.fixture(scope="module")
def vgg_files(tmp_path_factory):
    """A randomly initialised torch VGG-19's state_dict as torchvision names it, written by
    torch.save (.pth) and as .safetensors, and the same with a grey first convolution."""
    torch.manual_seed(0)
    features = _torch_vgg19_features().eval()
    state = {f"features.{k}": v for k, v in features.state_dict().items()}
    state["classifier.0.weight"] = torch.zeros(4, 3)  # ignored
    folder = tmp_path_factory.mktemp("vgg")
    paths = {name: str(folder / name) for name in ("vgg19.pth", "vgg19.safetensors",
                                                   "grey.pth")}
    torch.save(state, paths["vgg19.pth"])
    import safetensors.torch
    safetensors.torch.save_file(state, paths["vgg19.safetensors"])
    torch.save({**state, "features.0.weight": torch.zeros(64, 1, 3, 3)}, paths["grey.pth"])
    return features, paths


@pytest.fixture(scope="module")
def loaded_vgg(vgg_files):
    return load_vgg19_features(vgg_files[1]["vgg19.pth"])


def test_vgg_features_from_a_torch_saved_state_dict_equal_torchs(vgg_files, loaded_vgg):
    features, paths = vgg_files
    layers = ["conv1_1", "conv2_1", "conv3_1", "conv4_1", "conv4_2", "conv5_1"]
    image = RNG.random((1, 3, 32, 32)).astype(np.float32)
    for pooling in ("max", "avg"):
        ref_net = torch.nn.Sequential(*[torch.nn.AvgPool2d(2, 2) if pooling == "avg" and
                                        isinstance(m, torch.nn.MaxPool2d) else m
                                        for m in features])
        refs, x = {}, _torch_normalize(torch.from_numpy(image))
        with torch.no_grad():
            for i, module in enumerate(ref_net):
                x = module(x)
                refs[i] = x.clone()
        net = VGGFeatures(loaded_vgg, layers, pooling=pooling)
        assert len(net.features) == VGG19_LAYERS["conv5_1"] + 2  # nothing deeper is run
        with minidl.no_grad():
            out = net(minidl.from_numpy(image))
        assert list(out) == layers
        for name in layers:
            np.testing.assert_allclose(out[name].numpy(), refs[VGG19_LAYERS[name] + 1].numpy(),
                                       rtol=1e-4, atol=1e-5, err_msg=f"{pooling} {name}")


def test_a_safetensors_file_loads_the_same_weights(vgg_files, loaded_vgg):
    from_safetensors = load_vgg19_features(vgg_files[1]["vgg19.safetensors"]).state_dict()
    for key, value in loaded_vgg.state_dict().items():
        np.testing.assert_array_equal(from_safetensors[key].numpy(), value.numpy(), err_msg=key)


def test_weights_that_are_not_vgg19_are_refused(vgg_files, tmp_path):
    _, paths = vgg_files
    with pytest.raises(ValueError, match=r"features\.0\.weight has shape \(64, 1, 3, 3\)"):
        load_vgg19_features(paths["grey.pth"])
    vgg16_start = str(tmp_path / "vgg16.pth")  # VGG-16 has a pool where VGG-19 has conv3_4
    torch.save({"features.0.weight": torch.zeros(64, 3, 3, 3), "features.16.weight":
                torch.zeros(2)}, vgg16_start)
    with pytest.raises(ValueError, match=r"not a VGG-19 state_dict.*missing \['features.0.bias"):
        load_vgg19_features(vgg16_start)
    a_list = str(tmp_path / "list.pth")
    torch.save([torch.zeros(2)], a_list)
    with pytest.raises(ValueError, match="does not hold a state_dict"):
        load_vgg19_features(a_list)
    junk = tmp_path / "junk.pth"
    junk.write_bytes(b"not a weights file")
    with pytest.raises(ValueError, match="cannot read the weights file"):
        load_vgg19_features(str(junk))
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_vgg19_features(str(tmp_path / "missing.pth"))
    with pytest.raises(ValueError, match="unknown VGG-19 layer"):
        VGGFeatures(minidl.nn.Sequential(), ["conv6_1"])


def test_the_command_runs_on_a_torch_written_vgg19_file(vgg_files, tmp_path, capsys):
    for name in ("content.png", "style.png"):
        Image.fromarray((RNG.random((32, 32, 3)) * 255).astype(np.uint8)).save(tmp_path / name)
    out = str(tmp_path / "vgg.png")
    assert cli.main(["style", str(tmp_path / "content.png"), str(tmp_path / "style.png"),
                     "--weights", vgg_files[1]["vgg19.pth"], "--pooling", "avg", "--size",
                     "32", "--steps", "2", "--optimizer", "adam", "--out", out,
                     "--no-progress"]) == 0
    printed = capsys.readouterr().out
    assert "features: VGG-19 (avg-pooling), layers conv1_1, conv2_1, conv3_1, conv4_1, " \
           "conv4_2, conv5_1, weights" in printed
    assert os.path.getsize(out) > 0 and os.path.getsize(out[:-4] + "_side_by_side.png") > 0
