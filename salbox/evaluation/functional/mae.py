"""Mean absolute error (Perazzi et al. CVPR'12)."""
import numpy as np


def mae(pred: np.ndarray, gt: np.ndarray) -> float:
    """``mean(|pred - gt|)``; ``gt`` is a boolean mask or a soft mask in [0, 1]."""
    return float(np.mean(np.abs(pred - gt)))
