"""Show, attend and tell (Xu et al. 2015): a CNN encoder and an LSTM decoder with soft
attention over the encoder's feature grid.

- ``CaptionEncoder``: conv 3 x 3 + BatchNorm + ReLU blocks, a 2 x 2 max-pool after all but
  the last, giving a ``(h, w)`` grid of ``L = h * w`` annotation vectors ``a_i``; each is
  the conv features followed by the cell's centre coordinates ``(x, y)`` in [-1, 1], so
  that an attended context says *where* it looked (the relations of a caption need it).
- ``CaptionDecoder``: at step t, with the previous state ``h_{t-1}``,

      e_ti = w^T tanh(W_h h_{t-1} + W_a a_i),   alpha_t = softmax_i(e_t)    (Bahdanau MLP)
      z_t = beta_t sum_i alpha_ti a_i,           beta_t = sigmoid(f_beta(h_{t-1}))  (gate)
      h_t, c_t = LSTMCell([E y_{t-1}; z_t], (h_{t-1}, c_{t-1}))
      p(y_t) = softmax(L_o(E y_{t-1} + L_h h_t + L_z z_t))     (the deep output, eq. 7)

  started from ``h_0 = tanh(f_init_h(mean_i a_i))``, ``c_0 = tanh(f_init_c(mean_i a_i))``;
  ``gate=False`` drops ``beta`` (``z_t`` is the plain context). ``dropout`` applies to the
  deep output's input. The attention is ``minidl.text.attention.AdditiveAttention``
  (bias-free maps, the keys ``W_a a_i`` projected once per image).
- ``doubly_stochastic_penalty``: the paper's regulariser ``lambda sum_i (1 - sum_t
  alpha_ti)^2`` per image, over the caption's valid steps; ``CaptionLoss`` adds it to the
  masked cross-entropy of teacher forcing.

Decoding reuses ``minidl.text.decoding`` (greedy and beam search over an encoder-decoder):
its sources are 2-D, so an image goes in flattened ``(N, C * H * W)`` with the "length" of
its source the grid size ``L``, and the attention it returns is ``(steps, L)`` per image.
"""
import numpy as np

from .. import nn
from .._creation import from_numpy
from ..ops.join import cat
from ..tensor import Tensor
from ..text.attention import AdditiveAttention
from ..text.decoding import beam_search, force_decode, greedy_decode
from ..text.seq2seq import MaskedCrossEntropyLoss

__all__ = ["CaptionEncoder", "CaptionDecoder", "Captioner", "CaptionLoss",
           "doubly_stochastic_penalty", "caption_images", "caption_attention"]


