"""Every detector, post-processor and the TTA merge on CUDA give the CPU's maps.

Skipped where torch sees no CUDA device (CI); ``tools/gpu_check.sh`` runs them on a GPU. The
same random weights run on both devices with TF32 off, so the network's maps agree to float32
rounding; post-processors that binarise or quantise (DenseCRF) are compared by device, shape and
mean difference only.
"""
import os.path as osp

import numpy as np
import pytest
import torch

from salbox.apis.inference import inference_model, init_model

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(),
                                reason='no CUDA device (tools/gpu_check.sh runs these on a GPU)')

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIGS = [
    'configs/r3net/r3net_resnet18_synthetic.py',
    'configs/arn/arn_vgg16_synthetic.py',
    'configs/dgrl/dgrl_rln_r18_synthetic.py',
    'configs/dgrl/dgrl_rln_r18_brn_synthetic.py',
]


@pytest.fixture(autouse=True)
def exact_float32():
    """TF32 convolutions and matrix products round to 10 bits: keep CUDA in float32."""
    saved = torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32
    torch.backends.cudnn.allow_tf32 = torch.backends.cuda.matmul.allow_tf32 = False
    yield
    torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32 = saved


def photo(height=150, width=170, seed=0):
    """A smooth BGR photo with a bright blob, uint8 (H, W, 3)."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:height, :width]
    blob = np.exp(-((yy - height * 0.45) ** 2 + (xx - width * 0.55) ** 2) / (0.05 * height * width))
    image = 60 + 150 * blob[..., None] + rng.normal(0, 10, (height, width, 3))
    return np.clip(image, 0, 255).astype(np.uint8)


def pair(config, cfg_options=None, tta=False):
    """The config's model on the CPU and on CUDA, with the same random weights."""
    torch.manual_seed(0)
    cpu = init_model(osp.join(REPO, config), None, cfg_options=cfg_options, tta=tta)
    gpu = init_model(osp.join(REPO, config), None, device='cuda', cfg_options=cfg_options,
                     tta=tta)
    gpu.load_state_dict(cpu.state_dict())
    return cpu, gpu


def maps(model, image):
    return inference_model(model, image).pred_sal_map.data


@pytest.mark.parametrize('config', CONFIGS)
def test_network_maps_agree(config):
    cpu, gpu = pair(config, cfg_options={'model.postprocessors': []}
                    if 'brn' not in config else None)
    image = photo()
    expected, got = maps(cpu, image), maps(gpu, image)
    assert got.is_cuda and got.shape == expected.shape == (1, *image.shape[:2])
    torch.testing.assert_close(got.cpu(), expected, atol=2e-4, rtol=0)


def test_dense_crf_after_a_cuda_detector():
    """R3Net's DenseCRF gets the CUDA map and image, runs on the CPU, and hands back a CUDA map."""
    cpu, gpu = pair('configs/r3net/r3net_resnet18_synthetic.py')
    assert [type(p).__name__ for p in gpu.postprocessors] == ['DenseCRF']
    image = photo()
    expected, got = maps(cpu, image), maps(gpu, image)
    assert got.is_cuda and got.dtype == torch.float32 and got.shape == expected.shape
    assert 0 <= got.min() and got.max() <= 1
    assert (got.cpu() - expected).abs().mean() < 0.01


@pytest.mark.parametrize('config', ['configs/r3net/r3net_resnet18_synthetic.py',
                                    'configs/dgrl/dgrl_rln_r18_brn_synthetic.py'])
def test_tta_merge_on_cuda(config):
    """Flip + multi-scale TTA (the config's tta_model) merges CUDA views like CPU views; the
    post-processors run once, on the merged map."""
    cpu, gpu = pair(config, tta=True)
    image = photo(131, 97)
    expected, got = maps(cpu, image), maps(gpu, image)
    assert got.is_cuda and got.shape == expected.shape == (1, 131, 97)
    assert (got.cpu() - expected).abs().mean() < 0.01


def test_mi_promoter_post_processor_on_cuda(tmp_path):
    """An MI promoter checkpoint (random relation network) promotes a CUDA map like a CPU map;
    the prior is a blob whose core passes theta_fg, so the relation network really runs."""
    import copy

    from mmengine.config import Config

    from salbox.registry import MODELS
    promoter_cfg = Config.fromfile(osp.join(REPO, 'configs/mi_promoter/'
                                            'mi_promoter_mobilenetv2_synthetic.py'))
    torch.manual_seed(0)
    path = str(tmp_path / 'promoter.pth')
    torch.save(dict(state_dict=MODELS.build(promoter_cfg.model).state_dict(), meta=dict()), path)
    cpu = MODELS.build(dict(type='MIPromoter', checkpoint=path,
                            model=promoter_cfg.model.to_dict()))
    gpu = copy.deepcopy(cpu).to('cuda')
    image = torch.from_numpy(photo()[..., ::-1].transpose(2, 0, 1).copy())
    yy, xx = torch.meshgrid(torch.linspace(-1, 1, 150), torch.linspace(-1, 1, 170),
                            indexing='ij')
    prior = torch.exp(-(yy ** 2 + xx ** 2) * 4)[None]
    expected = cpu.postprocess(image, prior)
    got = gpu.postprocess(image.to('cuda'), prior.to('cuda'))
    assert cpu.num_no_anchor == gpu.num_no_anchor == 0
    assert got.is_cuda and got.shape == expected.shape == (1, 150, 170)
    torch.testing.assert_close(got.cpu(), expected, atol=1e-3, rtol=0)
