"""``salbox infer INPUT... [-o OUT]``: saliency maps, cut-outs and matted cut-outs of photos,
folders, globs and videos, with a model of the zoo (default U²-Netp, official weights from pip)
or any config + checkpoint. docs/cli.md has the options and the measured speed.

Outputs under OUT (default ``outputs``), named like the inputs (``name.png``; ``name.jpg.png``
when two inputs share a stem):

* ``maps/NAME.png``: the 8-bit saliency map (always);
* ``mattes/NAME.png``: the matted alpha (``--alpha-matting``);
* ``cutouts/NAME.png``: RGBA cut-out (``--cutout``, ``--alpha-matting``, ``--bgcolor``; not
  with ``--only-mask``);
* a video ``clip.mp4`` gives ``maps/clip.mp4`` (the map video), and with a cut-out option
  ``cutouts/clip/000000.png``... (RGBA frames) or, with ``--bgcolor``, ``cutouts/clip.mp4``.

Complete outputs are skipped (``--overwrite`` redoes them); every file is written atomically;
an input that cannot be used is reported with its reason (also in ``OUT/failed.txt``), the
others are written, and the exit code is 1.
"""
import argparse
import glob
import os
import os.path as osp
import sys
import time

from salbox.utils.errors import SalboxError
from salbox.utils.image_io import IMAGE_SUFFIXES


def _color(text):
    from salbox.apis.matting import parse_color
    try:
        return parse_color(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def _unit(text):
    value = float(text)
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f'{text} is not in [0, 1] (maps are in [0, 1])')
    return value


def build_parser(prog='salbox infer') -> argparse.ArgumentParser:
    from salbox.apis import matting
    parser = argparse.ArgumentParser(
        prog=prog, description='Saliency maps and cut-outs of photos, folders, globs and videos.')
    parser.add_argument('inputs', nargs='*', metavar='INPUT',
                        help='image, folder (searched recursively), glob (quote it) or video')
    parser.add_argument('-o', '--out', default='outputs', help='output folder (default outputs)')
    parser.add_argument('--model', nargs='+', metavar='NAME', default=None,
                        help='a zoo name (`salbox models`; default u2netp) or CONFIG CHECKPOINT')
    parser.add_argument('--cutout', action='store_true', help='also write RGBA cut-outs')
    parser.add_argument('--threshold', type=_unit, default=None,
                        help='hard cut-out: alpha = map >= T (default: the map is the alpha)')
    parser.add_argument('--alpha-matting', action='store_true',
                        help='matted edges: trimap from the map, closed-form matting '
                        '(pymatting); writes mattes/ and matted cut-outs')
    parser.add_argument('--alpha-matting-foreground-threshold', '--af', type=int,
                        default=matting.FG_THRESHOLD, metavar='0-255',
                        help='trimap foreground: map above this, eroded (default %(default)s)')
    parser.add_argument('--alpha-matting-background-threshold', '--ab', type=int,
                        default=matting.BG_THRESHOLD, metavar='0-255',
                        help='trimap background: map below this, eroded (default %(default)s)')
    parser.add_argument('--alpha-matting-erode-size', '--ae', type=int,
                        default=matting.ERODE_SIZE, metavar='PIXELS',
                        help='erosion of both known regions (default %(default)s)')
    parser.add_argument('--alpha-matting-max-pixels', type=int, default=matting.MAX_PIXELS,
                        metavar='N', help='matting runs on a copy resized to at most N pixels '
                        '(bounded time and memory; default %(default)s, 0: full size)')
    parser.add_argument('--only-mask', action='store_true',
                        help='write only the masks (maps/, and mattes/ with --alpha-matting)')
    parser.add_argument('--bgcolor', type=_color, default=None, metavar='R,G,B[,A]',
                        help='cut-outs composited on this colour (implies --cutout)')
    parser.add_argument('--tta', action='store_true',
                        help="test-time augmentation (the config's tta_model / tta_pipeline)")
    parser.add_argument('--threads', type=int, default=None,
                        help='torch threads for the model (default: torch\'s choice)')
    parser.add_argument('--batch-size', type=int, default=None,
                        help='photos (or video frames) predicted together when their network '
                        'inputs have the same size (default: 1 on the CPU, where batching is '
                        'slower per photo, 8 on a GPU)')
    parser.add_argument('--workers', type=int, default=1,
                        help='processes decoding photos while the model runs (default '
                        '%(default)s; 0: decode in the main process)')
    parser.add_argument('--device', default='cpu', help='cpu, cuda or cuda:N')
    parser.add_argument('--overwrite', action='store_true', help='redo inputs already done')
    parser.add_argument('--no-progress', action='store_true', help='no progress bar')
    parser.add_argument('-v', '--verbose', action='store_true',
                        help="mmengine's full log while loading the model")
    return parser


