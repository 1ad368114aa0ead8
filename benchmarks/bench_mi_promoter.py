"""MI promoter inference per 256x256 photo on the CPU, next to DenseCRF on the same photos.

Both are post-processors of a saliency map (LDPS, Chen et al., AAAI 2020, Sec. 5.4 compares them;
the paper reports 90+ fps without TensorRT on a GTX 1080 at 256x256). The reported figure is the
ratio promoter / DenseCRF (< 1 means the promoter is faster), measured in the same run, so it
compares across machines; absolute milliseconds are printed for the record. Each photo's time is
the median over ``--repeats`` runs, the figure the mean over the photos.

Photos: the colour photos shipped with scikit-image (astronaut, chelsea, coffee, ...), or the
images of ``--images-dir`` (e.g. a PASCAL-S folder), resized to ``--size``. DenseCRF's cost
depends on the photo (its permutohedral lattice grows with the number of distinct colours), so
real photos are used, not rendered shapes. The prior is the centre prior for both.

Rows:
* DenseCRF with R3Net's parameters (one mean-field iteration, salbox's default); pydensecrf runs
  on one thread whatever ``--threads`` says.
* The promoter as ``MIPromoter`` and ``tools/promote.py`` run it (``inference_copy``: BatchNorm
  folded, fusion and discriminator in their factored forms), for the LDPS MobileNetV2 model at
  the native resolution (the default), with the network at 128x128 (merge at 256x256), with the
  paper's 5-layer discriminator, and the EfficientNet-Lite0 variant at 224x224 and 128x128
  (with each image's BatchNorm statistics, as its configs set, so its BatchNorm is not folded).
* ``bf16``: each variant's copy made with ``inference_copy(model, 'bf16')`` (network in
  bfloat16, channels-last; fast only on CPUs with bfloat16 units, which the header names), and
  how far its promoted maps are from float32 (mean and max absolute difference over the photos).
  The model is randomly initialised here; ``configs/mi_promoter/README.md`` compares the two
  precisions on real fitted promoters and PASCAL-S.
* ``explicit layers``: the same LDPS model computed as the layers are written (472-channel
  concatenation, 1x1 conv on it, concatenated pairs, BatchNorm unfolded): the speed-up of the
  factored forms, which give the same numbers.
* ``--online``: the per-image online mode (10 iterations at lr 0.2).

    OMP_NUM_THREADS=1 python benchmarks/bench_mi_promoter.py [--threads 1] [--repeats 3]
"""
import argparse
import glob
import os
import os.path as osp
import statistics
import sys
import time
import types

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

import cv2  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

from salbox.models.postprocessors import DenseCRF  # noqa: E402
from salbox.models.promoters import (build_promoter, fuse_taps, inference_copy,  # noqa: E402
                                     promote_online)
from salbox.utils.cpu_features import bf16_units  # noqa: E402

LDPS = dict(type='MIRelationNet', backbone=dict(type='MobileNetV2'))
LITE0 = dict(type='MIRelationNet', input_size=(224, 224), test_bn_stats='image',  # as its configs
             data_preprocessor=dict(type='SalDataPreProcessor', mean=[127.0] * 3, std=[128.0] * 3),
             backbone=dict(type='EfficientNetLite', arch='lite0', out_indices=(0, 1, 3, 4)))
VARIANTS = {
    'LDPS MobileNetV2, native resolution (default)': LDPS,
    'LDPS MobileNetV2, network at 128x128': dict(LDPS, input_size=(128, 128)),
    'LDPS MobileNetV2, 5-layer discriminator (paper)': dict(LDPS, discriminator_layers=5),
    'EfficientNet-Lite0 taps 0/1/3/4, network at 224x224': LITE0,
    'EfficientNet-Lite0 taps 0/1/3/4, network at 128x128': dict(LITE0, input_size=(128, 128)),
}
SKIMAGE_PHOTOS = ('astronaut', 'chelsea', 'coffee', 'motorcycle_left', 'rocket',
                  'hubble_deep_field', 'retina', 'coins')


def photo_paths(images_dir, count):
    if images_dir:
        paths = sorted(glob.glob(osp.join(images_dir, '*.jpg')) +
                       glob.glob(osp.join(images_dir, '*.png')))
    else:
        import skimage
        data = osp.join(osp.dirname(skimage.__file__), 'data')
        paths = [p for name in SKIMAGE_PHOTOS for p in glob.glob(osp.join(data, name + '.*'))]
    if not paths:
        sys.exit(f'no photos found in {images_dir or "scikit-image data"}')
    return paths[:count]


