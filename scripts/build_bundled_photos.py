"""Build minidl/vision/datasets/bundled/photos.zip (the ``photos`` super-resolution data)
from the photos inside a scikit-image wheel, and LICENSE-photos.md beside it.

    pip download scikit-image --no-deps -d /tmp/skdl
    python scripts/build_bundled_photos.py /tmp/skdl/scikit_image-*.whl

Every photo is read with Pillow straight from the wheel, turned into its grey Y channel
(``Image.convert('L')``: ITU-R 601-2 luma, Y = 0.299 R + 0.587 G + 0.114 B) and stored
as an 8-bit PNG under ``train/``, ``val/`` or ``test/`` of the zip (the split is by
photo; see ``minidl.vision.datasets.photos``). Nothing else is changed (no crop, no
resize). Only photos whose licence scikit-image states as CC0 or public domain are used.
"""
import hashlib
import io
import os
import sys
import zipfile

from PIL import Image

# name in the wheel -> (split, what it shows, licence as scikit-image's skimage/data docs state it)
PHOTOS = {
    "astronaut.png": ("train", "astronaut Eileen Collins (NASA)",
                      "public domain (NASA; 'No known copyright restrictions')"),
    "camera.png": ("train", "man with a camera", "CC0 by the photographer (Lav Varshney)"),
    "brick.png": ("train", "brick wall", "CC0 (CC0Textures, Bricks25)"),
    "grass.png": ("train", "grass", "CC0 (CC0Textures)"),
    "gravel.png": ("train", "gravel", "CC0 (CC0Textures, Gravel04)"),
    "cell.png": ("train", "cell (microscopy)", "CC0, dedicated to the public domain"),
    "coffee.png": ("val", "coffee cup", "CC0 by the photographer (Rachel Michetti)"),
    "chelsea.png": ("test", "Chelsea the cat", "CC0 by the photographer (Stefan van der Walt)"),
    "rocket.jpg": ("test", "DSCOVR launch on Falcon 9 (SpaceX)",
                   "public domain (released by SpaceX)"),
}

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "minidl", "vision", "datasets", "bundled")


def main(wheel):
    wheel_sha = hashlib.sha256(open(wheel, "rb").read()).hexdigest()
    rows = []
    zip_path = os.path.join(OUT, "photos.zip")
    with zipfile.ZipFile(wheel) as src, zipfile.ZipFile(zip_path, "w", zipfile.ZIP_STORED) as dst:
        for name, (split, what, licence) in PHOTOS.items():
            raw = src.read(f"skimage/data/{name}")
            image = Image.open(io.BytesIO(raw)).convert("L")
            buf = io.BytesIO()
            image.save(buf, format="PNG", optimize=True)
            stem = os.path.splitext(name)[0]
            info = zipfile.ZipInfo(f"{split}/{stem}.png", date_time=(2026, 1, 1, 0, 0, 0))
            dst.writestr(info, buf.getvalue())
            rows.append(f"| {split} | `{stem}.png` | {what} | {image.width} x {image.height} | "
                        f"{licence} | `{hashlib.sha256(raw).hexdigest()[:16]}` |")
    zip_sha = hashlib.sha256(open(zip_path, "rb").read()).hexdigest()
    text = [
        "# photos.zip: the `photos` super-resolution data (built by "
        "scripts/build_bundled_photos.py)",
        "",
        f"Nine photos from the data files of the scikit-image {os.path.basename(wheel)} wheel "
        f"(sha256 `{wheel_sha}`), each turned into its grey Y channel (Pillow "
        "`convert('L')`, ITU-R 601-2 luma) and stored as an 8-bit PNG, otherwise unchanged. "
        "The split is by photo. Licences as scikit-image's `skimage.data` documentation "
        "states them; scikit-image itself is BSD-3-Clause.",
        "",
        "| split | file | shows | width x height | licence | sha256 of the source file "
        "(first 16) |",
        "|---|---|---|---|---|---|",
        *rows,
        "",
        f"photos.zip sha256: `{zip_sha}`",
        "",
    ]
    with open(os.path.join(OUT, "LICENSE-photos.md"), "w") as f:
        f.write("\n".join(text))
    print(f"wrote {zip_path} ({os.path.getsize(zip_path) / 1e6:.2f} MB)")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(f"usage: {sys.argv[0]} SCIKIT_IMAGE_WHEEL")
    main(sys.argv[1])
