"""MI promoter (LDPS): formulas, the label-free fit on corrupted priors, no ground truth read,
the no-anchor fallback, the post-processor chain with DenseCRF, online mode, tool errors."""
import importlib.util
import os.path as osp
import shutil
import warnings

import cv2
import numpy as np
import pytest
import py_sod_metrics as sod
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.structures import PixelData

import salbox.datasets.prior_dataset as prior_dataset
from salbox.datasets.prior_dataset import PriorMapDataset, corrupt_prior
from salbox.datasets.synthetic import render_sample
from salbox.models.promoters import (MIPromoter, build_promoter, confidence_merge,
                                     foreground_anchor, minmax_normalise, pair_targets,
                                     promote_online, save_promoter)
from salbox.registry import MODELS
from salbox.structures import SalDataSample

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
SMALL = dict(type='MIRelationNet', backbone=dict(type='MobileNetV2', out_indices=(0, 3)),
             test_bn_stats='image')


BASE = osp.join(REPO, 'configs/mi_promoter/mi_promoter_mobilenetv2_duts-te_picanet.py')


def write_config(path, extra=''):
    """A small promoter config on the paper recipe's base: its schedule, pipeline and data
    loader, with SMALL's network, lr 1e-2 for every part, no worker processes."""
    path.write_text(f'_base_ = [{BASE!r}]\n'
                    f'model = dict(_delete_=True, **{SMALL!r})\n'
                    'optim_wrapper = dict(optimizer=dict(lr=1e-2), paramwise_cfg=dict('
                    'custom_keys={"backbone": dict(lr_mult=1.0)}))\n'
                    'train_dataloader = dict(num_workers=0, persistent_workers=False)\n'
                    'randomness = dict(seed=0)\n'
                    'default_hooks = dict(logger=dict(interval=10))\n' + extra)
    return path