class CaptionEncoder(nn.Module):
    """CNN ``(N, C, H, W) -> (N, L, D)`` annotation vectors (see the module docstring);
    ``D = channels[-1] + 2`` (the coordinates), ``L = (H / 2^p) (W / 2^p)`` with ``p =
    len(channels) - 1`` pools. ``forward`` also takes the flattened ``(N, C * H * W)``
    images of ``minidl.text.decoding``."""

    def __init__(self, image_shape=(1, 96, 96), channels=(8, 16, 32, 64)):
        super().__init__()
        self.image_shape = tuple(int(v) for v in image_shape)
        if len(self.image_shape) != 3 or min(self.image_shape) < 1:
            raise ValueError(f"CaptionEncoder(image_shape=) must be (C, H, W), got "
                             f"{image_shape!r}")
        channels = tuple(int(c) for c in channels)
        if not channels or min(channels) < 1:
            raise ValueError(f"CaptionEncoder(channels=) must be positive ints, got "
                             f"{channels!r}")
        pools = len(channels) - 1
        c, height, width = self.image_shape
        if height % 2 ** pools or width % 2 ** pools:
            raise ValueError(f"CaptionEncoder: {len(channels)} blocks pool {pools} times, so "
                             f"H and W must be multiples of {2 ** pools}; got {height} x {width}")
        layers = []
        for i, out in enumerate(channels):
            layers += [nn.Conv2d(c, out, 3, padding=1, bias=False), nn.BatchNorm2d(out),
                       nn.ReLU()]
            if i < pools:
                layers.append(nn.MaxPool2d(2))
            c = out
        self.features = nn.Sequential(*layers)
        self.grid = (height // 2 ** pools, width // 2 ** pools)
        self.feature_size = channels[-1] + 2
        ys, xs = np.meshgrid(*(np.linspace(-1, 1, n) for n in self.grid), indexing="ij")
        self.register_buffer("coords", from_numpy(
            np.stack([xs.ravel(), ys.ravel()], 1).astype(np.float32)))

    @property
    def grid_size(self):
        return self.grid[0] * self.grid[1]

    def forward(self, images, lens=None):
        """``lens`` is ignored (the decoding interface passes the grid size)."""
        if not isinstance(images, Tensor) or images.dim() not in (2, 4):
            shape = tuple(images.shape) if isinstance(images, Tensor) else type(images).__name__
            raise ValueError(f"CaptionEncoder: images must be a (N, C, H, W) Tensor or its "
                             f"flattened (N, C*H*W), got {shape}")
        n = images.shape[0]
        if images.dim() == 2:
            if images.shape[1] != int(np.prod(self.image_shape)):
                raise ValueError(f"CaptionEncoder: flattened images must have "
                                 f"{int(np.prod(self.image_shape))} values, got "
                                 f"{images.shape[1]}")
            images = images.reshape(n, *self.image_shape)
        if tuple(images.shape[1:]) != self.image_shape:
            raise ValueError(f"CaptionEncoder: expected images of shape (N, "
                             f"{', '.join(map(str, self.image_shape))}), got "
                             f"{tuple(images.shape)}")
        grid = self.features(images.to(self.coords.dtype))     # N, D', h, w
        grid = grid.reshape(n, grid.shape[1], -1).transpose(1, 2)  # N, L, D'
        coords = self.coords.unsqueeze(0).expand(n, *self.coords.shape)
        return cat([grid, coords], -1)


class CaptionDecoder(nn.Module):
    """LSTM decoder with soft attention (the equations of the module docstring).

    The decoding interface of ``minidl.text.seq2seq``: ``init_state(features, lens)``,
    ``forward(X (N, T) token ids, state) -> (logits (N, T, V), state)``,
    ``select_state(state, index)``; ``attention_weights`` holds the last ``forward``'s
    ``alpha`` ``(N, T, L)`` (with its graph, for the regulariser) and ``gates`` its
    ``beta`` ``(N, T)`` (None without the gate).
    """

    def __init__(self, vocab_size, feature_size, embed_size=64, hidden_size=128,
                 attention_size=64, dropout=0.0, gate=True):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embed_size)
        self.attention = AdditiveAttention(feature_size, hidden_size, attention_size)
        self.init_h = nn.Linear(feature_size, hidden_size)
        self.init_c = nn.Linear(feature_size, hidden_size)
        self.f_beta = nn.Linear(hidden_size, 1) if gate else None
        self.lstm = nn.LSTMCell(embed_size + feature_size, hidden_size)
        self.L_h = nn.Linear(hidden_size, embed_size)
        self.L_z = nn.Linear(feature_size, embed_size)
        self.L_o = nn.Linear(embed_size, vocab_size)
        self.dropout = nn.Dropout(dropout)
        self.attention_weights = None
        self.gates = None

    def init_state(self, features, lens=None):
        if not isinstance(features, Tensor) or features.dim() != 3:
            raise ValueError(f"CaptionDecoder: features must be (N, L, D), got "
                             f"{tuple(getattr(features, 'shape', ())) or type(features)}")
        mean = features.mean(1)
        return (features, self.attention.W_k(features), self.init_h(mean).tanh(),
                self.init_c(mean).tanh())

    def forward(self, X, state):
        if not isinstance(X, Tensor) or X.dim() != 2 or X.is_floating_point():
            raise ValueError(f"CaptionDecoder: X must be an int64 Tensor of token ids (N, T), "
                             f"got {getattr(X, 'shape', type(X).__name__)}")
        features, keys, h, c = state
        emb = self.embedding(X)
        outputs, weights, gates = [], [], []
        for t in range(X.shape[1]):
            e = emb[:, t]
            z = self.attention.attend(h.unsqueeze(1), keys, features).squeeze(1)   # N, D
            weights.append(self.attention.attention_weights)                       # N, 1, L
            if self.f_beta is not None:
                beta = self.f_beta(h).sigmoid()                                    # N, 1
                gates.append(beta)
                z = beta * z
            h, c = self.lstm(cat([e, z], -1), (h, c))
            outputs.append(self.L_o(self.dropout(e + self.L_h(h) + self.L_z(z))).unsqueeze(1))
        self.attention_weights = cat(weights, 1)
        self.gates = cat(gates, 1) if gates else None
        return cat(outputs, 1), (features, keys, h, c)

    def select_state(self, state, index):
        return tuple(s[index] for s in state)


