from .aspp import ASPP
from .conv_bn_prelu import ConvBNPReLU

__all__ = ['ASPP', 'ConvBNPReLU']
