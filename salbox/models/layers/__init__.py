from .aspp import ASPP
from .conv_bn_prelu import ConvBNPReLU

__all__ = ['ASPP', 'ConvBNPReLU']
from .rcl import RecurrentConvLayer  # noqa: E402
from .self_attention import SelfAttention2d  # noqa: E402

__all__ += ['RecurrentConvLayer', 'SelfAttention2d']
