"""Write a config's samples, after its pipeline, as image | mask panels (MMSeg's
``browse_dataset.py``): check the augmentation before a long training run.

    python tools/analysis_tools/browse_dataset.py configs/r3net/r3net_resnet18_synthetic.py \\
        --output-dir work_dirs/browse --num 8
    python tools/analysis_tools/browse_dataset.py CONFIG --phase test --output-dir browse_test

``--phase train`` (default) takes ``train_dataloader.dataset`` (random augmentation: run it twice
and the panels differ), ``--phase test`` takes ``test_dataloader.dataset``. Each panel shows the
image the model receives (after crop/flip/rotation/resize, in RGB) and its mask, through the
config's visualizer (``SalLocalVisualizer``). Files: ``OUTPUT_DIR/<index>_<stem>.png``.
"""
import argparse
import os
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

import numpy as np  # noqa: E402
from mmengine.config import DictAction  # noqa: E402

from salbox.apis.runner_utils import load_config, run_friendly  # noqa: E402
from salbox.utils.errors import SalboxError  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Write pipeline outputs as image | mask panels')
    parser.add_argument('config', help='config file')
    parser.add_argument('--output-dir', default='work_dirs/browse_dataset',
                        help='folder for the panels')
    parser.add_argument('--num', type=int, default=10, help='how many samples (from the start)')
    parser.add_argument('--phase', choices=['train', 'test', 'val'], default='train',
                        help='which dataloader\'s data set and pipeline')
    parser.add_argument('--show', action='store_true', help='also show each panel (needs a display)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, metavar='KEY=VALUE',
                        help='override config settings')
    return parser.parse_args(argv)


def _to_rgb(inputs) -> np.ndarray:
    """The packed input (3, H, W), BGR as the loaders decode it, as RGB uint8 (H, W, 3)."""
    image = inputs.detach().cpu().numpy().transpose(1, 2, 0)
    if image.dtype != np.uint8:
        image = np.clip(image, 0, 255).round().astype(np.uint8)
    if image.shape[2] == 1:
        image = np.repeat(image, 3, axis=2)
    return np.ascontiguousarray(image[..., ::-1])


def main(argv=None):
    args = parse_args(argv)
    cfg = load_config(args.config, args.cfg_options)
    from mmengine.registry import init_default_scope

    from salbox.registry import DATASETS, VISUALIZERS
    init_default_scope(cfg.get('default_scope', 'salbox'))
    loader = cfg.get(f'{args.phase}_dataloader')
    if not loader or 'dataset' not in loader:
        raise SalboxError(f'{args.config} has no {args.phase}_dataloader.dataset')
    dataset = DATASETS.build(loader['dataset'])
    visualizer_cfg = dict(cfg.get('visualizer') or dict(type='SalLocalVisualizer'))
    visualizer_cfg.update(type='SalLocalVisualizer', name='browse_dataset', vis_backends=None,
                          save_dir=None, overlay=False)
    visualizer = VISUALIZERS.build(visualizer_cfg)
    os.makedirs(args.output_dir, exist_ok=True)
    count = min(args.num, len(dataset))
    for index in range(count):
        item = dataset[index]
        sample = item['data_samples']
        stem = osp.splitext(osp.basename(sample.metainfo.get('img_path', '') or 'sample'))[0]
        out_file = osp.join(args.output_dir, f'{index:04d}_{stem}.png')
        visualizer.add_datasample(stem, _to_rgb(item['inputs']), sample, draw_gt=True,
                                  draw_pred=False, show=args.show, out_file=out_file)
    print(f'wrote {count} panels to {args.output_dir}')


if __name__ == '__main__':
    run_friendly(main)
