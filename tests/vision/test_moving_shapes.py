"""MovingShapes: seeded frames of sprites moving at constant velocity and bouncing off the
walls; (inputs, targets) pairs shifted by ``horizon``; digits; argument errors."""
import numpy as np
import pytest

import minidl
from minidl.utils.data import DataLoader
from minidl.vision.datasets import MovingShapes, load_bundled


def test_items_are_shifted_float_frames_in_unit_range():
    data = MovingShapes(5, seq_len=7, size=(20, 24), num_shapes=3, horizon=2)
    assert len(data) == 5 and tuple(data.frames.shape) == (5, 7, 1, 20, 24)
    inputs, targets = data[3]
    assert inputs.dtype == targets.dtype == minidl.float32
    assert tuple(inputs.shape) == tuple(targets.shape) == (5, 1, 20, 24)
    frames = data.frames.numpy()[3]
    np.testing.assert_array_equal(inputs.numpy(), frames[:-2])
    np.testing.assert_array_equal(targets.numpy(), frames[2:])
    assert frames.min() == 0 and frames.max() == 1
    assert set(np.unique(frames)) <= {0.0, 1.0}  # shapes are binary masks
    batch_in, batch_out = next(iter(DataLoader(data, batch_size=4)))
    np.testing.assert_array_equal(batch_in.numpy()[3], inputs.numpy())
    all_in, all_out = data.to_tensors()
    assert tuple(all_in.shape) == (5, 5, 1, 20, 24)
    np.testing.assert_array_equal(all_out.numpy()[3], targets.numpy())


def test_seeded_and_deterministic():
    a, b = MovingShapes(4, seed=3), MovingShapes(4, seed=3)
    np.testing.assert_array_equal(a.frames.numpy(), b.frames.numpy())
    assert not np.array_equal(a.frames.numpy(), MovingShapes(4, seed=4).frames.numpy())


def test_constant_velocity_and_reflection_at_the_walls():
    """The closed-form positions equal a step-by-step simulation that reflects the position
    and flips the velocity whenever a sprite would leave the frame."""
    data = MovingShapes(30, seq_len=40, size=(16, 24), num_shapes=2, shape_size=5)
    room = np.array([16.0 - 5, 24.0 - 5])
    p, v = data.positions[:, 0].copy(), data.velocities.copy()
    speed = np.hypot(v[..., 0], v[..., 1]) / 16
    assert speed.min() >= 0.03 and speed.max() <= 0.06
    bounces = 0
    for t in range(1, 40):
        p = p + v
        low, high = p < 0, p > room
        p = np.where(low, -p, np.where(high, 2 * room - p, p))
        v = np.where(low | high, -v, v)
        bounces += (low | high).sum()
        np.testing.assert_allclose(data.positions[:, t], p, atol=1e-9)
    assert bounces > 30


def test_frames_show_each_sprite_at_its_rounded_position():
    data = MovingShapes(6, seq_len=5, size=32, num_shapes=1, shape_size=8)
    assert set(data.sprite_ids[:, 0]) == {0, 1}
    for n in range(6):
        for t in range(5):
            r, c = np.rint(data.positions[n, t, 0]).astype(int)
            frame = data.frames.numpy()[n, t, 0]
            window = frame[r:r + 8, c:c + 8]
            assert frame.sum() == window.sum()
            if data.sprite_ids[n, 0] == 0:  # square
                assert window.all()
            else:  # disc: the centre, not the corners
                assert window[2:6, 2:6].all() and not window[[0, 0, 7, 7], [0, 7, 0, 7]].any()


def test_digits_from_the_bundled_set_or_given_images():
    data = MovingShapes(2, seq_len=4, size=64, num_shapes=2, digits="mnist-mini")
    assert data.shape_size == 28
    images = load_bundled("mnist-mini")[0].numpy()
    r, c = np.rint(data.positions[0, 0, 0]).astype(int)
    window = data.frames.numpy()[0, 0, 0, r:r + 28, c:c + 28]
    assert (window >= images[data.sprite_ids[0, 0]] / 255 - 1e-6).all()  # max of sprites
    small = MovingShapes(2, seq_len=4, size=32, digits=np.ones((3, 28, 28), np.float32))
    assert small.shape_size == 16
    frame = small.frames.numpy()[0, 0, 0]
    np.testing.assert_allclose(np.unique(frame), [0, 1], atol=1e-6)  # area resize keeps 1s


@pytest.mark.parametrize("kwargs, match", [
    (dict(num_sequences=0), "num_sequences must be an integer >= 1"),
    (dict(seq_len=1), "seq_len must be an integer >= 2"),
    (dict(seq_len=3, horizon=3), "seq_len must be an integer >= 4"),
    (dict(size=(8, 8, 8)), "size must be an int or a pair"),
    (dict(size=8, shape_size=8), "shape_size=8 leaves no room"),
    (dict(num_shapes=0), "num_shapes must be an integer >= 1"),
    (dict(digits="cifar"), "digits: unknown bundled data set 'cifar'"),
    (dict(digits=np.ones((4, 4))), r"digits must be None, a bundled data set name or images"),
    (dict(digits=np.full((2, 4, 4), 2.0)), r"float images must lie in \[0, 1\]"),
])
def test_bad_arguments_are_named(kwargs, match):
    with pytest.raises(ValueError, match=match):
        MovingShapes(**{"num_sequences": 2, **kwargs})
