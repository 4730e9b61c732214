"""FrozenBatchNorm2d: batch norm with constant statistics, as torchvision's."""
import numpy as np
import pytest
import torch

import minidl
from minidl.vision.models.detection import FasterRCNN
from minidl.vision.models.detection.backbone_utils import resnet_fpn_backbone
from minidl.vision.ops import FrozenBatchNorm2d


def test_equals_torch_batch_norm_in_eval_mode_in_both_modes_and_loads_its_state():
    rng = np.random.default_rng(0)
    ref = torch.nn.BatchNorm2d(5).double().eval()
    with torch.no_grad():
        for name in ("weight", "bias", "running_mean"):
            getattr(ref, name).copy_(torch.from_numpy(rng.normal(size=5)))
        ref.running_var.copy_(torch.from_numpy(rng.uniform(0.5, 2, 5)))
    frozen = FrozenBatchNorm2d(5).double()
    frozen.load_state_dict({k: minidl.from_numpy(v.numpy()) for k, v in ref.state_dict().items()})
    x = rng.normal(size=(2, 5, 4, 3))
    want = ref(torch.from_numpy(x)).detach().numpy()
    for training in (True, False):
        frozen.train(training)
        np.testing.assert_allclose(frozen(minidl.from_numpy(x)).numpy(), want, rtol=1e-12)
    assert list(frozen.parameters()) == []
    assert sorted(frozen.state_dict()) == ["bias", "running_mean", "running_var", "weight"]
    with pytest.raises(ValueError, match=r"expected an \(N, 5, H, W\) input"):
        frozen(minidl.zeros(2, 4, 3, 3))


def test_resnet_fpn_backbone_freezes_its_norms_as_torchvision():
    backbone = resnet_fpn_backbone(backbone_name="resnet50", weights=None, trainable_layers=5)
    assert isinstance(backbone.body.bn1, FrozenBatchNorm2d)
    model = FasterRCNN(backbone, num_classes=91)
    # torchvision's published count for fasterrcnn_resnet50_fpn (frozen batch norms)
    assert sum(p.numel() for p in model.parameters()) == 41_755_286
