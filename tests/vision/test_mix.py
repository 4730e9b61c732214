"""``MixUp`` / ``CutMix`` (torchvision.transforms.v2 semantics) and ``Mosaic``.

References: the same Beta draw (NumPy's ``beta`` from a generator seeded alike) and the
formulas written out with ``np.roll``; the soft-label losses against torch's
``cross_entropy`` with probability targets; Mosaic by a hand-computed layout.
"""
import math

import numpy as np
import pytest
import torch

import minidl
from minidl.backend import rng
from minidl.vision.transforms import mix, v2

RNG = np.random.default_rng(0)


def _batch(n=4, c=3, h=6, w=8, k=5):
    x = RNG.random((n, c, h, w)).astype(np.float32)
    y = RNG.integers(0, k, n)
    return x, y


def _one_hot(y, k):
    return np.eye(k, dtype=np.float32)[y]


def test_mixup_mixes_with_the_batch_rolled_by_one():
    x, y = _batch()
    minidl.manual_seed(0)
    images, labels = v2.MixUp(alpha=0.4, num_classes=5)(minidl.tensor(x), minidl.tensor(y))
    minidl.manual_seed(0)
    lam = rng().beta(0.4, 0.4)
    np.testing.assert_allclose(images.numpy(), lam * x + (1 - lam) * np.roll(x, 1, 0),
                               rtol=1e-6)
    oh = _one_hot(y, 5)
    np.testing.assert_allclose(labels.numpy(), lam * oh + (1 - lam) * np.roll(oh, 1, 0),
                               rtol=1e-6)
    np.testing.assert_allclose(labels.numpy().sum(1), 1.0, rtol=1e-6)


def test_mixup_lambda_is_beta_distributed():
    minidl.manual_seed(1)
    t = mix.MixUp(alpha=2.0, num_classes=2)
    lams = []
    for _ in range(400):
        _, labels = t(minidl.ones(2, 1, 1, 1), minidl.tensor([0, 1]))
        lams.append(float(labels.numpy()[0, 0]))
    # Beta(2, 2): mean 1/2, variance 1/20
    assert abs(np.mean(lams) - 0.5) < 0.04 and abs(np.var(lams) - 0.05) < 0.015


def test_cutmix_box_and_corrected_lambda():
    x, y = _batch(h=10, w=12)
    t = mix.CutMix(alpha=1.0, num_classes=5)
    minidl.manual_seed(3)
    images, labels = t((minidl.tensor(x), minidl.tensor(y)))
    minidl.manual_seed(3)
    g = rng()
    lam = g.beta(1.0, 1.0)
    rx, ry = g.integers(0, 12), g.integers(0, 10)
    r = 0.5 * math.sqrt(1 - lam)
    x1, x2 = max(rx - int(r * 12), 0), min(rx + int(r * 12), 12)
    y1, y2 = max(ry - int(r * 10), 0), min(ry + int(r * 10), 10)
    ref = x.copy()
    ref[..., y1:y2, x1:x2] = np.roll(x, 1, 0)[..., y1:y2, x1:x2]
    np.testing.assert_array_equal(images.numpy(), ref)
    adjusted = 1 - (x2 - x1) * (y2 - y1) / 120
    oh = _one_hot(y, 5)
    np.testing.assert_allclose(labels.numpy(), adjusted * oh + (1 - adjusted) * np.roll(oh, 1, 0),
                               rtol=1e-6)


def test_cutmix_paste_by_hand():
    x = np.arange(2 * 1 * 3 * 4, dtype=np.float32).reshape(2, 1, 3, 4)
    out = mix.CutMix.paste(minidl.tensor(x), (1, 0, 3, 2)).numpy()
    ref = x.copy()
    ref[0, 0, 0:2, 1:3] = x[1, 0, 0:2, 1:3]
    ref[1, 0, 0:2, 1:3] = x[0, 0, 0:2, 1:3]
    np.testing.assert_array_equal(out, ref)


def test_probability_labels_pass_through_and_losses_accept_them():
    x, y = _batch()
    soft = _one_hot(y, 5) * 0.9 + 0.02
    minidl.manual_seed(5)
    _, mixed = mix.MixUp(num_classes=5)(minidl.tensor(x), minidl.tensor(soft))
    minidl.manual_seed(5)
    lam = rng().beta(1.0, 1.0)
    np.testing.assert_allclose(mixed.numpy(), lam * soft + (1 - lam) * np.roll(soft, 1, 0),
                               rtol=1e-6)
    logits = RNG.standard_normal((4, 5)).astype(np.float32)
    minidl.manual_seed(6)
    _, hard = mix.MixUp(num_classes=5)(minidl.tensor(x), minidl.tensor(y))
    minidl.manual_seed(6)
    lam = rng().beta(1.0, 1.0)
    loss = minidl.nn.CrossEntropyLoss()(minidl.tensor(logits), hard).item()
    ref = torch.nn.functional.cross_entropy(torch.from_numpy(logits),
                                            torch.from_numpy(hard.numpy())).item()
    split = lam * torch.nn.functional.cross_entropy(torch.from_numpy(logits),
                                                    torch.from_numpy(y)) + \
        (1 - lam) * torch.nn.functional.cross_entropy(torch.from_numpy(logits),
                                                      torch.from_numpy(np.roll(y, 1)))
    assert loss == pytest.approx(ref, rel=1e-5) and loss == pytest.approx(split.item(), rel=1e-5)


