"""What salbox backbones share: frozen stages and ``norm_eval`` (MMSegmentation's backbone
conventions, e.g. ``mmseg/models/backbones/resnet.py``: ``_freeze_stages`` and ``train``), and the
random initialisation of torchvision's ResNet and TF EfficientNet."""
from typing import List

from mmengine.model import BaseModule
from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm


class FreezableBackbone(BaseModule):
    """Base class: subclasses set ``frozen_stages`` / ``norm_eval`` and list the modules of the
    frozen stages in :meth:`frozen_modules`; frozen modules stay in eval mode without gradients,
    and with ``norm_eval`` every BatchNorm stays in eval mode while training."""

    frozen_stages: int = -1
    norm_eval: bool = False

    def frozen_modules(self) -> List[nn.Module]:
        """The modules of the first ``frozen_stages`` stages (none when it is negative)."""
        raise NotImplementedError

    def _freeze_stages(self) -> None:
        if self.frozen_stages < 0:
            return
        for module in self.frozen_modules():
            module.eval()
            for param in module.parameters():
                param.requires_grad = False

    def train(self, mode: bool = True):
        """Switch mode, keeping frozen stages (and with ``norm_eval`` every BN) in eval mode."""
        super().train(mode)
        self._freeze_stages()
        if mode and self.norm_eval:
            for m in self.modules():
                if isinstance(m, _BatchNorm):
                    m.eval()
        return self


def init_conv_fan_out(module: nn.Module) -> None:
    """Random init: conv kernels He-normal on fan-out (ReLU gain), BatchNorm weight 1 and bias 0
    (torchvision ``resnet.py``; TF EfficientNet's ``conv_kernel_initializer``, normal with
    std sqrt(2 / fan_out))."""
    for m in module.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode='fan_out', nonlinearity='relu')
        elif isinstance(m, _BatchNorm):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)
