import pytest
from mmengine.config import Config

from salbox.apis.runner_utils import check_pretrained_weights
from salbox.utils.errors import SalboxError


def _cfg(model):
    return Config(dict(model=model))


def test_missing_backbone_weights_name_the_key_and_the_way_out(tmp_path):
    cfg = _cfg(dict(type='SaliencyDetector', backbone=dict(
        type='ResNeXt', init_cfg=dict(type='Pretrained', checkpoint=str(tmp_path / 'w.pth')))))
    with pytest.raises(SalboxError, match=r'model\.backbone\.init_cfg=None'):
        check_pretrained_weights(cfg)
    (tmp_path / 'w.pth').write_bytes(b'')
    check_pretrained_weights(cfg)  # present: no error


def test_two_stage_checks_its_first_stage_checkpoint_not_the_first_stage_init(tmp_path):
    first = dict(type='SaliencyDetector', backbone=dict(
        type='ResNet', init_cfg=dict(type='Pretrained', checkpoint='absent_imagenet.pth')))
    cfg = _cfg(dict(type='RefinedDetector', first_stage=first,
                    first_stage_checkpoint=str(tmp_path / 'rln.pth')))
    with pytest.raises(SalboxError, match='first-stage checkpoint not found'):
        check_pretrained_weights(cfg)
    (tmp_path / 'rln.pth').write_bytes(b'')
    check_pretrained_weights(cfg)  # the first stage's ImageNet weights are not needed


def test_remote_checkpoints_are_left_to_the_loader():
    check_pretrained_weights(_cfg(dict(backbone=dict(
        init_cfg=dict(type='Pretrained', checkpoint='https://example.org/w.pth')))))
