from .base import BasePostProcessor
from .dense_crf import DenseCRF, dense_crf_numpy, saliency_unary
from .min_max import MinMaxNormalize

__all__ = ['BasePostProcessor', 'DenseCRF', 'saliency_unary',
           'dense_crf_numpy', 'MinMaxNormalize']
