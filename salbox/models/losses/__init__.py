from .deep_supervision import DeepSupervisionBCELoss, DeepSupervisionLoss
from .pixel_losses import (BCELoss, EdgeWeightedLoss, IoULoss, PixelLoss, WeightedBCELoss,
                           WeightedIoULoss)

__all__ = [
    'BCELoss', 'DeepSupervisionBCELoss', 'EdgeWeightedLoss', 'DeepSupervisionLoss', 'IoULoss', 'PixelLoss',
    'WeightedBCELoss', 'WeightedIoULoss'
]
