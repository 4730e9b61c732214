"""Pascal VOC read from a folder the user has (torchvision's ``VOCDetection`` /
``VOCSegmentation``; Everingham et al. 2010, "The PASCAL Visual Object Classes Challenge").

Layout under ``root`` (``2011``: ``root/TrainVal/VOCdevkit/VOC2011``)::

    root/VOCdevkit/VOC2012/JPEGImages/<id>.jpg
    root/VOCdevkit/VOC2012/Annotations/<id>.xml              detection targets
    root/VOCdevkit/VOC2012/SegmentationClass/<id>.png        segmentation targets ('P')
    root/VOCdevkit/VOC2012/ImageSets/Main/<image_set>.txt    ids, one a line (detection)
    root/VOCdevkit/VOC2012/ImageSets/Segmentation/<image_set>.txt

Items are ``(PIL RGB image, target)``: the annotation XML as nested dicts (``parse_voc_xml``)
or the class-index PNG as a PIL image. Nothing is downloaded: ``download=True`` raises.
``voc_target_to_boxes`` turns a detection target into training tensors.
"""
import collections
import os
import xml.etree.ElementTree as ElementTree

import numpy as np

from ...tensor import Tensor
from .vision import VisionDataset

try:
    from PIL import Image
except ImportError:  # pragma: no cover - Pillow is a dependency
    Image = None

__all__ = ["VOCDetection", "VOCSegmentation", "VOC_CLASSES", "voc_target_to_boxes"]

# the 20 VOC object classes in the challenge's (alphabetical) order
VOC_CLASSES = ("aeroplane", "bicycle", "bird", "boat", "bottle", "bus", "car", "cat", "chair",
               "cow", "diningtable", "dog", "horse", "motorbike", "person", "pottedplant",
               "sheep", "sofa", "train", "tvmonitor")

_YEARS = tuple(str(y) for y in range(2007, 2013))


def _check_str(value, arg, valid):
    if not isinstance(value, str):
        raise ValueError(f"Expected type str for argument {arg}, but got type {type(value)}.")
    if value not in valid:
        raise ValueError(f"Unknown value '{value}' for argument {arg}. Valid values are "
                         f"{{{', '.join(repr(v) for v in valid)}}}.")
    return value


class _VOCBase(VisionDataset):
    _SPLITS_DIR = _TARGET_DIR = _TARGET_FILE_EXT = None

    def __init__(self, root, year="2012", image_set="train", download=False, transform=None,
                 target_transform=None, transforms=None):
        super().__init__(root, transforms, transform, target_transform)
        self.year = _check_str(year, "year", _YEARS)
        sets = ("train", "trainval", "val") + (("test",) if year == "2007" else ())
        self.image_set = _check_str(image_set, "image_set", sets)
        if download:
            raise RuntimeError("download=True is not supported: minidl runs offline. Download "
                               "and extract the VOC tar files yourself and pass the folder "
                               "that holds VOCdevkit as root (download=False)")
        base = ("TrainVal", "VOCdevkit", "VOC2011") if year == "2011" else \
            ("VOCdevkit", f"VOC{year}")
        voc_root = os.path.join(self.root, *base)
        if not os.path.isdir(voc_root):
            raise RuntimeError(f"Dataset not found: no folder {voc_root}; pass as root the "
                               f"folder that holds {os.path.join(*base)}")
        split_file = os.path.join(voc_root, "ImageSets", self._SPLITS_DIR, image_set + ".txt")
        if not os.path.isfile(split_file):
            raise FileNotFoundError(f"image set file {split_file} not found (image_set="
                                    f"{image_set!r} of VOC{year})")
        with open(split_file) as f:
            ids = [line.strip() for line in f if line.strip()]
        self.images = [os.path.join(voc_root, "JPEGImages", x + ".jpg") for x in ids]
        self.targets = [os.path.join(voc_root, self._TARGET_DIR, x + self._TARGET_FILE_EXT)
                        for x in ids]

    def __len__(self):
        return len(self.images)

    def _load(self, index, load_target):
        for path in (self.images[index], self.targets[index]):
            if not os.path.isfile(path):
                raise FileNotFoundError(f"{path} (listed in ImageSets/{self._SPLITS_DIR}/"
                                        f"{self.image_set}.txt) not found")
        img = Image.open(self.images[index]).convert("RGB")
        target = load_target(self.targets[index])
        if self.transforms is not None:
            img, target = self.transforms(img, target)
        return img, target

    def extra_repr(self):
        return f"Year: {self.year}\nImage set: {self.image_set}"


