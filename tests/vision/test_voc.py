"""VOCDetection / VOCSegmentation on small VOC folders written here: torchvision's XML
parsing rule, PIL return types, the transform arguments, voc_target_to_boxes, errors."""
import re

import numpy as np
import pytest
from PIL import Image

import minidl
from minidl.vision.datasets import VOC_CLASSES, VOCDetection, VOCSegmentation, voc_target_to_boxes

TWO_OBJECTS = """<annotation>
  <folder>VOC2012</folder>
  <filename>a.jpg</filename>
  <source><database>The VOC2012 Database</database></source>
  <size><width>10</width><height>8</height><depth>3</depth></size>
  <segmented>1</segmented>
  <object>
    <name>person</name><pose>Frontal</pose><truncated>1</truncated><difficult>0</difficult>
    <bndbox><xmin>1</xmin><ymin>2</ymin><xmax>6</xmax><ymax>8</ymax></bndbox>
    <part><name>head</name><bndbox><xmin>2</xmin><ymin>2</ymin><xmax>4</xmax><ymax>3</ymax>
    </bndbox></part>
    <part><name>hand</name><bndbox><xmin>1</xmin><ymin>5</ymin><xmax>2</xmax><ymax>6</ymax>
    </bndbox></part>
    <occluded/>
    <note kind="x">  </note>
  </object>
  <object>
    <name>dog</name><difficult>1</difficult>
    <bndbox><xmin>5.5</xmin><ymin>1</ymin><xmax>10</xmax><ymax>4</ymax></bndbox>
  </object>
</annotation>"""

ONE_OBJECT = """<annotation><filename>b.jpg</filename><segmented>0</segmented>
<object><name>cat</name><difficult>0</difficult>
<bndbox><xmin>3</xmin><ymin>1</ymin><xmax>7</xmax><ymax>5</ymax></bndbox></object>
<size><width>8</width><height>6</height></size></annotation>"""

NO_OBJECT = "<annotation><filename>c.jpg</filename></annotation>"

BNDBOX = {"xmin": "1", "ymin": "2", "xmax": "6", "ymax": "8"}
EXPECTED_A = {"annotation": {
    "folder": "VOC2012", "filename": "a.jpg",
    "source": {"database": "The VOC2012 Database"},
    "size": {"width": "10", "height": "8", "depth": "3"}, "segmented": "1",
    "object": [
        {"name": "person", "pose": "Frontal", "truncated": "1", "difficult": "0",
         "bndbox": BNDBOX,
         "part": [{"name": "head", "bndbox": {"xmin": "2", "ymin": "2", "xmax": "4",
                                              "ymax": "3"}},
                  {"name": "hand", "bndbox": {"xmin": "1", "ymin": "5", "xmax": "2",
                                              "ymax": "6"}}],
         "note": ""},
        {"name": "dog", "difficult": "1",
         "bndbox": {"xmin": "5.5", "ymin": "1", "xmax": "10", "ymax": "4"}}]}}
EXPECTED_B = {"annotation": {
    "filename": "b.jpg", "segmented": "0",
    "object": [{"name": "cat", "difficult": "0",
                "bndbox": {"xmin": "3", "ymin": "1", "xmax": "7", "ymax": "5"}}],
    "size": {"width": "8", "height": "6"}}}
EXPECTED_C = {"annotation": {"filename": "c.jpg", "object": []}}


