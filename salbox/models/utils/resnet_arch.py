"""Read a ResNet/ResNeXt's constructor arguments back from a torchvision-named state dict."""
import re
from typing import Dict, Mapping

from salbox.models.backbones.resnet import BasicBlock, Bottleneck, ResNet


def infer_resnet_args(state_dict: Mapping, prefix: str = '') -> Dict[str, int]:
    """``dict(depth, groups, width_per_group)`` of the ResNet whose keys (under ``prefix``)
    are in ``state_dict``; raises ``ValueError`` when the block counts match no known depth."""
    counts = [0, 0, 0, 0]
    pattern = re.compile(re.escape(prefix) + r'layer([1-4])\.(\d+)\.conv1\.weight')
    for key in state_dict:
        match = pattern.fullmatch(key)
        if match:
            stage, block = int(match[1]) - 1, int(match[2])
            counts[stage] = max(counts[stage], block + 1)
    bottleneck = f'{prefix}layer1.0.conv3.weight' in state_dict
    block_type = Bottleneck if bottleneck else BasicBlock
    for depth, (block, stage_blocks) in ResNet.arch_settings.items():
        if block is block_type and tuple(counts) == stage_blocks:
            break
    else:
        raise ValueError(f'state dict (prefix {prefix!r}) has {counts} blocks per stage, which '
                         'matches no ResNet depth (18/34/50/101/152)')
    if not bottleneck:
        return dict(depth=depth, groups=1, width_per_group=64)
    # layer1's grouped 3x3 conv: weight (width, width // groups, 3, 3), width = groups * wpg.
    width, per_group = state_dict[f'{prefix}layer1.0.conv2.weight'].shape[:2]
    groups = width // per_group
    return dict(depth=depth, groups=groups, width_per_group=width // groups)