def load_tool():
    spec = importlib.util.spec_from_file_location('promote_tool', osp.join(REPO, 'tools',
                                                                           'promote.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def write_set(root, num, size, seed=5):
    """images/, priors/ (corrupted masks) and masks/ of ``num`` synthetic samples."""
    for sub in ('images', 'priors', 'masks'):
        (root / sub).mkdir(parents=True, exist_ok=True)
    masks = {}
    for i in range(num):
        img, mask = render_sample(i, seed=seed, img_size=(size, size))
        stem = f'{i:03d}'
        cv2.imwrite(str(root / 'images' / f'{stem}.jpg'), img, [cv2.IMWRITE_JPEG_QUALITY, 95])
        cv2.imwrite(str(root / 'masks' / f'{stem}.png'), mask)
        prior = corrupt_prior(mask, seed=i)
        cv2.imwrite(str(root / 'priors' / f'{stem}.png'), np.rint(prior * 255).astype(np.uint8))
        masks[stem] = mask
    return masks


def scores(folder, masks):
    mae, fm = sod.MAE(), sod.Fmeasure()
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        for stem, mask in masks.items():
            pred = cv2.imread(str(folder / f'{stem}.png'), cv2.IMREAD_GRAYSCALE)
            mae.step(pred, mask)
            fm.step(pred, mask)
        return mae.get_results()['mae'], float(fm.get_results()['fm']['curve'].max())


# ------------------------------------------------------------------------------ formulas
def test_anchor_is_prior_weighted_mean_over_fg_mask():
    feats = torch.arange(2 * 3 * 4, dtype=torch.float32).view(1, 2, 3, 4)
    prior = torch.tensor([[0.95, 0.2, 0.91, 0.0], [0.5, 1.0, 0.89, 0.3], [0.0] * 4]).view(
        1, 1, 3, 4)
    anchor, has = foreground_anchor(feats, prior, 0.9)
    f = feats[0].reshape(2, -1).numpy()
    s = prior.flatten().numpy()
    sel = s >= 0.9  # pixels 0, 2, 5
    expected = (f[:, sel] * s[sel]).sum(1) / s[sel].sum()
    assert has.tolist() == [True]
    np.testing.assert_allclose(anchor[0].numpy(), expected, rtol=1e-6)


def test_targets_merge_and_guards():
    prior = torch.tensor([0.85, 0.8, 0.5, 0.3, 0.1]).view(1, 1, 1, 5)
    target, valid = pair_targets(prior, 0.8, 0.3)
    assert target.flatten().tolist() == [1, 1, 0, 0, 0]
    assert valid.flatten().tolist() == [1, 1, 0, 1, 1]
    relation = torch.tensor([0.1, 0.3, 0.95, 0.5, 0.9])
    prior = torch.tensor([0.8, 0.7, 0.2, 0.5, 0.1])
    # Eq. 10-11: confidence max(s, 1-s); the prior wins ties (0.3 vs 0.7, 0.5 vs 0.5).
    assert confidence_merge(relation, prior).tolist() == pytest.approx(
        [0.1, 0.7, 0.95, 0.5, 0.1])
    flat = torch.full((1, 1, 4, 4), 0.4)
    assert torch.equal(minmax_normalise(flat), flat)
    anchor, has = foreground_anchor(torch.randn(1, 3, 4, 4), torch.full((1, 1, 4, 4), 0.5))
    assert not bool(has[0]) and torch.isfinite(anchor).all()


def test_discriminator_depths_and_loss_without_anchor_is_finite():
    for layers, convs in ((2, 2), (5, 5)):
        cfg = dict(SMALL, discriminator_layers=layers)
        model = build_promoter(cfg)
        assert sum(isinstance(m, torch.nn.Conv2d) for m in model.discriminator) == convs
    model.train()
    loss = model.loss_from_tensors(torch.randn(1, 3, 32, 32), torch.full((1, 1, 32, 32), 0.5))
    assert float(loss['loss_mi'].detach()) == 0.0
    loss['loss_mi'].backward()  # still differentiable


# ------------------------------------------------------------------------------ learning
def test_label_free_fit_improves_corrupted_priors_without_reading_masks(tmp_path, monkeypatch):
    """Priors with blurred edges, holes and false blobs; the masks are deleted from disk before
    the fit, and every file the data code opens is recorded: none is a mask."""
    masks = write_set(tmp_path, num=8, size=64)
    prior_mae, prior_f = scores(tmp_path / 'priors', masks)
    shutil.rmtree(tmp_path / 'masks')
    opened = []
    real_read = prior_dataset.read_image_file

    def spy(path, *args, **kwargs):
        opened.append(str(path))
        return real_read(path, *args, **kwargs)
    monkeypatch.setattr(prior_dataset, 'read_image_file', spy)
    config = write_config(tmp_path / 'promoter.py')
    out = tmp_path / 'out'
    load_tool().main([str(config), '--images', str(tmp_path / 'images'), '--priors',
                      str(tmp_path / 'priors'), '--out', str(out), '--fit-iters', '40'])
    assert opened and not any('masks' in p for p in opened)
    assert osp.isfile(out / 'promoter.pth')
    # The fit was the Runner's: its log and final checkpoint are in the work dir.
    assert osp.isfile(out / 'promoter_fit' / 'iter_40.pth')
    mae, max_f = scores(out, masks)
    assert mae < prior_mae - 0.01, (prior_mae, mae)
    assert max_f > prior_f + 0.02, (prior_f, max_f)
    # The fitted promoter run in bfloat16 gives the same maps up to rounding.
    out_bf16 = tmp_path / 'out_bf16'
    load_tool().main([str(config), '--images', str(tmp_path / 'images'), '--priors',
                      str(tmp_path / 'priors'), '--out', str(out_bf16), '--checkpoint',
                      str(out / 'promoter.pth'), '--precision', 'bf16'])
    diffs = [np.abs(cv2.imread(str(out / f'{stem}.png'), 0).astype(float)
                    - cv2.imread(str(out_bf16 / f'{stem}.png'), 0)).mean() / 255
             for stem in masks]
    assert max(diffs) < 0.01, diffs
    mae_bf16, max_f_bf16 = scores(out_bf16, masks)
    assert abs(mae_bf16 - mae) < 0.003 and abs(max_f_bf16 - max_f) < 0.01


def test_prior_dataset_never_lists_ground_truth(tmp_path):
    init_default_scope('salbox')
    write_set(tmp_path, num=2, size=32)
    pipeline = [dict(type='LoadSalImageFromFile'), dict(type='LoadPriorMap'),
                dict(type='PackPriorInputs')]
    ds = PriorMapDataset(data_root=str(tmp_path),
                         data_prefix=dict(img_path='images', prior_path='priors'),
                         pipeline=pipeline)
    infos = [ds.get_data_info(i) for i in range(len(ds))]
    assert len(infos) == 2 and all('gt_path' not in info and 'prior_path' in info
                                   for info in infos)
    item = ds[0]
    assert 'gt_sal_map' not in item['data_samples']
    assert item['data_samples'].prior_sal_map.data.shape == (1, 32, 32)
    model = build_promoter(SMALL).train()
    data = model.data_preprocessor(dict(inputs=[item['inputs']],
                                        data_samples=[item['data_samples']]), True)
    assert torch.isfinite(model(**data, mode='loss')['loss_mi'])
    with pytest.raises(ValueError, match='evaluation sets only'):
        PriorMapDataset(data_root=str(tmp_path), data_prefix=dict(img_path='images',
                        prior_path='priors'), gt_dir='masks')


# ------------------------------------------------------------------------------ inference
@pytest.fixture(scope='module')
def promoter_ckpt(tmp_path_factory):
    path = str(tmp_path_factory.mktemp('promoter') / 'promoter.pth')
    torch.manual_seed(0)
    return save_promoter(build_promoter(SMALL), path, SMALL)


def test_no_anchor_map_is_kept_with_a_warning(promoter_ckpt):
    post = MIPromoter(checkpoint=promoter_ckpt)
    image = torch.randint(0, 256, (3, 40, 48), dtype=torch.uint8)
    weak = torch.rand(1, 40, 48) * 0.85  # nothing reaches theta_fg = 0.9
    with pytest.warns(UserWarning, match='theta_fg'):
        out = post(image, weak)
    assert torch.equal(out, weak) and post.num_no_anchor == 1
    strong = weak.clone()
    strong[:, 10:20, 10:20] = 1.0
    out = post(image, strong)
    assert torch.isfinite(out).all() and out.min() == 0 and out.max() == 1
    assert post.num_no_anchor == 1
    half = MIPromoter(checkpoint=promoter_ckpt, precision='bf16')
    assert half.model.compute_dtype == torch.bfloat16
    out_half = half(image, strong)
    assert out_half.dtype == torch.float32 and (out_half - out).abs().mean() < 0.01


def test_r3net_promoter_densecrf_chain_from_config(promoter_ckpt):
    from salbox.models.postprocessors import DenseCRF
    cfg = Config.fromfile(osp.join(REPO, 'configs/mi_promoter/'
                                   'r3net_resnet18_mi-promoter_densecrf_synthetic.py'))
    cfg.model.postprocessors[0].checkpoint = promoter_ckpt
    assert [p['type'] for p in cfg.model.postprocessors] == ['MIPromoter', 'DenseCRF']
    model = MODELS.build(cfg.model).eval()
    img, mask = render_sample(0, seed=3, img_size=(64, 64))
    inputs = model.data_preprocessor(dict(inputs=[torch.from_numpy(img.transpose(2, 0, 1)
                                                                   .copy())]))['inputs']
    # An untrained R3Net is never confident; give it a map with an anchor (the chain is tested).
    logits = (torch.from_numpy(mask).float()[None, None] / 255 - 0.4) * 12
    model.final_logits = lambda *args, **kwargs: logits
    rgb = torch.from_numpy(img[:, :, ::-1].transpose(2, 0, 1).copy())
    sample = SalDataSample(metainfo=dict(ori_shape=(64, 64), img_shape=(64, 64)))
    sample.ori_img = PixelData(data=rgb)
    with torch.no_grad():
        sample = model.predict(inputs, [sample])[0]
    raw = logits[0].sigmoid()
    pred = sample.pred_sal_map.data
    promoted = model.postprocessors[0](rgb, raw)
    assert not torch.equal(promoted, raw)
    expected = DenseCRF()(rgb, promoted)
    assert pred.shape == (1, 64, 64) and torch.isfinite(pred).all()
    torch.testing.assert_close(pred, expected, atol=1 / 255 + 1e-6, rtol=0)
    # After DenseCRF is allowed too.
    after = MIPromoter(checkpoint=promoter_ckpt)(rgb, DenseCRF()(rgb, raw))
    assert after.shape == (1, 64, 64) and torch.isfinite(after).all()


def test_online_mode_fits_a_fresh_head_per_image(promoter_ckpt):
    post = MIPromoter(checkpoint=promoter_ckpt, online=True, online_iters=3)
    before = {k: v.clone() for k, v in post.model.state_dict().items()}
    img, mask = render_sample(1, seed=5, img_size=(48, 48))
    prior = torch.from_numpy(corrupt_prior(mask, seed=1))[None]
    rgb = torch.from_numpy(img[:, :, ::-1].transpose(2, 0, 1).copy())
    out = post(rgb, prior)
    assert out.shape == (1, 48, 48) and torch.isfinite(out).all()
    assert not torch.equal(out, prior)
    after = post.model.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)  # the template is untouched
    out2, has = promote_online(post.model, rgb, prior, iters=3)
    torch.testing.assert_close(out2, out)  # seeded: the same fresh head every time


# ------------------------------------------------------------------------------ tool errors
def test_tool_lists_missing_and_mismatched_priors(tmp_path, promoter_ckpt, capsys):
    write_set(tmp_path, num=4, size=32)
    (tmp_path / 'priors' / '001.png').unlink()
    cv2.imwrite(str(tmp_path / 'priors' / '002.png'), np.zeros((20, 32), np.uint8))
    config = write_config(tmp_path / 'promoter.py')
    args = [str(config), '--images', str(tmp_path / 'images'), '--priors',
            str(tmp_path / 'priors'), '--out', str(tmp_path / 'out'),
            '--checkpoint', promoter_ckpt]
    tool = load_tool()
    with pytest.raises(SystemExit) as exc:
        tool.main(args)
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert '001.jpg' in err and '002.png 32x20 vs 002.jpg 32x32' in err
    assert not (tmp_path / 'out' / '000.png').exists()  # nothing was done halfway
    tool.main(args + ['--skip-missing'])
    assert sorted(p.name for p in (tmp_path / 'out').iterdir()) == ['000.png', '003.png']


def test_priors_from_the_promoters_own_first_stage(tmp_path):
    """A salbox detector as prior source is the promoter's frozen first stage (not a data
    transform): the dataset lists images only, the model makes the priors from its inputs."""
    from salbox.utils.checkpoint import load_checkpoint_file
    init_default_scope('salbox')
    write_set(tmp_path, num=2, size=48)
    first_stage = dict(config=osp.join(REPO, 'configs/r3net/r3net_resnet18_synthetic.py'),
                       checkpoint=None, cfg_options={'model.postprocessors': []})
    pipeline = [dict(type='LoadSalImageFromFile'), dict(type='LoadPriorMap'),
                dict(type='PackPriorInputs')]
    ds = PriorMapDataset(data_root=str(tmp_path), data_prefix=dict(img_path='images'),
                         priors_from_model=True, pipeline=pipeline)
    info = ds.get_data_info(0)
    assert info['img_path'] == str(tmp_path / 'images' / '000.jpg') and 'prior_path' not in info
    item = ds[0]
    assert 'prior_sal_map' not in item['data_samples']
    model = MODELS.build(dict(SMALL, first_stage=first_stage))
    model.init_weights()
    assert not any(p.requires_grad for p in model.first_stage.parameters())
    model.train()
    assert not model.first_stage.training
    batch = model.data_preprocessor(dict(inputs=[item['inputs']],
                                         data_samples=[item['data_samples']]), False)
    losses = model.loss(batch['inputs'], batch['data_samples'])
    assert torch.isfinite(sum(v for k, v in losses.items() if 'loss' in k))
    model.eval()
    out = model.predict(batch['inputs'], batch['data_samples'])[0]
    prior = out.prior_sal_map.data
    assert prior.shape == (1, 48, 48) and 0 <= float(prior.min()) <= float(prior.max()) <= 1
    assert out.pred_sal_map.data.shape == (1, 48, 48)
    # Its weights come from model.first_stage.checkpoint in init_weights (checked loading).
    ckpt = tmp_path / 'first.pth'
    torch.save(dict(state_dict=model.first_stage.state_dict()), ckpt)
    other = MODELS.build(dict(SMALL, first_stage=dict(first_stage, checkpoint=str(ckpt))))
    other.init_weights()
    for key, value in load_checkpoint_file(str(ckpt))['state_dict'].items():
        assert torch.equal(other.first_stage.state_dict()[key], value)
    # Applied to given priors (tools/promote.py, MIPromoter) the promoter needs no first stage:
    # a Runner checkpoint holding one loads without it.
    from salbox.models.promoters.fitting import load_promoter
    from salbox.utils.checkpoint import stamp_checkpoint
    trained = tmp_path / 'promoter.pth'
    torch.save(stamp_checkpoint(dict(state_dict=model.state_dict()),
                                dict(SMALL, first_stage=first_stage)), trained)
    loaded = load_promoter(str(trained))
    assert loaded.first_stage is None
    assert torch.equal(loaded.aspp.fuse.conv.weight, model.aspp.fuse.conv.weight)
    # Another data preprocessing than the promoter's is refused in one line.
    with pytest.raises(ValueError, match="promoter's data preprocessing"):
        MODELS.build(dict(SMALL, first_stage=first_stage,
                          data_preprocessor=dict(type='SalDataPreProcessor', bgr_to_rgb=False)))


@pytest.mark.parametrize('name', ['mi_promoter_mobilenetv2_duts-te_picanet.py',
                                  'mi_promoter_mobilenetv2_synthetic.py',
                                  'mi_promoter_efficientnet-lite0_224.py',
                                  'mi_promoter_efficientnet-lite0_128.py',
                                  'mi_promoter_efficientnet-lite0_128_crop.py'])
def test_promoter_configs_build(name):
    cfg = Config.fromfile(osp.join(REPO, 'configs/mi_promoter', name))
    model = build_promoter(cfg.model.to_dict())  # init_cfg is not run here
    assert model.aspp.reduce[0].conv.in_channels == 472 or 'synthetic' in name
    assert 'gt_dir' not in cfg.train_dataloader.dataset
    assert cfg.val_dataloader.dataset.test_mode
    assert cfg.default_hooks.checkpoint.save_best == 'maxF'
    if 'synthetic' in name:  # the weak detector is the promoter's own first stage
        assert cfg.train_dataloader.dataset.priors_from_model
        assert MODELS.build(cfg.model).first_stage is not None


def test_tool_fit_runs_the_configs_pipeline_schedule_and_options(tmp_path, monkeypatch):
    """tools/promote.py's fit is the config's Runner training: --cfg-options reach the model,
    the crop config's augmentation runs on image and prior alike, --fit-iters stretches the
    poly schedule, and the official prior filter drops priors without an anchor."""
    from salbox.datasets.transforms import geometric
    write_set(tmp_path, num=4, size=32)
    cv2.imwrite(str(tmp_path / 'priors' / '003.png'), np.full((32, 32), 100, np.uint8))
    crop = ('train_pipeline = [dict(type="LoadSalImageFromFile"), dict(type="LoadPriorMap"), '
            'dict(type="RandomRelativeCrop", min_scale=0.6), dict(type="RandomFlip", '
            'prob=0.5), dict(type="PackPriorInputs")]\n'
            'train_dataloader = dict(num_workers=0, persistent_workers=False, '
            'dataset=dict(pipeline=train_pipeline))\n')
    config = write_config(tmp_path / 'promoter.py', crop)
    cropped = []
    real_crop = geometric._crop_all

    def spy(results, top, left, height, width):
        assert results['prior_sal_map'].shape == results['img'].shape[:2]
        real_crop(results, top, left, height, width)
        cropped.append(results['prior_sal_map'].shape == results['img'].shape[:2] == (
            height, width))
    monkeypatch.setattr(geometric, '_crop_all', spy)
    load_tool().main([str(config), '--images', str(tmp_path / 'images'), '--priors',
                      str(tmp_path / 'priors'), '--out', str(tmp_path / 'out'),
                      '--fit-iters', '3', '--cfg-options', 'model.input_size=(24,24)'])
    assert cropped and all(cropped)
    ckpt = torch.load(str(tmp_path / 'out' / 'promoter.pth'), weights_only=True)
    assert tuple(ckpt['meta']['promoter_cfg']['input_size']) == (24, 24)
    assert ckpt['meta']['fit_iters'] == 3
    assert sorted(p.name for p in (tmp_path / 'out').glob('*.png')) == [
        '000.png', '001.png', '002.png', '003.png']
    log = next((tmp_path / 'out' / 'promoter_fit').glob('*/*.log')).read_text()
    assert '3 of 4 pairs kept' in log
    runner_ckpt = torch.load(str(tmp_path / 'out' / 'promoter_fit' / 'iter_3.pth'),
                             weights_only=False)
    poly = runner_ckpt['param_schedulers'][0]
    assert poly['end'] == 3 and poly['begin'] == 0


def test_fit_config_replaces_only_the_training_set(tmp_path):
    from salbox.apis.promoter_fit import label_free_fit_config
    from salbox.utils.errors import SalboxError
    cfg = Config.fromfile(osp.join(REPO, 'configs/mi_promoter/'
                                   'mi_promoter_efficientnet-lite0_128_crop.py'))
    fit = label_free_fit_config(cfg, 'imgs', 'maps', resize_priors=True, max_iters=7)
    dataset = fit.train_dataloader.dataset
    assert dataset.data_prefix == dict(img_path='imgs', prior_path='maps')
    assert dataset.filter_cfg == dict(theta_fg=0.9, theta_abg=0.3)
    assert [t['type'] for t in dataset.pipeline] == [t['type'] for t in cfg.train_pipeline]
    assert dataset.pipeline[1] == dict(type='LoadPriorMap', resize=True)
    assert fit.optim_wrapper == cfg.optim_wrapper  # the schedule is the config's
    assert fit.train_cfg.max_iters == 7 and fit.param_scheduler[0]['end'] == 7
    assert fit.val_dataloader is None and fit.test_dataloader is None
    assert 'save_best' not in fit.default_hooks.checkpoint
    assert cfg.train_cfg.max_iters == 2000  # the config itself is untouched
    (tmp_path / 'bare.py').write_text("model = dict(type='MIRelationNet')\n")
    with pytest.raises(SalboxError, match='bare.py: no train_dataloader, optim_wrapper'):
        label_free_fit_config(Config.fromfile(tmp_path / 'bare.py'), 'imgs', 'maps')


def test_prior_filter_is_the_official_prior_check(tmp_path):
    init_default_scope('salbox')
    write_set(tmp_path, num=3, size=16)
    cv2.imwrite(str(tmp_path / 'priors' / '000.png'), np.full((16, 16), 200, np.uint8))
    flat = np.zeros((16, 16), np.uint8)
    flat[:4, :4] = 255
    cv2.imwrite(str(tmp_path / 'priors' / '001.png'), flat)
    ds = PriorMapDataset(data_root=str(tmp_path),
                         data_prefix=dict(img_path='images', prior_path='priors'),
                         filter_cfg=dict(theta_fg=0.9, theta_abg=0.3))
    # 000: no pixel >= 0.9; 001: an anchor and negatives; 002: a corrupted mask, both
    assert [osp.basename(ds.get_data_info(i)['img_path']) for i in range(len(ds))] == [
        '001.jpg', '002.jpg']
    with pytest.raises(ValueError, match='theta_fg and theta_abg'):
        PriorMapDataset(data_root=str(tmp_path), data_prefix=dict(img_path='images',
                        prior_path='priors'), filter_cfg=dict(theta=0.9))


def test_relative_crop_and_flip_move_image_and_prior_alike():
    from salbox.datasets.transforms import RandomFlip, RandomRelativeCrop
    rows, cols = np.meshgrid(np.arange(60), np.arange(80), indexing='ij')
    image = np.stack([rows, cols, rows * 0], axis=-1).astype(np.uint8)
    prior = ((rows * 80 + cols) / (60 * 80)).astype(np.float32)
    same = RandomRelativeCrop(1.0)(dict(img=image, prior_sal_map=prior))
    assert same['img'] is image and same['prior_sal_map'] is prior
    np.random.seed(3)
    crop, flip, flipped = RandomRelativeCrop(0.5), RandomFlip(0.5), 0
    for _ in range(40):
        out = flip(crop(dict(img=image.copy(), prior_sal_map=prior.copy())))
        img, pri = out['img'], out['prior_sal_map']
        h, w = img.shape[:2]
        assert pri.shape == (h, w) and 30 <= h <= 60 and 40 <= w <= 80
        # every pixel of the prior still sits under the image pixel it came from
        np.testing.assert_allclose(pri, (img[..., 0] * 80.0 + img[..., 1]) / (60 * 80),
                                   rtol=1e-6)
        flipped += int(out['flip'])
    assert 5 < flipped < 35
    with pytest.raises(ValueError, match='min_scale'):
        RandomRelativeCrop(0.0)


def test_predict_undoes_the_pipelines_flip_and_dispatches_modes():
    """A view the pipeline flipped (image and prior) comes back in the photo's orientation."""
    torch.manual_seed(0)
    model = build_promoter(SMALL).eval()
    image = torch.rand(1, 3, 40, 48)
    prior = torch.rand(1, 40, 48) * 0.85  # no anchor: the prior comes back unchanged
    flipped = SalDataSample(metainfo=dict(img_shape=(40, 48), ori_shape=(40, 48), flip=True,
                                          flip_direction='horizontal'))
    flipped.prior_sal_map = PixelData(data=prior.flip(-1))
    out = model(image.flip(-1), [flipped], mode='predict')[0]
    assert torch.equal(out.pred_sal_map.data, prior)
    strong = prior.clone()
    strong[:, 10:20, 5:15] = 1.0  # an anchor, off-centre: the promoted map depends on the flip
    plain = SalDataSample(metainfo=dict(img_shape=(40, 48), ori_shape=(40, 48)))
    plain.prior_sal_map = PixelData(data=strong.flip(-1))
    flipped.prior_sal_map = PixelData(data=strong.flip(-1))
    as_seen = model(image.flip(-1), [plain], mode='predict')[0].pred_sal_map.data
    restored = model(image.flip(-1), [flipped], mode='predict')[0].pred_sal_map.data
    assert not torch.equal(as_seen, as_seen.flip(-1))
    assert torch.equal(restored, as_seen.flip(-1))
    features = model(image, mode='tensor')
    assert torch.equal(features[0], model.relation_features(image)[0])
    with pytest.raises(RuntimeError, match='Invalid mode'):
        model(image, mode='train')
