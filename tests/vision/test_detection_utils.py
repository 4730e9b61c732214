"""``minidl.vision.models.detection``'s anchors, box coder, matcher and sampler against torch
versions of torchvision's formulas written here (torchvision itself cannot be imported),
plus hand-computed values and the errors."""
import math

import numpy as np
import pytest
import torch

import minidl
from minidl.vision.models.detection import (
    AnchorGenerator,
    BalancedPositiveNegativeSampler,
    BoxCoder,
    ImageList,
    Matcher,
)
from tests.reference.harness import compare

# ---------------------------------------------------------------- torch references


def torch_cell_anchors(sizes, ratios, dtype=torch.float32):
    scales = torch.as_tensor(sizes, dtype=dtype)
    h_ratios = torch.sqrt(torch.as_tensor(ratios, dtype=dtype))
    ws = ((1 / h_ratios)[:, None] * scales[None, :]).reshape(-1)
    hs = (h_ratios[:, None] * scales[None, :]).reshape(-1)
    return (torch.stack([-ws, -hs, ws, hs], dim=1) / 2).round()


def torch_anchors(sizes, ratios, image_hw, grid_sizes, dtype=torch.float32):
    """All anchors of one image: per level, every location's shifted cell anchors."""
    levels = []
    for level_sizes, level_ratios, (gh, gw) in zip(sizes, ratios, grid_sizes):
        base = torch_cell_anchors(level_sizes, level_ratios, dtype)
        sx = torch.arange(gw, dtype=torch.int32) * (image_hw[1] // gw)
        sy = torch.arange(gh, dtype=torch.int32) * (image_hw[0] // gh)
        yy, xx = torch.meshgrid(sy, sx, indexing="ij")
        shifts = torch.stack([xx.reshape(-1), yy.reshape(-1)] * 2, dim=1)
        levels.append((shifts.view(-1, 1, 4) + base.view(1, -1, 4)).reshape(-1, 4))
    return torch.cat(levels)


def torch_encode(reference, proposals, weights):
    wx, wy, ww, wh = weights
    pw, ph = proposals[:, 2] - proposals[:, 0], proposals[:, 3] - proposals[:, 1]
    px, py = proposals[:, 0] + 0.5 * pw, proposals[:, 1] + 0.5 * ph
    gw, gh = reference[:, 2] - reference[:, 0], reference[:, 3] - reference[:, 1]
    gx, gy = reference[:, 0] + 0.5 * gw, reference[:, 1] + 0.5 * gh
    return torch.stack([wx * (gx - px) / pw, wy * (gy - py) / ph,
                        ww * torch.log(gw / pw), wh * torch.log(gh / ph)], dim=1)


def torch_decode(codes, boxes, weights, clip):
    wx, wy, ww, wh = weights
    w, h = (boxes[:, 2] - boxes[:, 0])[:, None], (boxes[:, 3] - boxes[:, 1])[:, None]
    cx, cy = boxes[:, 0:1] + 0.5 * w, boxes[:, 1:2] + 0.5 * h
    dx, dy = codes[:, 0::4] / wx, codes[:, 1::4] / wy
    dw = torch.clamp(codes[:, 2::4] / ww, max=clip)
    dh = torch.clamp(codes[:, 3::4] / wh, max=clip)
    x, y, pw, ph = dx * w + cx, dy * h + cy, torch.exp(dw) * w, torch.exp(dh) * h
    return torch.stack([x - pw / 2, y - ph / 2, x + pw / 2, y + ph / 2], dim=2).flatten(1)


def torch_match(quality, high, low, allow_low_quality):
    values, matches = quality.max(dim=0)
    best = matches.clone()
    matches[values < low] = -1
    matches[(values >= low) & (values < high)] = -2
    if allow_low_quality:
        per_gt = quality.max(dim=1).values
        preds = torch.where(quality == per_gt[:, None])[1]
        matches[preds] = best[preds]
    return matches


def random_boxes(rng, n):
    corner = rng.uniform(0, 50, (n, 2))
    return np.concatenate([corner, corner + rng.uniform(2, 30, (n, 2))], axis=1)


# ---------------------------------------------------------------- anchors


def test_default_cell_anchors_are_torchvisions_rounded_numbers():
    gen = AnchorGenerator()
    expected = [[-91, -45, 91, 45], [-181, -91, 181, 91], [-362, -181, 362, 181],
                [-64, -64, 64, 64], [-128, -128, 128, 128], [-256, -256, 256, 256],
                [-45, -91, 45, 91], [-91, -181, 91, 181], [-181, -362, 181, 362]]
    assert gen.cell_anchors[0].dtype == minidl.float32
    np.testing.assert_array_equal(gen.cell_anchors[0].numpy(), expected)
    assert gen.num_anchors_per_location() == [9]
    # round half to even, as torch.round: +-2.5 -> +-2
    np.testing.assert_array_equal(gen.generate_anchors([5], [1.0]).numpy(), [[-2, -2, 2, 2]])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_anchors_equal_the_torch_formulas_on_three_levels(dtype):
    sizes = ((16, 24), (32,), (48, 64, 96))
    ratios = ((0.5, 1.0, 2.0), (0.7, 1.3), (0.25, 1.0, 3.0))
    gen = AnchorGenerator(sizes, ratios)
    assert gen.num_anchors_per_location() == [6, 2, 9]
    images = ImageList(minidl.zeros(2, 3, 70, 100), [(70, 100), (64, 90)])
    grids = [(9, 13), (4, 7), (2, 3)]
    fmaps = [minidl.zeros(2, 4, h, w, dtype=getattr(minidl, dtype)) for h, w in grids]
    anchors = gen(images, fmaps)
    expected = torch_anchors(sizes, ratios, (70, 100), grids, getattr(torch, dtype))
    assert len(anchors) == 2
    for per_image in anchors:
        assert per_image.dtype == getattr(minidl, dtype)
        assert tuple(per_image.shape) == (9 * 13 * 6 + 4 * 7 * 2 + 2 * 3 * 9, 4)
        np.testing.assert_array_equal(per_image.numpy(), expected.numpy())


def test_anchor_order_is_location_major_with_integer_strides():
    gen = AnchorGenerator(sizes=(32, 64), aspect_ratios=(0.5, 1.0, 2.0))  # flat: one per map
    assert gen.sizes == ((32,), (64,)) and gen.num_anchors_per_location() == [3, 3]
    images = ImageList(minidl.zeros(1, 3, 64, 100), [(64, 100)])
    (anchors,) = gen(images, [minidl.zeros(1, 1, 2, 3), minidl.zeros(1, 1, 1, 1)])
    a = anchors.numpy()
    assert a.shape == (2 * 3 * 3 + 3, 4)
    # stride (64 // 2, 100 // 3) = (32, 33); row 1, column 2, ratio 1 (the middle anchor)
    np.testing.assert_array_equal(a[(1 * 3 + 2) * 3 + 1], [66 - 16, 32 - 16, 66 + 16, 32 + 16])
    # ratio 0.5 at row 0 column 1: w = 32 / sqrt(0.5) = 45.25 -> 23, h = 22.6 -> 11
    np.testing.assert_array_equal(a[1 * 3 + 0], [33 - 23, -11, 33 + 23, 11])
    np.testing.assert_array_equal(a[18:], [[-45, -23, 45, 23], [-32, -32, 32, 32],
                                           [-23, -45, 23, 45]])


def test_anchor_generator_refuses_mismatched_levels():
    with pytest.raises(ValueError, match="'sizes' has 2 levels but 'aspect_ratios' has 3"):
        AnchorGenerator(((16,), (32,)), ((1.0,), (1.0,), (2.0,)))
    gen = AnchorGenerator(((16,), (32,)), ((1.0,), (1.0,)))
    images = ImageList(minidl.zeros(1, 3, 32, 32), [(32, 32)])
    with pytest.raises(ValueError, match="1 feature maps .* for 2 levels"):
        gen(images, [minidl.zeros(1, 1, 4, 4)])
    with pytest.raises(TypeError, match="ImageList"):
        gen(minidl.zeros(1, 3, 32, 32), [minidl.zeros(1, 1, 4, 4)] * 2)
    with pytest.raises(ValueError, match="2 image_sizes for a batch of 1"):
        ImageList(minidl.zeros(1, 3, 8, 8), [(8, 8), (8, 8)])


# ---------------------------------------------------------------- box coder

WEIGHTS = (10.0, 10.0, 5.0, 5.0)


def test_box_coder_hand_values_and_round_trip():
    coder = BoxCoder((1.0, 1.0, 1.0, 1.0))
    proposals = minidl.tensor([[0.0, 0.0, 10.0, 10.0]])
    gt = minidl.tensor([[5.0, 5.0, 15.0, 25.0]])
    np.testing.assert_allclose(coder.encode_single(gt, proposals).numpy(),
                               [[0.5, 1.0, 0.0, math.log(2)]], rtol=1e-6)
    rng = np.random.default_rng(0)
    p, g = random_boxes(rng, 20), random_boxes(rng, 20)
    coder = BoxCoder(WEIGHTS)
    codes = coder.encode([minidl.tensor(g[:7]), minidl.tensor(g[7:])],
                         [minidl.tensor(p[:7]), minidl.tensor(p[7:])])
    assert [tuple(c.shape) for c in codes] == [(7, 4), (13, 4)]
    back = coder.decode(minidl.cat(list(codes)), [minidl.tensor(p[:7]), minidl.tensor(p[7:])])
    assert tuple(back.shape) == (20, 1, 4)
    np.testing.assert_allclose(back.numpy()[:, 0], g, rtol=1e-5, atol=1e-4)


def test_box_coder_equals_torch_with_gradients():
    rng = np.random.default_rng(1)
    p, g = random_boxes(rng, 12), random_boxes(rng, 12)
    coder = BoxCoder(WEIGHTS)
    compare(coder.encode_single, lambda r, q: torch_encode(r, q, WEIGHTS), [g, p],
            dtype="float64")
    codes = rng.normal(0, 3, (12, 8))
    codes[0, 2] = codes[1, 7] = 40.0  # dw, dh beyond bbox_xform_clip: clamped, zero gradient
    clip = math.log(1000.0 / 16)
    assert coder.bbox_xform_clip == clip
    compare(coder.decode_single, lambda c, b: torch_decode(c, b, WEIGHTS, clip), [codes, p],
            dtype="float64")
    m_codes = minidl.tensor(codes, requires_grad=True)
    out = coder.decode(m_codes, [minidl.tensor(p[:5]), minidl.tensor(p[5:])])
    assert tuple(out.shape) == (12, 2, 4)
    out.sum().backward()
    assert m_codes.grad.numpy()[0, 2] == 0 and m_codes.grad.numpy()[1, 7] == 0
    # a clamped width is the clip's: exp(clip / 1) times the proposal's width (ww = 5)
    wide = BoxCoder((1.0, 1.0, 1.0, 1.0)).decode_single(
        minidl.tensor([[0.0, 0.0, 100.0, 0.0]]), minidl.tensor([[0.0, 0.0, 2.0, 2.0]]))
    np.testing.assert_allclose(wide.numpy()[0, 2] - wide.numpy()[0, 0], 2 * 1000 / 16, rtol=1e-5)


def test_box_coder_errors():
    coder = BoxCoder(WEIGHTS)
    with pytest.raises(ValueError, match="4 numbers"):
        BoxCoder((1.0, 1.0))
    with pytest.raises(ValueError, match=r"'proposals' must have shape \(N, 4\)"):
        coder.encode_single(minidl.zeros(3, 4), minidl.zeros(3, 5))
    with pytest.raises(ValueError, match="3 reference_boxes but 2 proposals"):
        coder.encode_single(minidl.zeros(3, 4), minidl.zeros(2, 4))
    with pytest.raises(TypeError, match="list or tuple"):
        coder.decode(minidl.zeros(3, 4), minidl.zeros(3, 4))
    with pytest.raises(ValueError, match="do not split into 3 rows"):
        coder.decode(minidl.zeros(3, 5), [minidl.zeros(3, 4)])


# ---------------------------------------------------------------- matcher


def test_matcher_hand_case_thresholds_and_low_quality_ties():
    quality = minidl.tensor([[0.9, 0.1, 0.55, 0.1, 0.0],
                             [0.1, 0.4, 0.1, 0.4, 0.2],   # best 0.4: a tie of 1 and 3
                             [0.1, 0.1, 0.5, 0.1, 0.1]])  # best at 2, whose best gt is 0
    plain = Matcher(0.7, 0.3)(quality)
    assert plain.dtype == minidl.int64
    assert plain.tolist() == [0, -2, -2, -2, -1]
    assert Matcher(0.7, 0.3, allow_low_quality_matches=True)(quality).tolist() == [0, 1, 0, 1, -1]
    assert Matcher.BELOW_LOW_THRESHOLD == -1 and Matcher.BETWEEN_THRESHOLDS == -2
    # threshold edges: >= high matches, == low is between
    edges = minidl.tensor([[0.7, 0.3, 0.2999]])
    assert Matcher(0.7, 0.3)(edges).tolist() == [0, -2, -1]


@pytest.mark.parametrize("allow", [False, True])
def test_matcher_equals_torch_on_random_quantised_matrices(allow):
    rng = np.random.default_rng(2)
    for _ in range(20):
        q = rng.integers(0, 10, (rng.integers(1, 6), rng.integers(1, 30))) / 10  # many ties
        ours = Matcher(0.6, 0.3, allow)(minidl.tensor(q)).numpy()
        theirs = torch_match(torch.tensor(q), 0.6, 0.3, allow).numpy()
        np.testing.assert_array_equal(ours, theirs)


def test_matcher_errors():
    with pytest.raises(ValueError, match="low_threshold .* should be <= high_threshold"):
        Matcher(0.3, 0.7)
    with pytest.raises(ValueError, match="No ground-truth boxes available"):
        Matcher(0.7, 0.3)(minidl.zeros(0, 5))
    with pytest.raises(ValueError, match="No proposal boxes available"):
        Matcher(0.7, 0.3)(minidl.zeros(2, 0))
    with pytest.raises(ValueError, match="must be .M ground truths, N predictions."):
        Matcher(0.7, 0.3)(minidl.zeros(5))


# ---------------------------------------------------------------- sampler


def test_sampler_counts_membership_and_seeding():
    matched = minidl.tensor([-1, 0, 2, 0, 1, -1, 0, 3, 0, 0, 4, 0, 0, 1])
    labels = matched.numpy()
    sampler = BalancedPositiveNegativeSampler(8, 0.25)
    minidl.manual_seed(0)
    pos, neg = sampler([matched, matched[:5]])
    assert pos[0].dtype == minidl.uint8 and tuple(pos[0].shape) == (14,)
    p, n = pos[0].numpy().astype(bool), neg[0].numpy().astype(bool)
    assert p.sum() == 2 and n.sum() == 6
    assert np.all(labels[p] >= 1) and np.all(labels[n] == 0)
    # too few of each in the second image: all 2 positives, then 2 negatives
    assert pos[1].tolist() == [0, 0, 1, 0, 1] and neg[1].tolist() == [0, 1, 0, 1, 0]
    minidl.manual_seed(0)
    again = sampler([matched, matched[:5]])
    assert pos[0].tolist() == again[0][0].tolist() and neg[0].tolist() == again[1][0].tolist()
    picked = np.zeros(14, int)
    for _ in range(40):
        picked += sampler([matched])[0][0].numpy()
    assert np.all((picked > 0) == (labels >= 1))  # every positive gets drawn, nothing else


def test_sampler_errors():
    with pytest.raises(ValueError, match="'positive_fraction' must be in"):
        BalancedPositiveNegativeSampler(8, 1.5)
    with pytest.raises(ValueError, match="'batch_size_per_image' must be a non-negative"):
        BalancedPositiveNegativeSampler(-1, 0.5)
    with pytest.raises(ValueError, match="must be 1-D"):
        BalancedPositiveNegativeSampler(8, 0.5)([minidl.zeros(2, 3)])
