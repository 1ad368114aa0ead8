from .r3net import R3Net
from .saliency_detector import SaliencyDetector

__all__ = ['SaliencyDetector', 'R3Net']
from .blurred_ground_truth import BlurredGroundTruth  # noqa: E402
from .two_stage import RefinedDetector  # noqa: E402

__all__ += ['RefinedDetector', 'BlurredGroundTruth']
