"""Learning-rate schedules: ``torch.optim.lr_scheduler``.

A scheduler rewrites ``group['lr']`` of its optimizer's parameter groups each time
``step()`` is called (once per epoch, or once per batch for OneCycleLR / CyclicLR).
The schedules live by kind in ``lr_scheduler_base`` (``LRScheduler``), ``lr_scheduler_decay``
(per-epoch decays and warm-ups), ``lr_scheduler_cyclic``, ``lr_scheduler_plateau`` and
``lr_scheduler_composite``; this is torch's public path to all of them.
"""
from .lr_scheduler_base import LRScheduler, _LRScheduler
from .lr_scheduler_composite import ChainedScheduler, SequentialLR
from .lr_scheduler_cyclic import CosineAnnealingWarmRestarts, CyclicLR, OneCycleLR
from .lr_scheduler_decay import (
    ConstantLR,
    CosineAnnealingLR,
    ExponentialLR,
    LambdaLR,
    LinearLR,
    MultiplicativeLR,
    MultiStepLR,
    PolynomialLR,
    StepLR,
)
from .lr_scheduler_plateau import ReduceLROnPlateau

__all__ = ["LRScheduler", "_LRScheduler", "StepLR", "MultiStepLR", "ExponentialLR",
           "CosineAnnealingLR", "LambdaLR", "MultiplicativeLR", "LinearLR", "ConstantLR",
           "PolynomialLR", "OneCycleLR", "CyclicLR", "CosineAnnealingWarmRestarts",
           "SequentialLR", "ChainedScheduler", "ReduceLROnPlateau"]