# ---------------------------------------------------------------- inputs and output names
def collect_inputs(inputs, exclude=()) -> list:
    """``[(path, output name without extension)]`` for every image and video the inputs name,
    in order: a folder's files relative to it, a file or glob match by its name."""
    from salbox.apis.batch_inference import is_video
    skip = {osp.realpath(p) for p in exclude}
    found = []
    for item in inputs:
        item = osp.expanduser(item)
        if osp.isdir(item):
            files = []
            for root, dirs, names in os.walk(item):
                dirs[:] = sorted(d for d in dirs if osp.realpath(osp.join(root, d)) not in skip)
                files.extend(osp.join(root, n) for n in names
                             if n.lower().endswith(IMAGE_SUFFIXES) or is_video(n))
            if not files:
                raise SalboxError(f'no images or videos found in {item}')
            found.extend((p, osp.relpath(p, item)) for p in sorted(files))
        elif osp.lexists(item):
            found.append((item, osp.basename(item)))
        elif glob.has_magic(item):
            matches = sorted(p for p in glob.glob(item, recursive=True) if osp.isfile(p))
            if not matches:
                raise SalboxError(f'no file matches {item}')
            found.extend((p, osp.basename(p)) for p in matches)
        else:
            raise SalboxError(f'input not found: {item}')
    return found


def output_names(found) -> dict:
    """``{path: name}``: the relative name without its extension, or with it when two inputs
    share a stem (``dup.jpg``, ``dup.png`` -> ``dup.jpg``, ``dup.png``), numbered if still
    equal."""
    by_stem = {}
    for path, rel in found:
        by_stem.setdefault(osp.splitext(rel)[0], []).append((path, rel))
    names, used = {}, set()
    for stem, items in by_stem.items():
        for path, rel in items:
            name = stem if len(items) == 1 else rel
            base, index = name, 1
            while name in used:
                name, index = f'{base}.{index}', index + 1
            used.add(name)
            names[path] = name
    return names


# ---------------------------------------------------------------- outputs
class Outputs:
    """What one run writes, and whether an input is already done."""

    def __init__(self, args):
        self.args = args
        self.out = args.out
        self.matting = args.alpha_matting
        self.cutout = (args.cutout or args.alpha_matting or args.bgcolor is not None) \
            and not args.only_mask
        self.kinds = ['maps'] + (['mattes'] if self.matting else []) + \
            (['cutouts'] if self.cutout else [])

    def image_done(self, name: str) -> bool:
        from salbox.engine.atomic_io import png_is_complete
        return all(png_is_complete(osp.join(self.out, kind, name + '.png'))
                   for kind in self.kinds)

    def video_done(self, name: str) -> bool:
        return osp.isfile(osp.join(self.out, 'maps', name + '.mp4'))  # renamed last

    def alpha(self, image_rgb, sal_map):
        """(alpha, foreground) for the cut-out and the matte."""
        from salbox.apis.matting import matte
        args = self.args
        if self.matting:
            return matte(image_rgb, sal_map, args.alpha_matting_foreground_threshold,
                         args.alpha_matting_background_threshold,
                         args.alpha_matting_erode_size, args.alpha_matting_max_pixels,
                         foreground=self.cutout)
        if args.threshold is not None:
            return (sal_map >= args.threshold).astype('float32'), image_rgb
        return sal_map, image_rgb

    def write_image(self, name: str, sample) -> None:
        from salbox.apis.batch_inference import image_of, sal_map_of
        from salbox.apis.matting import compose
        from salbox.evaluation import write_map
        from salbox.utils.atomic_file import atomic_write_image
        sal_map = sal_map_of(sample)
        write_map(osp.join(self.out, 'maps', name + '.png'), sal_map)
        if not (self.matting or self.cutout):
            return
        image = image_of(sample)
        alpha, foreground = self.alpha(image, sal_map)
        if self.matting:
            write_map(osp.join(self.out, 'mattes', name + '.png'), alpha)
        if self.cutout:
            atomic_write_image(osp.join(self.out, 'cutouts', name + '.png'),
                               compose(foreground, alpha, self.args.bgcolor))


