"""Peak memory of ``tools/infer.py`` against the photo's size (megapixels).

    python benchmarks/bench_infer_memory.py [--mp 1,12,39] [--config CONFIG] [--no-crf]
        [--cutout]

Each size runs in its own process: the config's model is built (random weights: memory does
not depend on them), a 4:3 JPEG photo of that many megapixels is written, and one image goes
through what ``tools/infer.py`` does per image (decode, test pipeline, network at its test
size, map back to full size, the config's post-processors such as DenseCRF, the 8-bit map and,
with ``--cutout``, the RGBA cut-out). Printed per size: peak resident memory (``VmHWM``), the
resident memory before the photo (model built, libraries loaded), the difference per pixel
of the photo, and the wall time. The per-pixel figure is what matters: a bounded pipeline keeps
it flat; the map itself costs 4 bytes per pixel (float32).
"""
import argparse
import json
import os
import os.path as osp
import subprocess
import sys
import tempfile
import time

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
DEFAULT_CONFIG = osp.join(REPO, 'configs/r3net/r3net_resnet18_synthetic.py')


def _rss_mb(field: str) -> float:
    with open('/proc/self/status') as f:
        for line in f:
            if line.startswith(field + ':'):
                return int(line.split()[1]) / 1024
    return float('nan')


def worker(megapixels: float, config: str, crf: bool, cutout: bool) -> dict:
    """One photo through infer.py's per-image steps; memory figures in MB."""
    import cv2
    import numpy as np
    sys.path.insert(0, REPO)
    sys.path.insert(0, osp.join(REPO, 'tools'))
    import infer
    from salbox.apis import init_model
    from salbox.utils.image_io import MAX_PIXELS_ENV
    os.environ[MAX_PIXELS_ENV] = str(int(megapixels * 1.1e6) + 1000)
    cfg_options = None if crf else {'model.postprocessors': []}
    model = init_model(config, None, cfg_options=cfg_options)
    width = int(round((megapixels * 1e6 * 4 / 3) ** 0.5))
    height = int(round(megapixels * 1e6 / width))
    with tempfile.TemporaryDirectory() as tmp:
        rng = np.random.default_rng(0)
        small = rng.integers(0, 255, (height // 16 + 1, width // 16 + 1, 3), np.uint8)
        photo = cv2.resize(small, (width, height), interpolation=cv2.INTER_LINEAR)
        path = osp.join(tmp, 'photo.jpg')
        cv2.imwrite(path, photo, [cv2.IMWRITE_JPEG_QUALITY, 90])
        del small, photo
        before = _rss_mb('VmRSS')
        args = argparse.Namespace(out_dir=osp.join(tmp, 'out'), cutout=cutout, threshold=None)
        start = time.perf_counter()
        infer.process(model, args, path, 'photo.png')
        seconds = time.perf_counter() - start
    peak = _rss_mb('VmHWM')
    pixels = width * height
    return dict(mp=round(pixels / 1e6, 1), size=f'{width}x{height}', peak_mb=round(peak),
                before_mb=round(before), bytes_per_pixel=round((peak - before) * 2**20 / pixels,
                                                              1), seconds=round(seconds, 1))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--mp', default='1,12,39', help='photo sizes in megapixels')
    parser.add_argument('--config', default=DEFAULT_CONFIG)
    parser.add_argument('--no-crf', action='store_true', help="drop the config's "
                        'post-processors (DenseCRF)')
    parser.add_argument('--cutout', action='store_true', help='also write the RGBA cut-out')
    parser.add_argument('--worker', type=float, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker is not None:
        print(json.dumps(worker(args.worker, args.config, not args.no_crf, args.cutout)))
        return
    rows = []
    for mp in [float(x) for x in args.mp.split(',')]:
        command = [sys.executable, __file__, '--worker', str(mp), '--config', args.config]
        command += ['--no-crf'] * args.no_crf + ['--cutout'] * args.cutout
        result = subprocess.run(command, capture_output=True, text=True)
        if result.returncode != 0:
            print(result.stderr[-2000:], file=sys.stderr)
            sys.exit(1)
        rows.append(json.loads(result.stdout.strip().splitlines()[-1]))
        row = rows[-1]
        print(f"{row['mp']:>5} MP {row['size']:>10}: peak {row['peak_mb']:>6} MB "
              f"(before the photo {row['before_mb']} MB), {row['bytes_per_pixel']:>6} bytes "
              f"per pixel, {row['seconds']} s", flush=True)
    if len(rows) > 1:
        first, last = rows[0], rows[-1]
        grown = (last['peak_mb'] - last['before_mb']) / max(1, first['peak_mb']
                                                            - first['before_mb'])
        print(f"{last['mp'] / first['mp']:.0f}x the pixels: {grown:.1f}x the working memory")


if __name__ == '__main__':
    main()