class VOCSegmentation(_VOCBase):
    """VOC segmentation: ``(image, target)`` with the image a PIL RGB image and the target
    the ``SegmentationClass`` PNG as opened (a PIL 'P' image: class index per pixel, 0
    background, 255 the void border). ``transforms`` takes and returns both; ``transform``
    and ``target_transform`` (not together with ``transforms``) each take one."""

    _SPLITS_DIR = "Segmentation"
    _TARGET_DIR = "SegmentationClass"
    _TARGET_FILE_EXT = ".png"

    @property
    def masks(self):
        return self.targets

    def __getitem__(self, index):
        return self._load(index, Image.open)


class VOCDetection(_VOCBase):
    """VOC detection: ``(image, target)`` with the image a PIL RGB image and the target the
    annotation XML as nested dicts (``parse_voc_xml``). Transform arguments as for
    ``VOCSegmentation``."""

    _SPLITS_DIR = "Main"
    _TARGET_DIR = "Annotations"
    _TARGET_FILE_EXT = ".xml"

    @property
    def annotations(self):
        return self.targets

    def __getitem__(self, index):
        return self._load(index, lambda path: self.parse_voc_xml(
            ElementTree.parse(path).getroot()))

    @staticmethod
    def parse_voc_xml(node):
        """An XML element as ``{tag: value}`` (torchvision's rule): a leaf's value is its
        stripped text (leaves without text are dropped), an element's value is the dict of
        its children, a tag repeated among siblings gives the list of their values, and
        ``annotation['object']`` is always a list (empty when there is no object).
        Attributes are ignored."""
        children = list(node)
        if not children:
            return {node.tag: node.text.strip()} if node.text else {}
        grouped = collections.defaultdict(list)
        for child in children:
            for tag, value in VOCDetection.parse_voc_xml(child).items():
                grouped[tag].append(value)
        value = {tag: v[0] if len(v) == 1 else v for tag, v in grouped.items()}
        if node.tag == "annotation":
            value["object"] = grouped.get("object", [])
        return {node.tag: value}


def voc_target_to_boxes(target, classes=VOC_CLASSES, skip_difficult=False):
    """``(boxes, labels)`` of a ``VOCDetection`` target: float32 (K, 4) xyxy boxes as written
    in the XML (VOC's 1-based pixel coordinates) and int64 (K,) labels, the index of each
    object's ``name`` in ``classes`` (pass ``("__background__",) + VOC_CLASSES`` for
    detection models that keep 0 for the background). ``skip_difficult`` drops objects
    with ``difficult`` = '1'."""
    try:
        objects = target["annotation"]["object"]
    except (KeyError, TypeError):
        raise ValueError("target must be a VOCDetection target {'annotation': {'object': "
                         "[...], ...}}") from None
    index = {name: i for i, name in enumerate(classes)}
    boxes, labels = [], []
    for obj in objects if isinstance(objects, list) else [objects]:
        if skip_difficult and obj.get("difficult", "0") == "1":
            continue
        if obj.get("name") not in index:
            raise ValueError(f"object class {obj.get('name')!r} is not in classes")
        box = obj.get("bndbox", {})
        try:
            boxes.append([float(box[k]) for k in ("xmin", "ymin", "xmax", "ymax")])
        except (KeyError, TypeError, ValueError):
            raise ValueError(f"object {obj.get('name')!r} has no valid bndbox "
                             f"(xmin, ymin, xmax, ymax): {box!r}") from None
        labels.append(index[obj["name"]])
    return (Tensor(np.array(boxes, np.float32).reshape(-1, 4)),
            Tensor(np.array(labels, np.int64)))
