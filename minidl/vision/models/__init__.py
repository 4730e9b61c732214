"""Model architectures with torchvision's names, arguments and layouts (``minidl.vision.models``).

Every builder is registered by name: ``list_models()``, ``get_model('resnet18',
num_classes=10)``. Builders take torchvision's keyword arguments (``weights=None``,
``progress``, then the model class's arguments); parameter counts and ``state_dict`` key
names equal torchvision's, so a torchvision state_dict converted to NumPy loads with
``load_state_dict``. ``weights`` other than None raises (pretrained weights need the
network). Every model also takes ``num_classes`` and ``in_channels`` (default 3; 1 for
grey images).

=====================  ===========================  ============  =========================
builder                class                        params (1k)   paper
=====================  ===========================  ============  =========================
``alexnet``            ``AlexNet``                    61,100,840  Krizhevsky et al. 2012
``vgg11`` ... ``19``   ``VGG`` (+ ``_bn`` variants)  132.9 - 143.7 M  Simonyan & Zisserman 2014
``googlenet``          ``GoogLeNet``, ``Inception``    6,624,904  Szegedy et al. 2014
``resnet18`` ... 152   ``ResNet``, ``BasicBlock``,    11,689,512  He et al. 2015
                       ``Bottleneck``                 (resnet18)
``resnext50_32x4d``    ``ResNet``                     25,028,904  Xie et al. 2016
``wide_resnet50_2``    ``ResNet``                     68,883,240  Zagoruyko & Komodakis 2016
``densenet121`` ...    ``DenseNet``                    7,978,856  Huang et al. 2016
``mobilenet_v2``       ``MobileNetV2``,                3,504,872  Sandler et al. 2018
                       ``InvertedResidual``
``nin``                ``NiN`` (not in torchvision)    7,439,608  Lin et al. 2013
``lenet5``             ``LeNet5`` (28 x 28 grey)      61,706 (10)  LeCun et al. 1998
``mlp``                ``MLP``                       269,322 (10)  --
``vit_b_16`` ... h_14  ``VisionTransformer``          86,567,656  Dosovitskiy et al. 2021
                                                     (vit_b_16)
``vit_mini``           ``VisionTransformer`` (28)   205,962 (10)  (4 x 4 patches, grey)
``swin_t`` / s / b     ``SwinTransformer``            28,288,354  Liu et al. 2021
                                                     (swin_t)
``swin_mini``          ``SwinTransformer`` (28)     303,580 (10)  (2 x 2 patches, grey)
=====================  ===========================  ============  =========================

(googlenet without its auxiliary classifiers, ``aux_logits=False``; torchvision's default
``aux_logits=True`` adds 6,379,984.)

Small images: ``small_input=True``
----------------------------------
The ImageNet architectures shrink a 224 x 224 image 32-fold; a 28 x 28 MNIST digit or a
32 x 32 CIFAR image would vanish (or make a pooling layer fail). Every zoo constructor
therefore takes ``small_input=True``, which changes the stem (and, for AlexNet / VGG /
NiN, the pooling and the head) so that 28 x 28 and 32 x 32 images end as 1 x 1 or 2 x 2
maps, while keeping the blocks, widths and key names of the original. The variants are
chosen to be cheap enough to train on a laptop CPU: most downsample by 2 in the stem
instead of 4. ``minidl train`` picks them for the bundled 28 x 28 data.

============  ==============================================================  =============
model         change with ``small_input=True``                                final map (28)
============  ==============================================================  =============
AlexNet       conv1 5x5 stride 2 pad 2 (was 11x11/4); max-pools pad 1;         2 x 2 -> 1
              avgpool to 1 x 1; classifier 256-512-512-classes
VGG           max-pools round up (``ceil_mode``) so five of them fit;          1 x 1
              avgpool 1 x 1; classifier 512-512-512-classes
GoogLeNet     conv1 3x3 stride 1 (was 7x7/2)                                   2 x 2
ResNet        conv1 3x3 stride 2 (was 7x7/2), no max-pool                      2 x 2
DenseNet      conv0 3x3 stride 2 (was 7x7/2), no pool0                         1 x 1
MobileNetV2   features.0 stride 1 (was 2)                                      2 x 2
NiN           first mlpconv 5x5 stride 2 pad 2 (was 11x11/4); max-pools pad 1  2 x 2
LeNet-5, MLP  built for 28 x 28 already (flag ignored / not taken)             --
============  ==============================================================  =============

The Transformers take no ``small_input``: a ViT takes ``image_size`` (and a patch size
dividing it), a Swin any image size; ``vit_mini`` and ``swin_mini`` are sized for 28 x 28.

Beyond classification (issue 11's applications; each registered, built by ``get_model``):
detection ``yolo_v1`` (271,703,550 parameters for 21 classes), ``yolo_v1_mini``,
``fasterrcnn_resnet50_fpn``, ``fasterrcnn_mini`` (``models.detection``); segmentation
``fcn_resnet50`` / ``fcn_resnet101`` (35,322,218 / 54,314,346 with the auxiliary head),
``fcn8s_mini``, ``unet_mini`` (``models.segmentation``); super-resolution ``srcnn``,
``vdsr``, ``espcn``, ``srresnet``, ``srgan_discriminator`` (``super_resolution``,
``srgan``).

Accuracy, parameters, MACs and seconds per epoch of every small-input model trained by
``minidl train MODEL --data fashion-mnist-mini`` are in the README's zoo table, made from the
runs by ``scripts/zoo_table.py``.
"""
from . import detection, segmentation  # noqa: F401
from ._api import get_model, get_model_builder, list_models, register_model  # noqa: F401
from ._utils import Conv2dNormActivation  # noqa: F401
from .alexnet import AlexNet, alexnet  # noqa: F401
from .densenet import DenseNet, densenet121, densenet161, densenet169, densenet201  # noqa: F401
from .googlenet import BasicConv2d, GoogLeNet, GoogLeNetOutputs, Inception, InceptionAux, googlenet  # noqa: F401
from .lenet import LeNet5, lenet5  # noqa: F401
from .mlp import MLP, mlp  # noqa: F401
from .mobilenetv2 import InvertedResidual, MobileNetV2, mobilenet_v2  # noqa: F401
from .nin import NiN, mlpconv, nin  # noqa: F401
from .resnet import (  # noqa: F401
    BasicBlock,
    Bottleneck,
    ResNet,
    resnet18,
    resnet34,
    resnet50,
    resnet101,
    resnet152,
    resnext50_32x4d,
    wide_resnet50_2,
)
from .srgan import SRGANDiscriminator, SRResNet, srgan_discriminator, srresnet  # noqa: F401
from .super_resolution import ESPCN, SRCNN, VDSR, espcn, srcnn, vdsr  # noqa: F401
from .swin_transformer import (  # noqa: F401
    PatchMerging,
    ShiftedWindowAttention,
    SwinTransformer,
    SwinTransformerBlock,
    shifted_window_attention,
    swin_b,
    swin_mini,
    swin_s,
    swin_t,
)
from .vgg import (  # noqa: F401
    VGG,
    make_layers,
    vgg11,
    vgg11_bn,
    vgg13,
    vgg13_bn,
    vgg16,
    vgg16_bn,
    vgg19,
    vgg19_bn,
)
from .vision_transformer import (  # noqa: F401
    ConvStemConfig,
    VisionTransformer,
    vit_b_16,
    vit_b_32,
    vit_h_14,
    vit_l_16,
    vit_l_32,
    vit_mini,
)