def load_pairs(paths, size):
    yy, xx = np.mgrid[:size, :size].astype(np.float64)
    centre = np.exp(-0.5 * (((yy - (size - 1) / 2) / (size / 4)) ** 2 +
                            ((xx - (size - 1) / 2) / (size / 4)) ** 2)).astype(np.float32)
    prior = torch.from_numpy(centre)[None]
    pairs = []
    for path in paths:
        bgr = cv2.imread(path, cv2.IMREAD_COLOR)
        bgr = cv2.resize(bgr, (size, size), interpolation=cv2.INTER_AREA)
        pairs.append((torch.from_numpy(bgr[:, :, ::-1].transpose(2, 0, 1).copy()), prior))
    return pairs


def explicit_layers(model):
    """The same model computed layer by layer as written: concatenated taps -> 1x1 conv,
    concatenated [anchor, pixel] pairs, BatchNorm unfolded."""
    model = model.eval()

    def head_features(self, taps):
        feats = self.aspp(fuse_taps(taps, self.align_corners))
        return self.certain_transformer(feats), self.all_transformer(feats)

    def pairs(self, anchor, pixels, anchor_first=True):
        anchor = anchor[:, :, None, None].expand_as(pixels)
        return self(torch.cat([anchor, pixels] if anchor_first else [pixels, anchor], dim=1))

    model.head_features = types.MethodType(head_features, model)
    model.discriminator.pairs = types.MethodType(pairs, model.discriminator)
    return model


def per_photo_seconds(fn, pairs, repeats):
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
    parser.add_argument('--images', type=int, default=8, help='number of photos')
    parser.add_argument('--images-dir', help='photos to use instead of scikit-image\'s')
    parser.add_argument('--repeats', type=int, default=3)
    parser.add_argument('--threads', type=int, default=1, help='torch threads of the promoter')
    parser.add_argument('--online', action='store_true', help='also time the online mode')
    parser.add_argument('--no-bf16', dest='bf16', action='store_false',
                        help='skip the bfloat16 rows')
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    pairs = load_pairs(photo_paths(args.images_dir, args.images), args.size)

    crf = DenseCRF()
    t_crf = per_photo_seconds(lambda image, prior: crf(image, prior), pairs, args.repeats)
    print(f'{len(pairs)} photos at {args.size}x{args.size}, promoter on {args.threads} torch '
          f'thread(s), median of {args.repeats} runs per photo, load average '
          f'{os.getloadavg()[0]:.1f}, CPU bfloat16 units: {bf16_units()}')
    print(f'{"DenseCRF (R3Net parameters, 1 iteration, 1 thread)":58s} {1000 * t_crf:8.1f} ms  '
          f'ratio 1.00 (reference)')

    def row(name, model_fn, note=''):
        with torch.no_grad():
            t = per_photo_seconds(model_fn, pairs, args.repeats)
        print(f'{name:58s} {1000 * t:8.1f} ms  ratio {t / t_crf:5.2f}{note}')

    for name, cfg in VARIANTS.items():
        model = build_promoter(cfg).eval()
        fast = inference_copy(model)
        row(name, lambda image, prior: fast.promote(image, prior))
        if args.bf16:
            half = inference_copy(model, 'bf16')
            with torch.no_grad():
                diffs = [(fast.promote(*pair)[0] - half.promote(*pair)[0]).abs()
                         for pair in pairs]
            row('  the same, bf16', lambda image, prior: half.promote(image, prior),
                f'  (maps vs fp32: mean |diff| {statistics.mean(float(d.mean()) for d in diffs):.4f}'
                f', max {max(float(d.max()) for d in diffs):.3f})')
        if cfg is LDPS:
            explicit = explicit_layers(build_promoter(cfg))
            row('  the same, explicit layers', lambda image, prior: explicit.promote(image, prior))
            if args.online:
                row('  online mode (10 iterations, lr 0.2)', lambda image, prior:
                    torch.enable_grad()(promote_online)(model, image, prior, 10, 0.2))


if __name__ == '__main__':
    main()
