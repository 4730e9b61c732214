"""``MovingShapes``: generated next-frame prediction data in the style of Moving MNIST
(Srivastava et al. 2015, "Unsupervised Learning of Video Representations using LSTMs").

Every sequence has ``num_shapes`` sprites -- filled squares and discs, or MNIST digits --
each starting at a random position with a constant velocity (a random direction, 0.03 to
0.06 of the frame's smaller side per frame) and bouncing off the walls. A sprite's top-left
corner moves in closed form: along each axis with free room L = frame - sprite, the
unfolded position u = p_0 + v t is folded back into [0, L] with period 2L,

    p(t) = r            if r <= L, else 2L - r,        r = u mod 2L,

which is exactly a reflection at each wall. Frames are the pixelwise maximum of the sprites
drawn at the rounded positions, float32 in [0, 1]. The same ``seed`` gives the same data.
"""
import numbers

import numpy as np

from ...tensor import Tensor
from ...utils.data import Dataset
from .bundled import BUNDLED, load_bundled

__all__ = ["MovingShapes"]

_SPEED = (0.03, 0.06)  # pixels per frame, as a fraction of the frame's smaller side


def _positive_int(value, name, least=1):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < least:
        raise ValueError(f"{name} must be an integer >= {least}, got {value!r}")
    return int(value)


def _area_resize(image, side):
    """``image`` (h, w) resampled to (side, side) by averaging the source area of every
    output pixel (R_rows @ image @ R_cols^T with overlap-weight matrices)."""
    def weights(n):
        edges = np.linspace(0, n, side + 1)
        lo, hi = edges[:-1, None], edges[1:, None]
        pixel = np.arange(n)[None]
        overlap = np.clip(np.minimum(hi, pixel + 1) - np.maximum(lo, pixel), 0, None)
        return overlap / overlap.sum(1, keepdims=True)
    return weights(image.shape[0]) @ image @ weights(image.shape[1]).T


def _shape_sprites(side):
    """[square, disc] of ``side`` x ``side`` pixels."""
    centre = (side - 1) / 2
    yy, xx = np.mgrid[:side, :side]
    disc = (yy - centre) ** 2 + (xx - centre) ** 2 <= (side / 2) ** 2
    return [np.ones((side, side), np.float32), disc.astype(np.float32)]


def _digit_images(digits):
    """float images (n, h, w) in [0, 1] from a bundled name (its training split) or an
    image array / tensor."""
    if isinstance(digits, str):
        if digits not in BUNDLED:
            raise ValueError(f"digits: unknown bundled data set {digits!r}; available: "
                             f"{', '.join(sorted(BUNDLED))}")
        digits = load_bundled(digits, train=True)[0]
    images = np.asarray(digits.numpy() if isinstance(digits, Tensor) else digits)
    if images.ndim != 3 or len(images) == 0:
        raise ValueError(f"digits must be None, a bundled data set name or images of shape "
                         f"(n, h, w), got shape {images.shape}")
    if images.dtype == np.uint8:
        return images.astype(np.float32) / 255
    if images.dtype.kind != "f" or images.min() < 0 or images.max() > 1:
        raise ValueError("digits: float images must lie in [0, 1] (or pass uint8 images)")
    return images.astype(np.float32)


def _fold(unfolded, room):
    """Positions bouncing between 0 and ``room`` (the reflection formula above)."""
    r = np.mod(unfolded, 2 * room)
    return np.where(r <= room, r, 2 * room - r)