def test_mix_errors():
    x, y = minidl.rand(4, 3, 5, 5), minidl.tensor([0, 1, 2, 3])
    with pytest.raises(ValueError, match="num_classes must be passed"):
        mix.MixUp()(x, y)
    with pytest.raises(ValueError, match="batch size"):
        mix.CutMix(num_classes=4)(x[:3], y)
    with pytest.raises(ValueError, match="batched"):
        mix.MixUp(num_classes=4)(x[0], y)
    with pytest.raises(ValueError, match="must match num_classes"):
        mix.MixUp(num_classes=3)(x, minidl.rand(4, 4))
    with pytest.raises(ValueError, match="tensor"):
        mix.MixUp(num_classes=4)(x, [0, 1, 2, 3])
    with pytest.raises(ValueError, match="labels_getter"):
        mix.MixUp(num_classes=4, labels_getter=lambda s: s[1])
    with pytest.raises(ValueError, match="alpha"):
        mix.CutMix(alpha=0.0, num_classes=4)
    with pytest.raises(TypeError):
        mix.MixUp(1.0, 4)   # keyword-only, as in torchvision


# ----------------------------------------------------------------------------- Mosaic
def _constant(value, h, w, c=1):
    return minidl.tensor(np.full((c, h, w), value, np.float32))


def test_mosaic_layout_boxes_and_labels_by_hand():
    m = mix.Mosaic(8, center_range=(0.5, 0.5), fill=-1)
    images = [_constant(v, 6, 6) for v in (1, 2, 3, 4)]
    boxes = [minidl.tensor([[0.0, 0, 6, 6], [0, 0, 1, 1]]), minidl.tensor([[1.0, 1, 3, 5]]),
             minidl.tensor(np.zeros((0, 4), np.float32)), minidl.tensor([[1.0, 1, 3, 5]])]
    labels = [minidl.tensor([7, 8]), minidl.tensor([9]), minidl.tensor(np.zeros(0, np.int64)),
              minidl.tensor([10])]
    image, out_boxes, out_labels = m(images, boxes, labels)
    ref = np.empty((1, 8, 8), np.float32)
    ref[:, :4, :4], ref[:, :4, 4:], ref[:, 4:, :4], ref[:, 4:, 4:] = 1, 2, 3, 4
    np.testing.assert_array_equal(image.numpy(), ref)
    # image 0 is shown from (2, 2): its boxes move by -2 and the one in the cut part goes;
    # image 1 moves by (+4, -2); image 3 by (+4, +4), clipped at the output edge
    np.testing.assert_array_equal(out_boxes.numpy(), [[0, 0, 4, 4], [5, 0, 7, 3],
                                                      [5, 5, 7, 8]])
    np.testing.assert_array_equal(out_labels.numpy(), [7, 9, 10])
    assert out_boxes.dtype == minidl.float32 and out_labels.dtype == minidl.int64


def test_mosaic_small_images_leave_fill_and_centre_is_seeded():
    m = mix.Mosaic((10, 12), fill=0.5, generator=minidl.Generator().manual_seed(0))
    images = [_constant(v, 2, 3, c=3) for v in (1, 2, 3, 4)]
    boxes = [minidl.tensor([[0.0, 0, 3, 2]])] * 4
    labels = [minidl.tensor([k]) for k in range(4)]
    image, out_boxes, out_labels = m(images, boxes, labels)
    g = np.random.default_rng(0)
    yc, xc = int(g.integers(3, 8)), int(g.integers(3, 10))
    a = image.numpy()
    assert a[0, yc - 1, xc - 1] == 1 and a[0, yc - 1, xc] == 2
    assert a[0, yc, xc - 1] == 3 and a[0, yc, xc] == 4
    assert (a == 0.5).sum() == 3 * (120 - 4 * 6)
    np.testing.assert_array_equal(out_boxes.numpy(),
                                  [[xc - 3, yc - 2, xc, yc], [xc, yc - 2, xc + 3, yc],
                                   [xc - 3, yc, xc, yc + 2], [xc, yc, xc + 3, yc + 2]])
    np.testing.assert_array_equal(out_labels.numpy(), [0, 1, 2, 3])
    minidl.manual_seed(0)
    centres = {mix.Mosaic(20).get_params() for _ in range(200)}
    assert all(5 <= yc <= 15 and 5 <= xc <= 15 for yc, xc in centres) and len(centres) > 50


def test_mosaic_errors():
    with pytest.raises(ValueError, match="output_size"):
        mix.Mosaic((0, 4))
    with pytest.raises(ValueError, match="center_range"):
        mix.Mosaic(8, center_range=(0.8, 0.2))
    m = mix.Mosaic(8)
    img = _constant(1, 4, 4)
    with pytest.raises(ValueError, match="four"):
        m([img] * 3, [np.zeros((0, 4))] * 3, [np.zeros(0)] * 3)
    with pytest.raises(ValueError, match="channels"):
        m([img] * 3 + [_constant(1, 4, 4, c=3)], [np.zeros((0, 4))] * 4, [np.zeros(0)] * 4)
    with pytest.raises(ValueError, match="labels"):
        m([img] * 4, [np.zeros((1, 4))] * 4, [np.zeros(0)] * 4)
