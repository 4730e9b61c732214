"""``IndexBatches``: the epoch loop of the loaders that hold a whole split in arrays
(translation pairs, scenes, captioned images) and build each batch with one fancy index."""
import numpy as np

__all__ = ["IndexBatches"]


class IndexBatches:
    """``len()`` batches of ``batch_size`` indices into ``num_samples`` samples (the last one
    shorter); with ``shuffle`` every ``iter()`` deals a new order from
    ``numpy.random.default_rng((seed, epoch))``, so a run replays epoch by epoch from
    ``seed``. Subclasses turn ``batch_indices()`` into batches in ``__iter__``."""

    def __init__(self, num_samples, batch_size, shuffle=False, seed=0):
        self.num_samples, self.batch_size = int(num_samples), int(batch_size)
        self.shuffle, self.seed, self.epoch = shuffle, seed, 0

    def __len__(self):
        return -(-self.num_samples // self.batch_size)

    def batch_indices(self):
        """The index array of each batch of one epoch."""
        order = np.arange(self.num_samples)
        if self.shuffle:
            order = np.random.default_rng((self.seed, self.epoch)).permutation(order)
            self.epoch += 1
        for start in range(0, self.num_samples, self.batch_size):
            yield order[start:start + self.batch_size]
