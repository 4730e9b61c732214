"""Samples laid out one folder per class (torchvision's ``datasets.folder``)::

    root/alice/0001.png        class 'alice' -> 0
    root/alice/more/0002.jpg   (sub-folders of a class folder belong to it)
    root/bob/0001.png          class 'bob'   -> 1

``find_classes`` takes the sorted names of the folders directly under ``root`` as the
classes (index = rank); ``make_dataset`` walks each class folder (links followed, folders
and files in sorted order) and keeps the files that ``is_valid_file(path)`` accepts, or
whose lower-cased name ends with one of ``extensions``. A class without a single kept file
is an error unless ``allow_empty``. ``DatasetFolder`` returns ``(loader(path), class
index)``; ``ImageFolder`` is that with ``default_loader`` (Pillow, converted to RGB) and
``IMG_EXTENSIONS``.
"""
import os

from PIL import Image

from .vision import VisionDataset

__all__ = ["DatasetFolder", "ImageFolder", "IMG_EXTENSIONS", "default_loader", "pil_loader",
           "find_classes", "make_dataset", "has_file_allowed_extension", "is_image_file"]

IMG_EXTENSIONS = (".jpg", ".jpeg", ".png", ".ppm", ".bmp", ".pgm", ".tif", ".tiff", ".webp")


def has_file_allowed_extension(filename, extensions):
    """Whether the lower-cased ``filename`` ends with ``extensions`` (a string or several)."""
    ends = extensions if isinstance(extensions, str) else tuple(extensions)
    return filename.lower().endswith(ends)


def is_image_file(filename):
    """Whether ``filename`` ends with one of ``IMG_EXTENSIONS`` (any case)."""
    return has_file_allowed_extension(filename, IMG_EXTENSIONS)


def find_classes(directory):
    """``(classes, class_to_idx)``: the sorted sub-folder names of ``directory`` and their
    ranks. ``FileNotFoundError`` when it has no sub-folder."""
    classes = sorted(entry.name for entry in os.scandir(directory) if entry.is_dir())
    if not classes:
        raise FileNotFoundError(f"Couldn't find any class folder in {directory}.")
    return classes, {name: i for i, name in enumerate(classes)}


def make_dataset(directory, class_to_idx=None, extensions=None, is_valid_file=None,
                 allow_empty=False):
    """The ``(path, class_index)`` samples under ``directory`` (see the module docstring).

    Exactly one of ``extensions`` and ``is_valid_file`` must be given; ``class_to_idx``
    defaults to ``find_classes(directory)``.
    """
    directory = os.path.expanduser(os.fspath(directory))
    if class_to_idx is None:
        _, class_to_idx = find_classes(directory)
    elif not class_to_idx:
        raise ValueError("'class_to_index' must have at least one entry to collect any "
                         "samples.")
    if (extensions is None) == (is_valid_file is None):
        raise ValueError("Both extensions and is_valid_file cannot be None or not None at the "
                         "same time")
    if extensions is not None:
        def is_valid_file(path):
            return has_file_allowed_extension(path, extensions)
    samples, found = [], set()
    for name in sorted(class_to_idx):
        folder = os.path.join(directory, name)
        if not os.path.isdir(folder):
            continue
        for root, _, files in sorted(os.walk(folder, followlinks=True)):
            for file in sorted(files):
                path = os.path.join(root, file)
                if is_valid_file(path):
                    samples.append((path, class_to_idx[name]))
                    found.add(name)
    empty = set(class_to_idx) - found
    if empty and not allow_empty:
        msg = f"Found no valid file for the classes {', '.join(sorted(empty))}. "
        if extensions is not None:
            listed = extensions if isinstance(extensions, str) else ", ".join(extensions)
            msg += f"Supported extensions are: {listed}"
        raise FileNotFoundError(msg)
    return samples


class DatasetFolder(VisionDataset):
    """``(loader(path), class_index)`` for every file of ``root/<class>/...`` kept by
    ``extensions`` or ``is_valid_file`` (one of the two).

    Attributes: ``classes`` (sorted folder names), ``class_to_idx``, ``samples`` (the
    ``(path, class_index)`` list), ``targets`` (the class indices), ``loader``,
    ``extensions``. Subclasses may override ``find_classes`` / ``make_dataset``.
    """

    def __init__(self, root, loader, extensions=None, transform=None, target_transform=None,
                 is_valid_file=None, allow_empty=False):
        super().__init__(root, transform=transform, target_transform=target_transform)
        classes, class_to_idx = self.find_classes(self.root)
        samples = self.make_dataset(self.root, class_to_idx=class_to_idx, extensions=extensions,
                                    is_valid_file=is_valid_file, allow_empty=allow_empty)
        self.loader, self.extensions = loader, extensions
        self.classes, self.class_to_idx = classes, class_to_idx
        self.samples = samples
        self.targets = [target for _, target in samples]

    @staticmethod
    def make_dataset(directory, class_to_idx, extensions=None, is_valid_file=None,
                     allow_empty=False):
        """The module's ``make_dataset``, with ``class_to_idx`` required."""
        if class_to_idx is None:
            raise ValueError("The class_to_idx parameter cannot be None.")
        return make_dataset(directory, class_to_idx, extensions=extensions,
                            is_valid_file=is_valid_file, allow_empty=allow_empty)

    def find_classes(self, directory):
        """The module's ``find_classes``: ``(classes, class_to_idx)``."""
        return find_classes(directory)

    def __getitem__(self, index):
        path, target = self.samples[index]
        sample = self.loader(path)
        if self.transform is not None:
            sample = self.transform(sample)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return sample, target

    def __len__(self):
        return len(self.samples)


def pil_loader(path):
    """The image at ``path`` as an RGB ``PIL.Image`` (read fully, the file closed)."""
    with open(path, "rb") as f:
        img = Image.open(f)
        return img.convert("RGB")


def default_loader(path):
    """torchvision's default loader with its PIL backend: ``pil_loader``."""
    return pil_loader(path)


class ImageFolder(DatasetFolder):
    """``DatasetFolder`` of images: ``loader`` defaults to ``default_loader`` (RGB PIL
    images), the files kept are those with an ``IMG_EXTENSIONS`` ending unless
    ``is_valid_file`` decides. ``imgs`` is ``samples``."""

    def __init__(self, root, transform=None, target_transform=None, loader=default_loader,
                 is_valid_file=None, allow_empty=False):
        super().__init__(root, loader, IMG_EXTENSIONS if is_valid_file is None else None,
                         transform=transform, target_transform=target_transform,
                         is_valid_file=is_valid_file, allow_empty=allow_empty)
        self.imgs = self.samples
