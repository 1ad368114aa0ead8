from .r3net_keys import convert_r3net_official, convert_resnext_torch7
from .resnet_arch import infer_resnet_args

__all__ = ['convert_r3net_official', 'convert_resnext_torch7', 'infer_resnet_args']
