"""draw_bounding_boxes / draw_segmentation_masks: exact pixels as torchvision 0.28 draws them."""
import warnings

import numpy as np
import pytest

import minidl
from minidl.vision.utils import draw_bounding_boxes, draw_segmentation_masks


def _t(a):
    return minidl.from_numpy(np.asarray(a))


def _ring(h, w, x1, y1, x2, y2, width):
    """Pixels of a box outline (corners inclusive) drawn ``width`` pixels inwards."""
    ys, xs = np.mgrid[:h, :w]
    inside = (xs >= x1) & (xs <= x2) & (ys >= y1) & (ys <= y2)
    core = (xs >= x1 + width) & (xs <= x2 - width) & (ys >= y1 + width) & (ys <= y2 - width)
    return inside & ~core, core


@pytest.mark.parametrize("width", [1, 3])
def test_box_outline_pixels(width):
    image = np.zeros((3, 12, 14), np.uint8)
    out = draw_bounding_boxes(_t(image), _t([[1.7, 1, 11, 10]]), colors="red", width=width)
    assert out.dtype == minidl.uint8 and out.shape == (3, 12, 14)
    ring, _ = _ring(12, 14, 1, 1, 11, 10, width)  # 1.7 is truncated to 1
    expected = np.zeros_like(image)
    expected[0][ring] = 255
    np.testing.assert_array_equal(out.numpy(), expected)


def test_fill_blends_at_alpha_100():
    image = np.full((3, 10, 10), 200, np.uint8)
    out = draw_bounding_boxes(_t(image), _t([[1, 1, 8, 8]]), colors=(0, 255, 0), fill=True)
    ring, core = _ring(10, 10, 1, 1, 8, 8, 1)
    a = out.numpy()
    np.testing.assert_array_equal(a[:, ring], np.array([[0], [255], [0]]).repeat(ring.sum(), 1))
    # 200 + (c - 200) * 100 / 255 rounded: 122 for c = 0, 222 for c = 255
    np.testing.assert_array_equal(a[:, core], np.array([[122], [222], [122]]).repeat(core.sum(), 1))
    outside = ~(ring | core)
    assert (a[:, outside] == 200).all()


def test_grey_image_is_drawn_as_rgb():
    image = np.full((1, 6, 7), 50, np.uint8)
    out = draw_bounding_boxes(_t(image), _t([[0, 0, 3, 3]]), colors="#0000FF").numpy()
    assert out.shape == (3, 6, 7)
    ring, _ = _ring(6, 7, 0, 0, 3, 3, 1)
    np.testing.assert_array_equal(out[:, ring].T, np.tile([0, 0, 255], (ring.sum(), 1)))
    assert (out[:, ~ring] == 50).all()


def test_float_image_round_trip():
    image = np.full((3, 6, 6), 0.5, np.float32)
    image[:, 5] = 0.999
    out = draw_bounding_boxes(_t(image), _t([[1, 1, 4, 4]]), colors="white")
    assert out.dtype == minidl.float32
    ring, _ = _ring(6, 6, 1, 1, 4, 4, 1)
    a = out.numpy()
    np.testing.assert_array_equal(a[:, ring], 1.0)
    # 0.5 * 255.999 truncates to 127 and 0.999 * 255.999 to 255, back as v / 255
    rest = ~ring
    rest[5] = False
    np.testing.assert_array_equal(a[:, rest], np.float32(127) * np.float32(1 / 255))
    np.testing.assert_array_equal(a[:, 5], 1.0)


def test_several_boxes_take_list_colours_and_default_palette():
    image = np.zeros((3, 8, 20), np.uint8)
    boxes = _t([[0, 0, 4, 4], [6, 0, 10, 4], [12, 0, 16, 4]])
    out = draw_bounding_boxes(_t(image), boxes, colors=["red", (1, 2, 3), "#102030"]).numpy()
    assert tuple(out[:, 0, 0]) == (255, 0, 0)
    assert tuple(out[:, 0, 6]) == (1, 2, 3)
    assert tuple(out[:, 0, 12]) == (16, 32, 48)
    out = draw_bounding_boxes(_t(image), boxes).numpy()
    assert [tuple(out[:, 0, x]) for x in (0, 6, 12)] == [(0, 0, 0), (1, 127, 31), (2, 254, 62)]


