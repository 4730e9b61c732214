"""Convolutional sliding windows: the fully convolutional rewrite of a classifier scores every
window of a larger image as the classifier does on the crops."""
import numpy as np
import pytest

import minidl
import minidl.nn as nn
import minidl.nn.functional as F
from minidl.vision.datasets import load_bundled
from minidl.vision.models import LeNet5
from minidl.vision.sliding_windows import (
    blank_margin_windows,
    sliding_window_scores,
    to_fully_convolutional,
    total_stride,
)
from tests.test_examples import load

TOLERANCE = {minidl.float32: 1e-5, minidl.float64: 1e-10}


def conv_scores(model, input_size, image):
    convolutional = to_fully_convolutional(model, input_size)
    with minidl.no_grad():
        return convolutional(image.unsqueeze(0))[0].numpy()


def sparse_image(dtype, seed=0):
    """1 x 56 x 84, black but for three random 20 x 20 blobs, so that some windows have a
    black margin and others do not."""
    rng = np.random.default_rng(seed)
    image = np.zeros((1, 56, 84))
    for r, c in ((4, 4), (30, 34), (10, 60)):
        image[0, r:r + 20, c:c + 20] = rng.uniform(0, 1, (20, 20))
    return minidl.from_numpy(image).to(dtype)


def trained_lenet(image_size, steps=4):
    minidl.manual_seed(1)
    model = LeNet5(image_size=image_size)
    x, y = load_bundled("mnist-mini")
    x = x[:64].float().unsqueeze(1) / 255.0
    if image_size == 32:
        x = F.pad(x, (2, 2, 2, 2))
    optimizer = minidl.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    for _ in range(steps):
        optimizer.zero_grad()
        F.cross_entropy(model(x), y[:64]).backward()
        optimizer.step()
    return model


def test_lenet5_total_stride_is_four():
    assert total_stride(LeNet5()) == (4, 4)
    assert total_stride(nn.Sequential(nn.Conv2d(1, 2, 3, stride=(2, 1)), nn.MaxPool2d(3, 2))) \
        == (4, 2)


@pytest.mark.parametrize("dtype", [minidl.float32, minidl.float64])
@pytest.mark.parametrize("trained", [False, True])
def test_padding_free_lenet5_matches_every_crop(dtype, trained):
    """LeNet5(image_size=32) pads nowhere: its conv pass equals the crops on all windows."""
    minidl.manual_seed(0)
    model = (trained_lenet(32) if trained else LeNet5(image_size=32)).to(dtype)
    image = minidl.randn(1, 60, 88).to(dtype)
    got = conv_scores(model, (1, 32, 32), image)
    expected = sliding_window_scores(model, image, 32, total_stride(model)).numpy()
    assert got.shape == expected.shape == (10, 8, 15)
    np.testing.assert_allclose(got, expected, rtol=0, atol=TOLERANCE[dtype])


@pytest.mark.parametrize("dtype", [minidl.float32, minidl.float64])
@pytest.mark.parametrize("trained", [False, True])
def test_lenet5_matches_the_crops_whose_margin_is_black(dtype, trained):
    """LeNet5 pads its first conv by 2: exact where the window's 2-pixel ring is black."""
    minidl.manual_seed(0)
    model = (trained_lenet(28) if trained else LeNet5()).to(dtype)
    image = sparse_image(dtype)
    got = conv_scores(model, (1, 28, 28), image)
    expected = sliding_window_scores(model, image, 28, 4).numpy()
    assert got.shape == expected.shape == (10, 8, 15)
    blank = blank_margin_windows(image, 28, 4, margin=2)
    assert 5 <= blank.sum() < blank.size
    np.testing.assert_allclose(got[:, blank], expected[:, blank], rtol=0,
                               atol=TOLERANCE[dtype])
    assert np.abs(got[:, ~blank] - expected[:, ~blank]).max() > 50 * TOLERANCE[minidl.float32]


def test_blank_margin_windows():
    image = np.zeros((1, 8, 8))
    image[0, 0, 6] = image[0, 4, 0] = 1.0  # in the ring of windows (0, 1) and (0, 0) only
    blank = blank_margin_windows(image, 4, 2, margin=1)
    assert blank.tolist() == [[False, False, True], [True, True, True], [True, True, True]]