def _temp_video(path: str) -> str:
    folder, name = osp.split(path)
    return osp.join(folder, f'.{name}.tmp-{os.getpid()}.mp4')


def run_video(model, outputs: Outputs, path: str, name: str, args) -> int:
    """The map video (and cut-out frames or video) of one clip; returns its frame count."""
    import cv2
    import numpy as np
    from salbox.apis.batch_inference import (image_of, predict_video, sal_map_of,
                                             video_info)
    from salbox.apis.matting import compose
    from salbox.evaluation.functional import to_uint8
    from salbox.utils.atomic_file import atomic_write_image
    fps = video_info(path)[0]
    fourcc = cv2.VideoWriter_fourcc(*'mp4v')
    map_path = osp.join(outputs.out, 'maps', name + '.mp4')
    cut_video = outputs.cutout and args.bgcolor is not None
    cut_path = osp.join(outputs.out, 'cutouts', name + ('.mp4' if cut_video else ''))
    writers, temps = {}, []

    def writer(key, final, size):
        if key not in writers:
            os.makedirs(osp.dirname(final), exist_ok=True)
            temp = _temp_video(final)
            temps.append((temp, final))
            writers[key] = cv2.VideoWriter(temp, fourcc, fps, size)
            if not writers[key].isOpened():
                raise SalboxError(f'cannot write {final}: OpenCV has no mp4v encoder here')
        return writers[key]

    def write_frame(index, sample):
        sal_map = sal_map_of(sample)
        grey = to_uint8(sal_map)
        writer('map', map_path, grey.shape[::-1]).write(cv2.cvtColor(grey, cv2.COLOR_GRAY2BGR))
        if not (outputs.cutout or outputs.matting):
            return
        image = image_of(sample)
        alpha, foreground = outputs.alpha(image, sal_map)
        if outputs.matting:
            atomic_write_image(osp.join(outputs.out, 'mattes', name, f'{index:06d}.png'),
                               to_uint8(alpha))
        if cut_video:
            rgba = compose(foreground, alpha, args.bgcolor)
            writer('cut', cut_path, grey.shape[::-1]).write(np.ascontiguousarray(rgba[..., :3]))
        elif outputs.cutout:
            atomic_write_image(osp.join(cut_path, f'{index:06d}.png'),
                               compose(foreground, alpha))
    try:
        frames = predict_video(model, path, write_frame, batch_size=args.batch_size,
                               progress=not args.no_progress)
        for w in writers.values():
            w.release()
        # the map video last: its presence marks the clip as done (resume)
        for temp, final in sorted(temps, key=lambda t: t[1] == map_path):
            os.replace(temp, final)
    finally:
        for w in writers.values():
            w.release()
        for temp, _ in temps:
            if osp.exists(temp):
                os.remove(temp)
    return frames


