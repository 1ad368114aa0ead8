from .deep_supervision import DeepSupervisionBCELoss, DeepSupervisionLoss
from .pixel_losses import BCELoss, IoULoss, PixelLoss, WeightedBCELoss, WeightedIoULoss

__all__ = [
    'BCELoss', 'DeepSupervisionBCELoss', 'DeepSupervisionLoss', 'IoULoss', 'PixelLoss',
    'WeightedBCELoss', 'WeightedIoULoss'
]