__all__ = ["register_model", "list_models", "get_model", "get_model_builder",
           "Conv2dNormActivation", "LeNet5", "lenet5", "MLP", "mlp", "AlexNet", "alexnet",
           "VGG", "make_layers", "vgg11", "vgg11_bn", "vgg13", "vgg13_bn", "vgg16", "vgg16_bn",
           "vgg19", "vgg19_bn", "GoogLeNet", "GoogLeNetOutputs", "Inception", "InceptionAux",
           "BasicConv2d", "googlenet", "ResNet", "BasicBlock", "Bottleneck", "resnet18",
           "resnet34", "resnet50", "resnet101", "resnet152", "resnext50_32x4d",
           "wide_resnet50_2", "DenseNet", "densenet121", "densenet161", "densenet169",
           "densenet201", "MobileNetV2", "InvertedResidual", "mobilenet_v2", "NiN", "mlpconv",
           "nin", "VisionTransformer", "ConvStemConfig", "vit_b_16", "vit_b_32", "vit_l_16",
           "vit_l_32", "vit_h_14", "vit_mini", "SwinTransformer", "SwinTransformerBlock",
           "ShiftedWindowAttention", "PatchMerging", "shifted_window_attention", "swin_t",
           "swin_s", "swin_b", "swin_mini", "SRCNN", "srcnn", "VDSR", "vdsr", "ESPCN", "espcn",
           "SRResNet", "srresnet", "SRGANDiscriminator", "srgan_discriminator"]