class FeaturesClassifier(nn.Module):
    """torchvision's layout: features -> avgpool -> flatten(x, 1) -> classifier."""

    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(2, 4, 3), nn.BatchNorm2d(4), nn.LeakyReLU(0.1),
                                      nn.AvgPool2d(2), nn.Dropout2d(0.3))
        self.avgpool = nn.AdaptiveAvgPool2d((3, 3))
        self.classifier = nn.Sequential(nn.Dropout(0.5), nn.Linear(4 * 3 * 3, 6),
                                        nn.BatchNorm1d(6), nn.Tanh(), nn.Linear(6, 3),
                                        nn.LogSoftmax(dim=1))

    def forward(self, x):
        return self.classifier(minidl.flatten(self.avgpool(self.features(x)), 1))


def test_features_classifier_layout_with_norms_and_dropout():
    minidl.manual_seed(0)
    model = FeaturesClassifier().double()
    with minidl.no_grad():  # non-trivial running statistics
        for bn in (model.features[1], model.classifier[2]):
            bn.running_mean.copy_(minidl.randn(bn.num_features, dtype=minidl.float64))
            bn.running_var.copy_(minidl.rand(bn.num_features, dtype=minidl.float64) + 0.5)
    state = {k: v.numpy().copy() for k, v in model.state_dict().items()}
    image = minidl.randn(2, 20, 17, dtype=minidl.float64)
    got = conv_scores(model, (2, 8, 8), image)
    expected = sliding_window_scores(model, image, 8, total_stride(model), batch_size=7).numpy()
    assert got.shape == expected.shape == (3, 7, 5)
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-10)
    assert model.training  # flags restored, weights unchanged
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(v.numpy(), state[k])


def test_a_flatten_inside_the_classifier():
    minidl.manual_seed(0)
    model = LeNet5().double()
    del model.flatten
    model.classifier = nn.Sequential(nn.Flatten(), *model.classifier)
    model.forward = lambda x: model.classifier(model.features(x))
    image = sparse_image(minidl.float64)
    blank = blank_margin_windows(image, 28, 4, margin=2)
    np.testing.assert_allclose(conv_scores(model, (1, 28, 28), image)[:, blank],
                               sliding_window_scores(model, image, 28, 4).numpy()[:, blank],
                               rtol=0, atol=1e-10)


def test_the_copy_is_independent_and_in_eval_mode():
    model = LeNet5()
    convolutional = to_fully_convolutional(model, (1, 28, 28))
    assert not convolutional.training
    assert isinstance(convolutional[6], nn.Conv2d) and convolutional[6].kernel_size == (5, 5)
    assert [tuple(m.weight.shape) for m in convolutional if isinstance(m, nn.Conv2d)][2:] == \
        [(120, 16, 5, 5), (84, 120, 1, 1), (10, 84, 1, 1)]
    before = model.classifier[0].weight.detach().numpy().copy()
    with minidl.no_grad():
        convolutional[6].weight.zero_()
        convolutional[0].weight.zero_()
    np.testing.assert_array_equal(model.classifier[0].weight.detach().numpy(), before)
    assert model.features[0].weight.abs().sum().item() > 0