def test_labels_use_label_colours_and_background():
    image = np.zeros((3, 30, 40), np.uint8)
    boxes = _t([[0, 0, 39, 29]])
    inner = (slice(None), slice(2, 28), slice(2, 38))
    plain = draw_bounding_boxes(_t(image), boxes, colors="red").numpy()
    assert not plain[inner].any()
    text = draw_bounding_boxes(_t(image), boxes, labels=["Ab"], colors="red",
                               label_colors="blue").numpy()[inner]
    drawn = text.any(axis=0)
    assert drawn.sum() > 10 and not text[:2].any()  # blue text only
    filled = draw_bounding_boxes(_t(image), boxes, labels=["Ab"], colors="red",
                                 fill_labels=True).numpy()[inner]
    red = (filled[0] == 255) & (filled[1] == 0) & (filled[2] == 0)
    assert red.sum() > 10 and (filled[1:] == 0).all()  # a red label box ...
    rows, cols = np.nonzero(red)
    box = filled[0, rows.min():rows.max() + 1, cols.min():cols.max() + 1]
    assert (box < 128).sum() > 10  # ... holding black text


def test_oriented_box_first_edge_dashed():
    image = np.zeros((3, 12, 16), np.uint8)
    corners = _t([[2, 2, 14, 2, 14, 9, 2, 9]])
    out = draw_bounding_boxes(_t(image), corners, colors="white").numpy()[0]
    np.testing.assert_array_equal(out[9, 2:15], 255)  # solid edges
    np.testing.assert_array_equal(out[2:10, 14], 255)
    np.testing.assert_array_equal(out[2:10, 2], 255)
    np.testing.assert_array_equal(out[2, 2:8], 255)  # dash, 5 px from x = 2
    assert not out[2, 8:12].any()  # gap
    assert not out[3:9, 3:14].any()


def test_box_errors_and_warnings():
    image = _t(np.zeros((3, 5, 5), np.uint8))
    box = _t([[0, 0, 2, 2]])
    with pytest.raises(TypeError, match="Tensor expected"):
        draw_bounding_boxes(np.zeros((3, 5, 5), np.uint8), box)
    with pytest.raises(ValueError, match="uint8 or float"):
        draw_bounding_boxes(_t(np.zeros((3, 5, 5), np.int32)), box)
    with pytest.raises(ValueError, match="not batches"):
        draw_bounding_boxes(_t(np.zeros((1, 3, 5, 5), np.uint8)), box)
    with pytest.raises(ValueError, match="grayscale and RGB"):
        draw_bounding_boxes(_t(np.zeros((2, 5, 5), np.uint8)), box)
    with pytest.raises(ValueError, match=r"\(N, 4\) or \(N, 8\)"):
        draw_bounding_boxes(image, _t([0, 0, 2, 2]))
    with pytest.raises(ValueError, match="xmin, ymin, xmax, ymax"):
        draw_bounding_boxes(image, _t([[3, 0, 2, 2]]))
    with pytest.raises(ValueError, match="xmin, ymin, xmax, ymax"):
        draw_bounding_boxes(image, _t([[0, 3, 2, 2]]))
    with pytest.raises(ValueError, match=r"boxes \(1\) and labels \(2\)"):
        draw_bounding_boxes(image, box, labels=["a", "b"])
    with pytest.raises(ValueError, match="equal or larger"):
        draw_bounding_boxes(image, _t([[0, 0, 2, 2], [0, 0, 1, 1]]), colors=["red"])
    with pytest.raises(ValueError, match="RGB triplet"):
        draw_bounding_boxes(image, box, colors=(1, 2))
    with pytest.raises(ValueError, match="tuple or a string"):
        draw_bounding_boxes(image, box, colors=7)
    with pytest.warns(UserWarning, match="No box was drawn"):
        assert draw_bounding_boxes(image, _t(np.zeros((0, 4)))) is image
    with pytest.warns(UserWarning, match="font_size"):
        draw_bounding_boxes(image, box, font_size=12)