class MovingShapes(Dataset):
    """``num_sequences`` sequences of ``seq_len`` frames (1 x H x W) with moving sprites.

    Item i is ``(frames[:-horizon], frames[horizon:])`` of sequence i: the input frames and
    the frames ``horizon`` steps later, each a float32 tensor (seq_len - horizon, 1, H, W)
    in [0, 1] -- the target of input step t is frame t + horizon.

    size: H, W (an int or a pair). digits: None for squares and discs; a bundled data set
    name ('mnist-mini': its training split) or images (n, h, w) (uint8, or float in [0, 1])
    for digit sprites ("Moving MNIST"). shape_size: the sprites' side in pixels (default:
    a quarter of the smaller side for shapes; for digits 28 on frames of 56 or more, else
    half the smaller side, digits area-resampled to it).

    Attributes: ``frames`` (num_sequences, seq_len, 1, H, W); ``positions`` (num_sequences,
    seq_len, num_shapes, 2) the sprites' top-left (row, column) before rounding;
    ``velocities`` (num_sequences, num_shapes, 2) their initial velocities (pixels / frame);
    ``sprite_ids`` (num_sequences, num_shapes): 0 square / 1 disc, or the digit's index.
    """

    def __init__(self, num_sequences, seq_len=10, size=(32, 32), num_shapes=2, seed=0,
                 digits=None, shape_size=None, horizon=1):
        self.num_sequences = _positive_int(num_sequences, "num_sequences")
        self.horizon = _positive_int(horizon, "horizon")
        self.seq_len = _positive_int(seq_len, "seq_len", least=self.horizon + 1)
        pair = tuple(size) if isinstance(size, (tuple, list)) else (size, size)
        if len(pair) != 2:
            raise ValueError(f"size must be an int or a pair (H, W), got {size!r}")
        self.size = tuple(_positive_int(s, "size") for s in pair)
        self.num_shapes = _positive_int(num_shapes, "num_shapes")
        self.seed, self.digits = seed, digits
        images = None if digits is None else _digit_images(digits)
        smaller = min(self.size)
        if shape_size is None:
            shape_size = smaller // 4 if images is None else (28 if smaller >= 56 else
                                                              smaller // 2)
        self.shape_size = _positive_int(shape_size, "shape_size")
        if self.shape_size >= smaller:
            raise ValueError(f"shape_size={self.shape_size} leaves no room to move in frames "
                             f"of size {self.size}")
        self._generate(np.random.default_rng(seed), images)

    def _generate(self, rng, images):
        n, steps, k, side = self.num_sequences, self.seq_len, self.num_shapes, self.shape_size
        room = np.array(self.size, np.float64) - side
        start = rng.uniform(0, 1, (n, k, 2)) * room
        angle = rng.uniform(0, 2 * np.pi, (n, k))
        speed = rng.uniform(*_SPEED, (n, k)) * min(self.size)
        self.velocities = speed[..., None] * np.stack([np.sin(angle), np.cos(angle)], -1)
        t = np.arange(steps, dtype=np.float64)[None, :, None, None]
        self.positions = _fold(start[:, None] + self.velocities[:, None] * t, room)
        if images is None:
            sprites = _shape_sprites(side)
            ids = rng.integers(0, len(sprites), (n, k))
        else:
            ids = rng.integers(0, len(images), (n, k))
            sprites = {i: _area_resize(images[i], side).astype(np.float32)
                       if images.shape[1:] != (side, side) else images[i]
                       for i in np.unique(ids)}
        self.sprite_ids = ids
        corners = np.rint(self.positions).astype(np.int64)
        frames = np.zeros((n, steps, 1) + self.size, np.float32)
        for i in range(n):
            for s in range(k):
                sprite = sprites[ids[i, s]]
                for step, (r, c) in enumerate(corners[i, :, s]):
                    window = frames[i, step, 0, r:r + side, c:c + side]
                    np.maximum(window, sprite, out=window)
        self._frames = frames
        self.frames = Tensor(frames)

    def __len__(self):
        return self.num_sequences

    def __getitem__(self, index):
        seq = self._frames[index]
        return Tensor(seq[:-self.horizon].copy()), Tensor(seq[self.horizon:].copy())

    @property
    def _get_batch(self):
        """The DataLoader's fast path: a whole batch by one fancy index."""
        def get_batch(indices):
            seqs = self._frames[np.asarray(indices, dtype=np.int64)]
            return [Tensor(seqs[:, :-self.horizon].copy()), Tensor(seqs[:, self.horizon:].copy())]
        return get_batch

    def to_tensors(self):
        """``(inputs, targets)`` of all sequences, each (num_sequences, seq_len - horizon,
        1, H, W)."""
        return tuple(self._get_batch(np.arange(self.num_sequences)))

    def __repr__(self):
        kind = "shapes" if self.digits is None else "digits"
        return (f"MovingShapes(num_sequences={self.num_sequences}, seq_len={self.seq_len}, "
                f"size={self.size}, num_shapes={self.num_shapes}, {kind}, "
                f"shape_size={self.shape_size}, horizon={self.horizon}, seed={self.seed})")