def test_unsupported_layers_are_named():
    lstm = nn.Sequential(nn.Conv2d(1, 2, 3), nn.Flatten(), nn.LSTM(8, 4))
    with pytest.raises(TypeError, match=r"layer \[2\] \(LSTM\)"):
        to_fully_convolutional(lstm, (1, 4, 4))
    conv1d = nn.Sequential(nn.Conv1d(1, 2, 3), nn.Flatten(), nn.Linear(4, 2))
    with pytest.raises(TypeError, match=r"\[0\] \(Conv1d\).*before the flatten"):
        to_fully_convolutional(conv1d, (1, 4, 4))
    with pytest.raises(TypeError, match="no Flatten"):
        to_fully_convolutional(nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU()), (1, 4, 4))
    with pytest.raises(TypeError, match="no Linear"):
        to_fully_convolutional(nn.Sequential(nn.Conv2d(1, 2, 3), nn.Flatten()), (1, 4, 4))
    with pytest.raises(TypeError, match=r"\[1\] \(Flatten\) .*start_dim=2"):
        to_fully_convolutional(nn.Sequential(nn.Conv2d(1, 2, 3), nn.Flatten(2), nn.Linear(2, 2)),
                               (1, 4, 4))
    with pytest.raises(TypeError, match=r"\(Softmax\) .*dim=0"):
        to_fully_convolutional(nn.Sequential(nn.Flatten(), nn.Linear(16, 2), nn.Softmax(0)),
                               (1, 4, 4))
    with pytest.raises(TypeError, match=r"\(MaxPool2d\) is not supported with return_indices=True"):
        to_fully_convolutional(nn.Sequential(nn.MaxPool2d(2, return_indices=True), nn.Flatten(),
                                             nn.Linear(4, 2)), (1, 4, 4))
    with pytest.raises(TypeError, match=r"\(BatchNorm1d\) is not supported with track_running"):
        to_fully_convolutional(nn.Sequential(nn.Flatten(), nn.Linear(16, 2),
                                             nn.BatchNorm1d(2, track_running_stats=False)),
                               (1, 4, 4))
    with pytest.raises(TypeError, match="avgpool.*identity at input_size"):
        to_fully_convolutional(FeaturesClassifier(), (2, 12, 12))
    with pytest.raises(TypeError, match=r"children \['head'\]"):
        model = LeNet5()
        model.head = nn.ReLU()
        to_fully_convolutional(model, (1, 28, 28))
    with pytest.raises(TypeError, match="nn.Sequential or a model with 'features'"):
        to_fully_convolutional(nn.Linear(3, 2), (1, 4, 4))


def test_a_forward_not_in_the_supported_order_is_refused():
    class Doubled(LeNet5):
        def forward(self, x):
            return 2 * super().forward(x)
    with pytest.raises(TypeError, match="disagrees"):
        to_fully_convolutional(Doubled(), (1, 28, 28))


def test_window_not_matching_the_input_size():
    with pytest.raises(ValueError, match=r"input_size \(1, 32, 32\) gives 16 x 6 x 6 = 576 "
                                         r"features before classifier\[0\].*in_features=400"):
        to_fully_convolutional(LeNet5(), (1, 32, 32))
    with pytest.raises(ValueError, match="input_size must be"):
        to_fully_convolutional(LeNet5(), (28, 28))
    with pytest.raises(ValueError, match=r"does not take 1 x 32 x 32 windows: mat1 and mat2"):
        sliding_window_scores(LeNet5(), minidl.zeros(1, 56, 56), 32, 4)
    image = minidl.zeros(1, 20, 40)
    with pytest.raises(ValueError, match=r"window \(28, 28\) is larger than the image"):
        sliding_window_scores(LeNet5(), image, 28, 4)
    with pytest.raises(ValueError, match="stride must be a positive int"):
        sliding_window_scores(LeNet5(), minidl.zeros(1, 56, 56), 28, 0)
    with pytest.raises(ValueError, match=r"image must be a \(C, H, W\) Tensor"):
        sliding_window_scores(LeNet5(), minidl.zeros(1, 1, 56, 56), 28, 4)


def test_example_finds_the_placed_digits(tmp_path):
    result = load("sliding_windows.py").main(
        ["--epochs", "2", "--limit", "3000", "--repeats", "1", "--out", str(tmp_path)])
    assert (tmp_path / "sliding_windows.png").stat().st_size > 5000
    assert result["stride"] == (4, 4) and result["scores"].shape == (11, 8, 22)
    blank = result["blank_margin"]
    assert blank.sum() >= 10
    np.testing.assert_allclose(result["scores"][:, blank], result["reference"][:, blank],
                               atol=1e-4)
    assert sum(pred == label for (label, _, _), (pred, _) in
               zip(result["placed"], result["at_placed"])) >= 2
    assert sum(m is not None for m in result["matched"]) >= 2
    assert all(t > 0 for t in (result["conv_pass_s"], result["windows_batched_s"]))
