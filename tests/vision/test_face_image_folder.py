"""ImageFolder / DatasetFolder (torchvision.datasets.folder's semantics) on a small folder
written by the test: class order, extensions, is_valid_file, loaders, transforms, errors."""
import os

import numpy as np
import pytest
from PIL import Image

from minidl.vision import datasets
from minidl.vision.datasets import folder as F
from minidl.vision.transforms import ToTensor


def _image(path, value, mode="RGB", size=(5, 4)):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    shape = (size[1], size[0], 3) if mode == "RGB" else (size[1], size[0])
    Image.fromarray(np.full(shape, value, np.uint8), mode).save(path)


@pytest.fixture
def root(tmp_path):
    """bob/ (2 images, one in a sub-folder), alice/ (an upper-case extension, a text file),
    carol/ (only a .txt) and a stray file at the top."""
    r = tmp_path / "people"
    _image(str(r / "bob" / "b2.png"), 20)
    _image(str(r / "bob" / "deeper" / "b1.jpg"), 30)
    _image(str(r / "alice" / "a1.PNG"), 40, mode="L")
    _image(str(r / "alice" / "a0.bmp"), 50)
    (r / "alice" / "notes.txt").write_text("not an image")
    (r / "carol").mkdir()
    (r / "carol" / "readme.txt").write_text("nothing")
    (r / "top.png").write_bytes(b"")
    return str(r)


def test_image_folder_classes_samples_and_items(root):
    ds = datasets.ImageFolder(root, allow_empty=True)
    assert ds.classes == ["alice", "bob", "carol"]
    assert ds.class_to_idx == {"alice": 0, "bob": 1, "carol": 2}
    rel = [(os.path.relpath(p, root), t) for p, t in ds.samples]
    assert rel == [("alice/a0.bmp", 0), ("alice/a1.PNG", 0), ("bob/b2.png", 1),
                   ("bob/deeper/b1.jpg", 1)]
    assert ds.targets == [0, 0, 1, 1] and ds.imgs is ds.samples and len(ds) == 4
    img, target = ds[1]
    assert img.mode == "RGB" and img.size == (5, 4) and target == 0
    assert np.asarray(img)[0, 0].tolist() == [40, 40, 40]  # the grey image, converted
    assert ds.extensions == F.IMG_EXTENSIONS and "Root location" in repr(ds)


def test_a_class_without_images_is_an_error_unless_allowed(root):
    with pytest.raises(FileNotFoundError, match=r"no valid file for the classes carol\. "
                                                r"Supported extensions are: \.jpg, \.jpeg"):
        datasets.ImageFolder(root)


def test_transforms_loader_and_is_valid_file(root):
    seen = []

    def png(path):
        seen.append(path)
        return path.lower().endswith(".png")
    ds = datasets.ImageFolder(root, transform=ToTensor(), target_transform=lambda t: t + 10,
                              loader=lambda p: Image.open(p).convert("L"),
                              is_valid_file=png, allow_empty=True)
    assert ds.extensions is None and os.path.join(root, "alice", "notes.txt") in seen
    assert [os.path.basename(p) for p, _ in ds.samples] == ["a1.PNG", "b2.png"]
    x, t = ds[0]
    assert tuple(x.shape) == (1, 4, 5) and t == 10
    assert float(x.numpy()[0, 0, 0]) == pytest.approx(40 / 255)
    assert ds[1][1] == 11


def test_dataset_folder_with_extensions_and_its_argument_errors(root):
    ds = datasets.DatasetFolder(root, loader=os.path.getsize, extensions=".txt",
                                allow_empty=True)
    assert [(os.path.basename(p), t) for p, t in ds.samples] == [("notes.txt", 0),
                                                                ("readme.txt", 2)]
    assert ds[0][0] == len("not an image")
    with pytest.raises(FileNotFoundError, match="bob"):
        datasets.DatasetFolder(root, loader=os.path.getsize, extensions=(".txt",))
    with pytest.raises(ValueError, match="Both extensions and is_valid_file"):
        datasets.DatasetFolder(root, loader=os.path.getsize)
    with pytest.raises(ValueError, match="Both extensions and is_valid_file"):
        datasets.DatasetFolder(root, os.path.getsize, ".png", is_valid_file=bool)
    with pytest.raises(ValueError, match="class_to_idx parameter cannot be None"):
        datasets.DatasetFolder.make_dataset(root, None, extensions=".png")
    with pytest.raises(ValueError, match="at least one entry"):
        F.make_dataset(root, {}, extensions=".png")


def test_module_functions(root, tmp_path):
    assert F.find_classes(root) == (["alice", "bob", "carol"],
                                    {"alice": 0, "bob": 1, "carol": 2})
    assert len(F.make_dataset(root, {"bob": 0, "dave": 1}, extensions=F.IMG_EXTENSIONS,
                              allow_empty=True)) == 2
    assert F.has_file_allowed_extension("X.JpG", (".jpg",)) and \
        F.has_file_allowed_extension("a.tiff", ".tiff")
    assert F.is_image_file("face.webp") and not F.is_image_file("face.gif")
    assert F.default_loader(os.path.join(root, "bob", "b2.png")).mode == "RGB"
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(FileNotFoundError, match="Couldn't find any class folder"):
        datasets.ImageFolder(str(empty))
    with pytest.raises(FileNotFoundError):
        datasets.ImageFolder(str(tmp_path / "missing"))