class Captioner(nn.Module):
    """``encoder`` + ``decoder``; ``forward(images, inputs)`` returns the teacher-forced
    logits ``(N, T, V)`` of the decoder inputs ``inputs`` (``<bos>`` + caption[:-1])."""

    def __init__(self, vocab_size, image_shape=(1, 96, 96), channels=(8, 16, 32, 64),
                 embed_size=64, hidden_size=128, attention_size=64, dropout=0.0, gate=True):
        super().__init__()
        self.encoder = CaptionEncoder(image_shape, channels)
        self.decoder = CaptionDecoder(vocab_size, self.encoder.feature_size, embed_size,
                                      hidden_size, attention_size, dropout, gate)

    def forward(self, images, inputs):
        state = self.decoder.init_state(self.encoder(images))
        return self.decoder(inputs, state)[0]


def _valid_steps(lens, n, steps):
    lens = lens.numpy() if isinstance(lens, Tensor) else np.asarray(lens)
    if lens.shape != (n,):
        raise ValueError(f"valid_lens must have shape ({n},), got {lens.shape}")
    return np.arange(steps)[None, :] < lens[:, None]


def doubly_stochastic_penalty(weights, valid_lens=None):
    """``mean_n sum_i (1 - sum_t alpha_nti)^2`` of attention ``weights`` ``(N, T, L)``, the
    sum over each caption's first ``valid_lens[n]`` steps (all steps when None)."""
    if not isinstance(weights, Tensor) or weights.dim() != 3:
        raise ValueError(f"doubly_stochastic_penalty: weights must be (N, T, L), got "
                         f"{getattr(weights, 'shape', type(weights).__name__)}")
    if valid_lens is not None:
        keep = _valid_steps(valid_lens, weights.shape[0], weights.shape[1])
        weights = weights * from_numpy(keep[:, :, None]).to(weights.dtype)
    return ((1 - weights.sum(1)) ** 2).sum(-1).mean()


class CaptionLoss(nn.Module):
    """Masked cross-entropy per caption token + ``lam`` x ``doubly_stochastic_penalty``."""

    def __init__(self, lam=0.001):
        super().__init__()
        if not lam >= 0:
            raise ValueError(f"CaptionLoss(lam=) must be >= 0, got {lam!r}")
        self.lam = float(lam)
        self.cross_entropy = MaskedCrossEntropyLoss()

    def forward(self, logits, targets, valid_lens, weights):
        loss = self.cross_entropy(logits, targets, valid_lens)
        if self.lam:
            loss = loss + self.lam * doubly_stochastic_penalty(weights, valid_lens)
        return loss


def _source(model, images):
    if not isinstance(images, Tensor) or images.dim() != 4:
        raise ValueError(f"images must be a (N, C, H, W) Tensor, got "
                         f"{getattr(images, 'shape', type(images).__name__)}")
    n = images.shape[0]
    return images.reshape(n, -1), np.full(n, model.encoder.grid_size, dtype=np.int64)


def caption_images(model, images, bos_index, eos_index, max_len, beam_size=1, alpha=0.75):
    """Token ids (without ``<bos>`` / ``<eos>``) of the caption of every image: greedy for
    ``beam_size=1``, else beam search with length penalty ``alpha``."""
    src, lens = _source(model, images)
    if beam_size == 1:
        return greedy_decode(model, src, lens, bos_index, eos_index, max_len)[0]
    return beam_search(model, src, lens, bos_index, eos_index, max_len, beam_size, alpha)[0]


def caption_attention(model, images, captions, bos_index, eos_index):
    """Per image, the attention ``(len(caption) + 1, h, w)`` of each step of its caption
    ``captions[i]`` (ids; the last step is ``<eos>``'s), teacher-forced."""
    src, lens = _source(model, images)
    _, weights = force_decode(model, src, lens, captions, bos_index, eos_index)
    return [w.reshape(len(w), *model.encoder.grid) for w in weights]
