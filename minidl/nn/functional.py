"""``minidl.nn.functional`` (``F``): the stateless forms of every layer and loss.

The functions live with their kernels in ``minidl.ops``; this namespace imports them.
"""
# names imported to be re-exported, grouped by topic rather than sorted
# ruff: noqa: F401
# isort: skip_file

# activations
from ..ops.activation import log_softmax, relu, relu_, sigmoid, softmax, softmin, tanh
from ..ops.rectifiers import (celu, celu_, elu, elu_, hardtanh, hardtanh_, leaky_relu,
                              leaky_relu_, prelu, relu6, selu, selu_, threshold, threshold_)
from ..ops.smooth_activations import (gelu, hardsigmoid, hardswish, logsigmoid, mish, silu,
                                      softplus, softsign)
from ..ops.shrink import hardshrink, softshrink, tanhshrink

# linear layers, embeddings
from ..ops.linalg import bilinear, linear
from ..ops.embedding import embedding, one_hot

# convolution, pooling
from ..ops.conv import (conv1d, conv2d, conv3d, conv_transpose1d, conv_transpose2d,
                        conv_transpose3d)
from ..ops.pool import avg_pool1d, avg_pool2d, avg_pool3d, max_pool1d, max_pool2d, max_pool3d
from ..ops.adaptive_pool import (adaptive_avg_pool1d, adaptive_avg_pool2d, adaptive_avg_pool3d,
                                 adaptive_max_pool1d, adaptive_max_pool2d, adaptive_max_pool3d)
from ..ops.unpool import max_unpool1d, max_unpool2d, max_unpool3d

# normalisation, dropout
from ..ops.norm import (batch_norm, group_norm, instance_norm, layer_norm, local_response_norm,
                        rms_norm)
from ..ops.dropout import (alpha_dropout, dropout, dropout1d, dropout2d, dropout3d,
                           feature_alpha_dropout)

# attention
from ..ops.attention import scaled_dot_product_attention
from ..ops.multi_head_attention import multi_head_attention_forward

# losses
from ..ops.cross_entropy import cross_entropy, nll_loss
from ..ops.loss import (binary_cross_entropy, binary_cross_entropy_with_logits, huber_loss,
                        kl_div, l1_loss, mse_loss, smooth_l1_loss)
from ..ops.metric_loss import (cosine_embedding_loss, triplet_margin_loss,
                                 triplet_margin_with_distance_loss)

# distances
from ..ops.distance import cosine_similarity, normalize, pairwise_distance, pdist

# padding, resampling, pixel rearrangement
from ..ops.pad import pad
from ..ops.interpolate import interpolate, upsample, upsample_bilinear, upsample_nearest
from ..ops.pixel_shuffle import pixel_shuffle, pixel_unshuffle
