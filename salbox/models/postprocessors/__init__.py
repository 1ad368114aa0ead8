from .base import BasePostProcessor
from .dense_crf import DenseCRF, saliency_unary

__all__ = ['BasePostProcessor', 'DenseCRF', 'saliency_unary']