# ---------------------------------------------------------------- model loading
def load_model(args):
    """The model, loading quietly: one line per weights source unless ``-v``."""
    import logging

    from mmengine.logging import MMLogger

    from salbox.apis import init_model
    from salbox.apis.batch_inference import prepare_for_inference
    config, checkpoint, label = args.resolved
    level = 'INFO' if args.verbose else 'WARNING'
    name = f'salbox-cli-{level}'
    logger = (MMLogger.get_instance(name) if MMLogger.check_instance_created(name)
              else MMLogger.get_instance(name, log_level=level))
    for handler in logger.handlers:
        handler.setLevel(getattr(logging, level))
    start = time.perf_counter()
    model = prepare_for_inference(
        init_model(config, checkpoint, device=args.device, tta=args.tta), args.device)
    print(f'model: {label}, loaded in {time.perf_counter() - start:.1f} s', file=sys.stderr)
    return model


def main(argv=None, prog='salbox infer') -> int:
    parser = build_parser(prog)
    args = parser.parse_args(argv)
    if args.model:  # `--model u2netp photos/`: the name (or CONFIG CHECKPOINT), then inputs
        keep = 2 if args.model[0].endswith('.py') else 1
        args.inputs = args.model[keep:] + args.inputs
        args.model = args.model[:keep]
    if not args.inputs:
        parser.error('give at least one INPUT (image, folder, glob or video)')
    args.out = osp.expanduser(args.out)
    if args.threads is not None:
        if args.threads < 1:
            raise SalboxError('--threads must be at least 1')
        import torch
        torch.set_num_threads(args.threads)
    from salbox.apis.batch_inference import default_batch_size
    args.batch_size = args.batch_size or default_batch_size(args.device)
    if args.batch_size < 1 or args.workers < 0:
        raise SalboxError('--batch-size must be at least 1 and --workers at least 0')
    from salbox.apis.batch_inference import RunStats, is_video, predict_files, report_failures
    from salbox.apis.runner_utils import check_device, check_writable_dir
    fg, bg = args.alpha_matting_foreground_threshold, args.alpha_matting_background_threshold
    if not (0 <= bg < fg <= 255) or args.alpha_matting_erode_size < 0 \
            or args.alpha_matting_max_pixels < 0:
        raise SalboxError('alpha matting needs 0 <= background threshold < foreground '
                          'threshold <= 255, an erode size >= 0 and max pixels >= 0')
    from salbox.apis.zoo import resolve
    args.resolved = resolve(args.model)  # an unknown or missing model: one line, before work
    outputs = Outputs(args)
    if args.alpha_matting:
        from salbox.apis.matting import _pymatting
        _pymatting()  # missing pymatting: one line before the model loads
    found = collect_inputs(args.inputs, exclude=[args.out])
    names = output_names(found)
    check_device(args.device)
    todo_images, todo_videos, kept = [], [], 0
    for path, _ in found:
        video = is_video(path)
        done = outputs.video_done(names[path]) if video else outputs.image_done(names[path])
        if done and not args.overwrite:
            kept += 1
        else:
            (todo_videos if video else todo_images).append(path)
    check_writable_dir(args.out, '--out')
    stats = RunStats()
    if todo_images or todo_videos:
        model = load_model(args)
        start = time.perf_counter()
        if todo_images:
            predict_files(model, todo_images,
                          lambda path, sample: outputs.write_image(names[path], sample),
                          batch_size=1 if args.tta else args.batch_size, workers=args.workers,
                          progress=not args.no_progress, stats=stats)
            seconds = time.perf_counter() - start
            if stats.written:
                print(f'{stats.written} images in {seconds:.1f} s '
                      f'({stats.written / max(seconds, 1e-9):.2f} images/s)', file=sys.stderr)
        for path in todo_videos:
            try:
                frames = run_video(model, outputs, path, names[path], args)
                stats.written += 1
                print(f'{path}: {frames} frames', file=sys.stderr)
            except KeyboardInterrupt:
                raise
            except Exception as err:
                if os.environ.get('SALBOX_DEBUG', '0') == '1':
                    raise
                from salbox.apis.batch_inference import failure_reason
                stats.failures.append((path, failure_reason(path, err)))
    print(f'{stats.written + kept} of {len(found)} inputs have their outputs in {args.out} '
          f'({stats.written} written now, {kept} already there)')
    if stats.failures:
        report_failures(stats.failures, args.out, 'input(s)')
        return 1
    return 0
