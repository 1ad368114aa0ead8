"""test_cfg of the detectors: sliding-window inference (MMSeg's slide_inference) is honoured,
anything unknown is refused in one line."""
import os.path as osp

import pytest
import torch

from salbox.apis.inference import init_model
from salbox.models.detectors.inference_modes import (check_test_cfg, slide_logits,
                                                     window_starts)
from salbox.registry import MODELS

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
R3NET = osp.join(REPO, 'configs/r3net/r3net_resnet18_synthetic.py')


def test_windows_cover_the_axis_and_end_inside_it():
    assert window_starts(100, 64, 48) == [0, 36]
    assert window_starts(64, 64, 48) == [0]
    assert window_starts(30, 64, 48) == [0]  # smaller than one window: the whole axis
    assert window_starts(200, 64, 64) == [0, 64, 128, 136]
    for size, crop, stride in [(97, 32, 20), (321, 100, 67), (50, 7, 3)]:
        covered = torch.zeros(size)
        for start in window_starts(size, crop, stride):
            assert 0 <= start and start + crop <= size
            covered[start:start + crop] += 1
        assert covered.min() >= 1


def test_slide_of_a_pixelwise_function_is_the_whole_image():
    """A per-pixel function gives the same logits in any window, so the average over
    overlapping windows equals one pass; a function that reads the whole window does not."""
    inputs = torch.randn(2, 3, 37, 51)
    pixelwise = lambda x: x.sum(dim=1, keepdim=True) * 2  # noqa: E731
    torch.testing.assert_close(slide_logits(pixelwise, inputs, (16, 20), (11, 13)),
                               pixelwise(inputs))
    global_mean = lambda x: x.mean(dim=(1, 2, 3), keepdim=True).expand(  # noqa: E731
        x.shape[0], 1, *x.shape[-2:])
    assert not torch.allclose(slide_logits(global_mean, inputs, (16, 20), (11, 13)),
                              global_mean(inputs))


def test_r3net_slides_when_asked():
    """Windows as large as the image give the whole-image logits exactly; smaller windows give
    other logits of the same size (the network sees less context)."""
    inputs = torch.randn(1, 3, 96, 80)

    def logits(test_cfg):
        torch.manual_seed(0)
        model = init_model(R3NET, cfg_options={'model.test_cfg': test_cfg})
        with torch.no_grad():
            return model.final_logits(inputs)
    whole = logits(None)
    torch.testing.assert_close(logits(dict(mode='slide', crop_size=128, stride=64)), whole,
                               rtol=0, atol=0)
    windows = logits(dict(mode='slide', crop_size=(64, 64), stride=(32, 32)))
    assert windows.shape == whole.shape and not torch.allclose(windows, whole)


@pytest.mark.parametrize('test_cfg,message', [
    (dict(mode='sliding'), "test_cfg.mode must be one of"),
    (dict(mode='slide', crop_size=(64, 64)), 'test_cfg.stride must be'),
    (dict(mode='slide', crop_size=(0, 64), stride=32), 'test_cfg.crop_size must be'),
    (dict(crop_size=64), "read only with mode='slide'"),
    (dict(mode='whole', batch_size=4), r"unknown test_cfg key\(s\) \['batch_size'\]"),
])
def test_bad_test_cfg_is_refused(test_cfg, message):
    with pytest.raises(ValueError, match=message):
        check_test_cfg(test_cfg, 'SaliencyDetector')


def test_detectors_refuse_what_they_would_ignore():
    base = dict(type='SaliencyDetector', backbone=dict(type='ResNet', depth=18),
                neck=dict(type='R3NetNeck', in_channels=(64, 64, 128, 256, 512), channels=16),
                head=dict(type='R3NetHead', in_channels=16, channels=8, num_steps=2))
    with pytest.raises(ValueError, match='model.train_cfg is not read'):
        MODELS.build(dict(base, train_cfg=dict(max_iters=3)))
    with pytest.raises(ValueError, match='unknown test_cfg key'):
        MODELS.build(dict(base, test_cfg=dict(mode='whole', fp16=True)))
    with pytest.raises(ValueError, match="test_cfg.mode must be one of \\('whole',\\)"):
        MODELS.build(dict(type='RefinedDetector', first_stage=base,
                          refiner=dict(type='BoundaryRefinementNet', kernel_size=3,
                                       channels=(4, 4, 4, 4, 4, 4)),
                          test_cfg=dict(mode='slide', crop_size=8, stride=8)))


def test_export_refuses_sliding_windows():
    import importlib.util
    spec = importlib.util.spec_from_file_location(
        'salbox_pytorch2onnx', osp.join(REPO, 'tools/deployment/pytorch2onnx.py'))
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    model = init_model(R3NET, cfg_options={
        'model.test_cfg': dict(mode='slide', crop_size=64, stride=32)})
    with pytest.raises(tool.SalboxError, match='model.test_cfg=None'):
        tool.DetectorForExport(model)
    tool.DetectorForExport(init_model(R3NET))  # whole-image models export as before
