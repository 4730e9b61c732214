"""The course's worked convolution and pooling examples, as exact tests, plus bad input."""
import numpy as np
import pytest

import minidl
import minidl.nn.functional as F

X = [[0., 1, 2], [3, 4, 5], [6, 7, 8]]
K = [[0., 1], [2, 3]]


def t(data, grad=False):
    return minidl.tensor(data, dtype=minidl.float64, requires_grad=grad)


def batch(rows):
    """A (1, 1, H, W) tensor from a nested list of rows."""
    return t([[rows]])


def equal(tensor, expected):
    np.testing.assert_array_equal(tensor.detach().numpy(), np.array(expected, dtype=float))


def test_cross_correlation_2d():
    equal(F.conv2d(batch(X), batch(K))[0, 0], [[19, 25], [37, 43]])


def test_cross_correlation_with_padding_and_stride():
    equal(F.conv2d(batch(X), batch(K), padding=1, stride=(3, 2))[0, 0], [[0, 8], [6, 8]])


def test_cross_correlation_gradients():
    x, k = t([[X]], grad=True), t([[K]], grad=True)
    F.conv2d(x, k).sum().backward()
    equal(k.grad[0, 0], [[8, 12], [20, 24]])               # sum of the input under each tap
    equal(x.grad[0, 0], [[0, 1, 1], [2, 6, 4], [2, 5, 3]])  # kernel taps covering each pixel


def test_edge_detection_kernel():
    x = np.ones((6, 8))
    x[:, 2:6] = 0
    y = F.conv2d(batch(x.tolist()), batch([[1., -1]]))[0, 0]
    expected = np.zeros((6, 7))
    expected[:, 1], expected[:, 5] = 1, -1
    equal(y, expected)


def test_multiple_input_and_output_channels():
    x = t([[X, [[1., 2, 3], [4, 5, 6], [7, 8, 9]]]])
    k = np.array([K, [[1., 2], [3, 4]]])
    equal(F.conv2d(x, t(k[None]))[0, 0], [[56, 72], [104, 120]])
    k3 = np.stack([k, k + 1, k + 2])
    equal(F.conv2d(x, t(k3))[0], [[[56, 72], [104, 120]], [[76, 100], [148, 172]],
                                  [[96, 128], [192, 224]]])


def test_one_by_one_convolution_is_a_matmul():
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal((3, 3, 3)), rng.standard_normal((2, 3, 1, 1))
    y = F.conv2d(t(x[None]), t(w))[0].numpy()
    np.testing.assert_allclose(y, (w[:, :, 0, 0] @ x.reshape(3, 9)).reshape(2, 3, 3), rtol=1e-12)


def test_max_pooling_2x2_stride_2():
    x = batch([[1., 5, 4, 3], [2, 6, 4, 0], [3, 1, 7, 9], [2, 8, 6, 5]])
    y, idx = F.max_pool2d(x, 2, stride=2, return_indices=True)
    equal(y[0, 0], [[6, 4], [8, 9]])
    assert idx[0, 0].tolist() == [[5, 2], [13, 11]]          # the first of the tied 4s


def test_max_and_average_pooling():
    equal(F.max_pool2d(batch(X), 2, stride=1)[0, 0], [[4, 5], [7, 8]])
    equal(F.avg_pool2d(batch(X), 2, stride=1)[0, 0], [[2, 3], [5, 6]])


def test_pooling_padding_stride_and_channels():
    x = t(np.arange(16.).reshape(1, 1, 4, 4))
    equal(F.max_pool2d(x, 3)[0, 0], [[10]])
    equal(F.max_pool2d(x, 3, padding=1, stride=2)[0, 0], [[5, 7], [13, 15]])
    equal(F.max_pool2d(x, (2, 3), stride=(2, 3), padding=(0, 1))[0, 0], [[5, 7], [13, 15]])
    two = t(np.concatenate([x.numpy(), x.numpy() + 1], axis=1))
    equal(F.max_pool2d(two, 3, padding=1, stride=2)[0], [[[5, 7], [13, 15]], [[6, 8], [14, 16]]])


def test_max_pool_gradient_goes_to_the_argmax():
    x = t([[[[1., 5, 4, 3], [2, 6, 4, 0], [3, 1, 7, 9], [2, 8, 6, 5]]]], grad=True)
    F.max_pool2d(x, 2).sum().backward()
    equal(x.grad[0, 0], [[0, 0, 1, 0], [0, 1, 0, 0], [0, 0, 0, 1], [0, 1, 0, 0]])


def test_global_average_pooling():
    equal(F.adaptive_avg_pool2d(batch(X), 1)[0, 0], [[4]])


def test_channel_mismatch_message_names_shapes():
    with pytest.raises(RuntimeError, match=r"^Given groups=1, weight of size \[6, 3, 5, 5\], "
                       r"expected input\[2, 1, 28, 28\] to have 3 channels, but got 1 channels "
                       r"instead$"):
        F.conv2d(minidl.zeros(2, 1, 28, 28), minidl.zeros(6, 3, 5, 5))


@pytest.mark.parametrize("call, match", [
    (lambda: F.conv2d(minidl.zeros(1, 1, 3, 3), minidl.zeros(1, 1, 4, 4)),
     r"Kernel size: \(4 x 4\). Kernel size can't be greater than actual input size"),
    (lambda: F.conv2d(minidl.zeros(1, 1, 3, 3), minidl.zeros(1, 1, 2, 2), padding="half"),
     r"Invalid padding string: 'half'"),
    (lambda: F.conv1d(minidl.zeros(1, 1, 9), minidl.zeros(1, 1, 3), padding="same", stride=2),
     r"padding='same' is not supported for strided convolutions"),
    (lambda: F.max_pool2d(minidl.zeros(1, 1, 4, 4), 2, padding=2),
     r"pad should be at most half of effective kernel size, but got pad=2, kernel_size=2"),
    (lambda: F.avg_pool1d(minidl.zeros(1, 1, 4), 3, padding=2),
     r"pad should be at most half of effective kernel size"),
])
def test_bad_input_messages(call, match):
    with pytest.raises(RuntimeError, match=match):
        call()