@pytest.fixture
def voc_root(tmp_path):
    base = tmp_path / "VOCdevkit" / "VOC2012"
    for sub in ("JPEGImages", "Annotations", "SegmentationClass", "ImageSets/Main",
                "ImageSets/Segmentation"):
        (base / sub).mkdir(parents=True)
    rng = np.random.default_rng(0)
    for name, (w, h) in {"a": (10, 8), "b": (8, 6), "c": (5, 5)}.items():
        pixels = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(base / "JPEGImages" / f"{name}.jpg")
    for name, xml in {"a": TWO_OBJECTS, "b": ONE_OBJECT, "c": NO_OBJECT}.items():
        (base / "Annotations" / f"{name}.xml").write_text(xml)
    classes = np.zeros((8, 10), np.uint8)
    classes[2:8, 1:6], classes[1:4, 6:10], classes[0, :] = 15, 12, 255
    mask = Image.fromarray(classes, mode="P")
    mask.putpalette([v for i in range(256) for v in (i, 255 - i, i // 2)])
    mask.save(base / "SegmentationClass" / "a.png")
    (base / "ImageSets" / "Main" / "train.txt").write_text("a\nb\nc\n")
    (base / "ImageSets" / "Segmentation" / "train.txt").write_text("a\n")
    return tmp_path, classes


def test_detection_targets_parse_like_torchvision(voc_root):
    root, _ = voc_root
    data = VOCDetection(str(root), year="2012", image_set="train")
    assert len(data) == 3 and data.annotations[1].endswith("b.xml")
    img, target = data[0]
    assert isinstance(img, Image.Image) and img.mode == "RGB" and img.size == (10, 8)
    assert target == EXPECTED_A
    assert data[1][1] == EXPECTED_B  # a single object still gives a list
    assert data[2][1] == EXPECTED_C


def test_segmentation_target_is_the_palette_png(voc_root):
    root, classes = voc_root
    data = VOCSegmentation(root, image_set="train")
    assert len(data) == 1 and data.masks[0].endswith("a.png")
    img, target = data[0]
    assert img.mode == "RGB" and img.size == (10, 8)
    assert isinstance(target, Image.Image) and target.mode == "P"
    np.testing.assert_array_equal(np.asarray(target), classes)
    assert target.getpalette()[3 * 15:3 * 16] == [15, 240, 7]


def test_transform_arguments(voc_root):
    root, _ = voc_root
    data = VOCDetection(root, transform=lambda im: im.size,
                        target_transform=lambda t: t["annotation"]["filename"])
    assert data[1] == ((8, 6), "b.jpg")
    only_target = VOCSegmentation(root, target_transform=lambda t: np.asarray(t).max())
    img, top = only_target[0]
    assert isinstance(img, Image.Image) and top == 255
    joint = VOCDetection(root, transforms=lambda im, t: (im.size, len(t["annotation"]["object"])))
    assert [joint[i] for i in range(3)] == [((10, 8), 2), ((8, 6), 1), ((5, 5), 0)]
    with pytest.raises(ValueError, match="Only transforms or transform/target_transform"):
        VOCDetection(root, transforms=lambda im, t: (im, t), transform=lambda im: im)


def test_voc_target_to_boxes(voc_root):
    root, _ = voc_root
    data = VOCDetection(root)
    boxes, labels = voc_target_to_boxes(data[0][1])
    assert boxes.dtype == minidl.float32 and labels.dtype == minidl.int64
    np.testing.assert_array_equal(boxes.numpy(), [[1, 2, 6, 8], [5.5, 1, 10, 4]])
    np.testing.assert_array_equal(labels.numpy(), [VOC_CLASSES.index("person"),
                                                   VOC_CLASSES.index("dog")])
    boxes, labels = voc_target_to_boxes(data[0][1], classes=("__background__",) + VOC_CLASSES,
                                        skip_difficult=True)
    np.testing.assert_array_equal(boxes.numpy(), [[1, 2, 6, 8]])
    np.testing.assert_array_equal(labels.numpy(), [15])
    boxes, labels = voc_target_to_boxes(data[2][1])
    assert tuple(boxes.shape) == (0, 4) and tuple(labels.shape) == (0,)
    with pytest.raises(ValueError, match="'cat' is not in classes"):
        voc_target_to_boxes(data[1][1], classes=("dog",))
    with pytest.raises(ValueError, match="VOCDetection target"):
        voc_target_to_boxes({"boxes": []})


def test_errors_name_the_problem(voc_root):
    root, _ = voc_root
    with pytest.raises(RuntimeError, match="download=True is not supported"):
        VOCDetection(root, download=True)
    with pytest.raises(RuntimeError, match="VOC2011"):
        VOCDetection(root, year="2011")
    missing = str(root / "VOCdevkit" / "VOC2012" / "ImageSets" / "Main" / "val.txt")
    with pytest.raises(FileNotFoundError, match=re.escape(missing)):
        VOCDetection(root, image_set="val")
    with pytest.raises(ValueError, match="Unknown value '2013' for argument year"):
        VOCSegmentation(root, year="2013")
    with pytest.raises(ValueError, match="Expected type str for argument year"):
        VOCSegmentation(root, year=2012)
    with pytest.raises(ValueError, match="argument image_set"):
        VOCDetection(root, image_set="test")
    with pytest.raises(RuntimeError, match="VOC2007"):  # 'test' is a 2007 image set
        VOCDetection(root, year="2007", image_set="test")
    (root / "VOCdevkit" / "VOC2012" / "JPEGImages" / "b.jpg").unlink()
    with pytest.raises(FileNotFoundError, match="b.jpg"):
        VOCDetection(root)[1]
