"""Data sets with torchvision's names (``minidl.vision.datasets``) and the bundled subsets."""
from . import folder  # noqa: F401 (torchvision.datasets.folder)
from .bundled import BUNDLED, Bundled, load_bundled  # noqa: F401
from .folder import DatasetFolder, ImageFolder  # noqa: F401
from .idx import read_idx  # noqa: F401
from .mnist import MNIST, FashionMNIST  # noqa: F401
from .moving_shapes import MovingShapes  # noqa: F401
from .photos import ImagePairs, PhotoPatches, Photos, load_photos  # noqa: F401
from .scenes import (  # noqa: F401
    SCENE_DATA,
    SCENE_SPLIT_SIZES,
    Scenes,
    open_scenes,
    source_pool,
)
from .vision import VisionDataset  # noqa: F401
from .voc import VOC_CLASSES, VOCDetection, VOCSegmentation, voc_target_to_boxes  # noqa: F401

__all__ = ["VisionDataset", "MNIST", "FashionMNIST", "Bundled", "load_bundled", "BUNDLED",
           "read_idx", "MovingShapes", "Scenes", "source_pool", "SCENE_DATA",
           "SCENE_SPLIT_SIZES", "open_scenes", "VOCDetection",
           "VOCSegmentation", "VOC_CLASSES", "voc_target_to_boxes", "DatasetFolder",
           "ImageFolder", "Photos", "PhotoPatches", "ImagePairs", "load_photos"]
