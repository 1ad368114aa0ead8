from .base import BaseSalDetector
from .demo_gt_degrader import GroundTruthDegrader
from .saliency_detector import SaliencyDetector
from .two_stage import RefinedDetector

__all__ = ['BaseSalDetector', 'SaliencyDetector', 'RefinedDetector', 'GroundTruthDegrader']