def test_mask_blend_half_truncates():
    image = np.array([101, 0, 255], np.uint8).reshape(3, 1, 1).repeat(2, axis=2)
    mask = np.array([[True, False]])
    out = draw_segmentation_masks(_t(image), _t(mask), alpha=0.5, colors=(200, 51, 0)).numpy()
    # (101 + 200) / 2 = 150.5 -> 150, (0 + 51) / 2 = 25.5 -> 25, 255 / 2 -> 127
    np.testing.assert_array_equal(out[:, 0, 0], [150, 25, 127])
    np.testing.assert_array_equal(out[:, 0, 1], [101, 0, 255])


def test_mask_blend_default_alpha_and_overlap():
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (3, 5, 6), dtype=np.uint8)
    masks = np.zeros((2, 5, 6), bool)
    masks[0, :3] = True
    masks[1, 2:] = True
    colors = [(255, 0, 10), "lime"]
    out = draw_segmentation_masks(_t(image), _t(masks), colors=colors).numpy()
    drawn = image.copy()
    drawn[:, :2] = np.array([255, 0, 10])[:, None, None]
    drawn[:, 3:] = np.array([0, 255, 0])[:, None, None]
    drawn[:, 2] = 0  # both masks
    expected = (image.astype(np.float32) * np.float32(1 - 0.8)
                + drawn.astype(np.float32) * np.float32(0.8)).astype(np.uint8)
    np.testing.assert_array_equal(out, expected)


def test_mask_default_palette_and_float_image():
    image = np.zeros((3, 1, 4), np.float64)
    masks = np.eye(4, dtype=bool)[:, None, :]
    out = draw_segmentation_masks(_t(image), _t(masks), alpha=1.0)
    assert out.dtype == minidl.float64
    palette = np.array([(0, 0, 0), (1, 127, 31), (2, 254, 62), (3, 126, 93)]).T / 255
    np.testing.assert_array_equal(out.numpy()[:, 0], palette)
    grey = np.full((3, 2, 2), 0.25, np.float32)
    out = draw_segmentation_masks(_t(grey), _t(np.eye(2, dtype=bool)), alpha=0.5, colors="white")
    np.testing.assert_array_equal(out.numpy()[:, [0, 1], [0, 1]], 0.625)
    np.testing.assert_array_equal(out.numpy()[:, [0, 1], [1, 0]], 0.25)


def test_mask_errors_and_warnings():
    image = _t(np.zeros((3, 4, 4), np.uint8))
    mask = _t(np.ones((4, 4), bool))
    with pytest.raises(TypeError, match="Tensor expected"):
        draw_segmentation_masks(np.zeros((3, 4, 4), np.uint8), mask)
    with pytest.raises(ValueError, match="uint8 or float"):
        draw_segmentation_masks(_t(np.zeros((3, 4, 4), np.int64)), mask)
    with pytest.raises(ValueError, match="not batches"):
        draw_segmentation_masks(_t(np.zeros((1, 3, 4, 4), np.uint8)), mask)
    with pytest.raises(ValueError, match="RGB image"):
        draw_segmentation_masks(_t(np.zeros((1, 4, 4), np.uint8)), mask)
    with pytest.raises(ValueError, match=r"\(H, W\) or \(batch_size, H, W\)"):
        draw_segmentation_masks(image, _t(np.ones((1, 1, 4, 4), bool)))
    with pytest.raises(ValueError, match="dtype bool"):
        draw_segmentation_masks(image, _t(np.ones((4, 4), np.uint8)))
    with pytest.raises(ValueError, match="same height and width"):
        draw_segmentation_masks(image, _t(np.ones((4, 3), bool)))
    with pytest.raises(ValueError, match="equal or larger"):
        draw_segmentation_masks(image, _t(np.ones((2, 4, 4), bool)), colors=["red"])
    with pytest.warns(UserWarning, match="No mask was drawn"):
        assert draw_segmentation_masks(image, _t(np.zeros((0, 4, 4), bool))) is image
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        draw_segmentation_masks(image, mask)
