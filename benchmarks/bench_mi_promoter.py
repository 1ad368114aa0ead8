"""MI promoter inference per 256x256 image on the CPU, next to DenseCRF on the same images.

Both are post-processors of a saliency map (LDPS, Chen et al., AAAI 2020, Sec. 5.4 compares them;
the paper reports 90+ fps without TensorRT on a GTX 1080 at 256x256). Each image's time is the
median over ``--repeats`` runs; the reported figure is the ratio promoter / DenseCRF (< 1 means
the promoter is faster), measured in the same run and thread count so it compares across
machines. Absolute milliseconds are printed for the record.

Promoter variants: the LDPS model (MobileNetV2 taps 0/3/13/17, code-faithful 2-layer
discriminator), the same with the paper's 5-layer discriminator, the same with the network run
at 128x128 (``input_size``; the merge with the prior stays at 256x256), and the
EfficientNet-Lite0 variant; the per-image online mode (10 iterations at lr 0.2) is timed too (``--online``).
DenseCRF uses R3Net's parameters (one mean-field iteration, salbox's default).

    OMP_NUM_THREADS=1 python benchmarks/bench_mi_promoter.py [--images 4] [--repeats 3]
"""
import argparse
import os.path as osp
import statistics
import sys
import time

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

import torch  # noqa: E402

from salbox.datasets.prior_dataset import corrupt_prior  # noqa: E402
from salbox.datasets.synthetic import render_sample  # noqa: E402
from salbox.models.postprocessors import DenseCRF  # noqa: E402
from salbox.models.promoters import build_promoter, promote_online  # noqa: E402

VARIANTS = {
    'LDPS MobileNetV2, 2-layer discriminator (code)':
    dict(type='MIRelationNet', backbone=dict(type='MobileNetV2')),
    'LDPS MobileNetV2, 5-layer discriminator (paper)':
    dict(type='MIRelationNet', backbone=dict(type='MobileNetV2'), discriminator_layers=5),
    'LDPS MobileNetV2, network input 128x128 (chosen)':
    dict(type='MIRelationNet', backbone=dict(type='MobileNetV2'), input_size=(128, 128)),
    'EfficientNet-Lite0 taps 0/1/3/4':
    dict(type='MIRelationNet',
         data_preprocessor=dict(type='SalDataPreProcessor', mean=[127.0] * 3, std=[128.0] * 3),
         backbone=dict(type='EfficientNetLite', arch='lite0', out_indices=(0, 1, 3, 4))),
}


def per_image_seconds(fn, pairs, repeats: int) -> float:
    fn(*pairs[0])  # warm-up
    times = []
    for image, prior in pairs:
        runs = []
        for _ in range(repeats):
            start = time.perf_counter()
            fn(image, prior)
            runs.append(time.perf_counter() - start)
        times.append(statistics.median(runs))
    return statistics.mean(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--size', type=int, default=256)
    parser.add_argument('--images', type=int, default=4)
    parser.add_argument('--repeats', type=int, default=3)
    parser.add_argument('--online', action='store_true', help='also time the online mode')
    args = parser.parse_args()
    torch.manual_seed(0)
    pairs = []
    for i in range(args.images):
        img, mask = render_sample(i, seed=11, img_size=(args.size, args.size))
        rgb = torch.from_numpy(img[:, :, ::-1].transpose(2, 0, 1).copy())
        pairs.append((rgb, torch.from_numpy(corrupt_prior(mask, seed=i))[None]))

    crf = DenseCRF()
    t_crf = per_image_seconds(lambda image, prior: crf(image, prior), pairs, args.repeats)
    print(f'{args.images} images {args.size}x{args.size}, torch threads '
          f'{torch.get_num_threads()}, median of {args.repeats} runs per image')
    print(f'{"DenseCRF (R3Net parameters, 1 iteration)":52s} {1000 * t_crf:8.1f} ms  '
          f'ratio 1.00 (reference)')
    for name, cfg in VARIANTS.items():
        model = build_promoter(cfg).eval()
        with torch.no_grad():
            t = per_image_seconds(lambda image, prior: model.promote(image, prior), pairs,
                                  args.repeats)
        print(f'{name:52s} {1000 * t:8.1f} ms  ratio {t / t_crf:5.2f}')
        if args.online and 'code' in name:
            t_on = per_image_seconds(
                lambda image, prior: promote_online(model, image, prior, 10, 0.2), pairs, 1)
            print(f'{"  online mode (10 iterations, lr 0.2)":52s} {1000 * t_on:8.1f} ms  '
                  f'ratio {t_on / t_crf:5.2f}')


if __name__ == '__main__':
    main()
