from .base import BaseSalDetector
from .blurred_ground_truth import BlurredGroundTruth
from .r3net import R3Net
from .saliency_detector import SaliencyDetector
from .two_stage import RefinedDetector

__all__ = ['BaseSalDetector', 'SaliencyDetector', 'R3Net', 'RefinedDetector',
           'BlurredGroundTruth']
