from .resnet import ResNet, ResNeXt

__all__ = ['ResNet', 'ResNeXt']
from .recurrent_resnet import RecurrentResNet  # noqa: E402

__all__ += ['RecurrentResNet']
from .efficientnet_lite import EfficientNetLite  # noqa: E402

__all__ += ['EfficientNetLite']
from .vgg import VGG  # noqa: E402

__all__ += ['VGG']

from .mobilenet_v2 import MobileNetV2  # noqa: E402

__all__ += ['MobileNetV2']

from .u2net import U2Net  # noqa: E402

__all__ += ['U2Net']

from .recurrent_efficientnet_lite import RecurrentEfficientNetLite  # noqa: E402

__all__ += ['RecurrentEfficientNetLite']
