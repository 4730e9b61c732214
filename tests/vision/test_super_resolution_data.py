"""The photos data: the split by photo, grey Y, the user's folders, bicubic pairs, patches."""
import hashlib

import numpy as np
import pytest
from PIL import Image

from minidl.vision.datasets import ImagePairs, PhotoPatches, Photos, load_photos
from minidl.vision.datasets.photos import PHOTO_SPLITS, bicubic_downscale, bicubic_upscale


@pytest.fixture(scope="module")
def bundled():
    return {split: load_photos(split) for split in PHOTO_SPLITS}


def test_bundled_photos_are_split_by_photo(bundled):
    names = {split: [n for n, _ in photos] for split, photos in bundled.items()}
    assert names == {"train": ["astronaut", "brick", "camera", "cell", "grass", "gravel"],
                     "val": ["coffee"], "test": ["chelsea", "rocket"]}
    digests = [hashlib.sha256(a.tobytes()).hexdigest() for p in bundled.values() for _, a in p]
    assert len(set(digests)) == 9  # no photo's pixels appear in two places
    for photos in bundled.values():
        for _, a in photos:
            assert a.dtype == np.uint8 and a.ndim == 2 and min(a.shape) >= 300


def test_photos_dataset_gives_grey_pil_images():
    ds = Photos("test", transform=lambda im: im.size)
    assert len(ds) == 2 and ds.names == ["chelsea", "rocket"]
    assert ds[0] == (451, 300)
    assert Photos("val")[0].mode == "L"
    assert "coffee" in repr(Photos("val"))
    with pytest.raises(ValueError, match="split must be one of"):
        Photos("training")


def test_a_folder_of_the_users_photos(tmp_path):
    rng = np.random.default_rng(0)
    rgb = rng.integers(0, 256, (20, 30, 3), dtype=np.uint8)
    for split in PHOTO_SPLITS:
        (tmp_path / split).mkdir()
        Image.fromarray(rgb).save(tmp_path / split / "b.png")
        Image.fromarray(rgb[..., 0]).save(tmp_path / split / "a.jpg")
    (tmp_path / "train" / "notes.txt").write_text("not an image")
    photos = load_photos("train", tmp_path)
    assert [n for n, _ in photos] == ["a", "b"]
    np.testing.assert_array_equal(photos[1][1], np.asarray(Image.fromarray(rgb).convert("L")))
    luma = rgb.astype(np.float64) @ [0.299, 0.587, 0.114]
    assert np.abs(photos[1][1] - luma).max() <= 1  # ITU-R 601-2 luma


def test_missing_folders_are_named(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"val does not exist.*train, val, test"):
        (tmp_path / "train").mkdir()
        load_photos("val", tmp_path)
    with pytest.raises(FileNotFoundError, match="holds no image files"):
        load_photos("train", tmp_path)


def test_bicubic_pairs_are_pillows_bicubic():
    hr = np.random.default_rng(1).integers(0, 256, (21, 18), dtype=np.uint8)
    lr, cropped = bicubic_downscale(hr, 4)
    assert cropped.shape == (20, 16) and lr.shape == (5, 4) and lr.dtype == np.uint8
    expected = Image.fromarray(hr[:20, :16]).resize((4, 5), Image.BICUBIC)
    np.testing.assert_array_equal(lr, np.asarray(expected))
    up = bicubic_upscale(lr, 4)
    ref = Image.fromarray(lr.astype(np.float32) / 255).resize((16, 20), Image.BICUBIC)
    np.testing.assert_allclose(up, np.clip(np.asarray(ref), 0, 1), atol=1e-6)
    with pytest.raises(ValueError, match="smaller than the scale"):
        bicubic_downscale(hr[:3], 4)


def test_patches_are_new_each_epoch_and_seeded(bundled):
    images = [a for _, a in bundled["train"]]
    patches = PhotoPatches(images, 2, 16, 10, 4, seed=3)
    assert len(patches) == 3
    first = list(patches)
    assert [tuple(x.shape) for x, _ in first] == [(4, 1, 8, 8)] * 2 + [(2, 1, 8, 8)]
    assert tuple(first[0][1].shape) == (4, 1, 16, 16)
    second = list(patches)
    assert not np.array_equal(first[0][1].numpy(), second[0][1].numpy())
    again = list(PhotoPatches(images, 2, 16, 10, 4, seed=3))
    np.testing.assert_array_equal(first[0][0].numpy(), again[0][0].numpy())
    x, y = first[0]
    assert 0 <= float(x.min()) and float(y.max()) <= 1
    lr = np.round(x.numpy()[0, 0] * 255).astype(np.uint8)
    np.testing.assert_array_equal(lr, bicubic_downscale(np.round(y.numpy()[0, 0] * 255)
                                                        .astype(np.uint8), 2)[0])
    up, _ = next(iter(PhotoPatches(images, 4, 16, 2, 2, upsampled=True)))
    assert tuple(up.shape) == (2, 1, 16, 16)


def test_patch_settings_are_checked():
    image = np.zeros((20, 40), np.uint8)
    with pytest.raises(ValueError, match="multiple of the scale 3"):
        PhotoPatches([image], 3, 16, 4, 2)
    with pytest.raises(ValueError, match=r"larger than 1 of the training images \(20 x 40\)"):
        PhotoPatches([image], 2, 24, 4, 2)


def test_whole_images_for_evaluation():
    image = np.random.default_rng(2).integers(0, 256, (13, 10), dtype=np.uint8)
    pairs = ImagePairs([image, image[:8]], 3, names=["a", "b"])
    (x, y, up), (x2, _, _) = list(pairs)
    assert tuple(x.shape) == (1, 1, 4, 3) and tuple(y.shape) == (1, 1, 12, 9)
    assert tuple(up.shape) == (1, 1, 12, 9) and tuple(x2.shape) == (1, 1, 2, 3)
    x, _, up = next(iter(ImagePairs([image], 3, upsampled=True)))
    np.testing.assert_array_equal(x.numpy(), up.numpy())
