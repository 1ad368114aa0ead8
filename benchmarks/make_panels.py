"""Side-by-side panels: photo | ground truth | each salbox method | U²-Netp | U²-Net, for the
photos where the first salbox method's map is best and worst by MAE.

Ranks the photos that have a map of every salbox method and a U²-Netp map (``--salbox
NAME=DIR ...``, ``--u2netp``: folders of 8-bit PNG maps named by the photo's stem) by the first
salbox method's MAE against the mask, takes the ``--num``
best and worst, makes the U²-Net maps of just those photos when ``--u2net`` lacks them (U²-Net's
official test step, ``benchmarks/peers_u2net.py``), and writes one PNG per group (one row per
photo, each tile ``--height`` pixels high, 256-colour palette to stay small) plus a Markdown
table of the per-photo MAEs.

    python benchmarks/make_panels.py --images data/DUTS/DUTS-TE/DUTS-TE-Image \
        --masks data/DUTS/DUTS-TE/DUTS-TE-Mask \
        --salbox R3Net-Lite2=maps/r3net/DUTS-TE ARN-Lite2=maps/arn/DUTS-TE \
        --u2netp maps/peers/u2netp/DUTS-TE --u2net maps/peers/u2net/DUTS-TE \
        --out docs/images --prefix panels_duts
"""
import argparse
import os
import os.path as osp
import sys

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, REPO)
sys.path.insert(0, osp.dirname(osp.abspath(__file__)))

import cv2  # noqa: E402
import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402


def gray(path):
    img = cv2.imread(path, cv2.IMREAD_GRAYSCALE)
    if img is None:
        raise FileNotFoundError(path)
    return img.astype(np.float64) / 255.0


def find_image(folder, stem):
    for ext in ('.jpg', '.jpeg', '.png', '.bmp'):
        if osp.exists(osp.join(folder, stem + ext)):
            return osp.join(folder, stem + ext)
    raise FileNotFoundError(f'no photo {stem}.* in {folder}')


def tile(arr_rgb, height):
    h, w = arr_rgb.shape[:2]
    width = max(1, round(w * height / h))
    return cv2.resize(arr_rgb, (width, height), interpolation=cv2.INTER_AREA)


def map_rgb(path, shape):
    m = cv2.imread(path, cv2.IMREAD_GRAYSCALE)
    if m.shape != shape:
        m = cv2.resize(m, (shape[1], shape[0]), interpolation=cv2.INTER_LINEAR)
    return np.repeat(m[:, :, None], 3, axis=2)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--images', required=True)
    parser.add_argument('--masks', required=True)
    parser.add_argument('--salbox', required=True, nargs='+', metavar='NAME=DIR',
                        help='salbox maps, one folder per method; photos ranked by the first')
    parser.add_argument('--u2netp', required=True)
    parser.add_argument('--u2net', required=True)
    parser.add_argument('--out', required=True)
    parser.add_argument('--prefix', default='panels')
    parser.add_argument('--num', type=int, default=3)
    parser.add_argument('--height', type=int, default=128)
    args = parser.parse_args()
    methods = []
    for entry in args.salbox:
        name, sep, folder = entry.partition('=')
        if not sep or not name or not folder:
            parser.error(f'--salbox {entry!r} must look like NAME=DIR')
        methods.append((name, folder))
    first = methods[0][0]
    folders = methods + [('U²-Netp', args.u2netp)]

    stems = sorted(osp.splitext(f)[0] for f in os.listdir(args.u2netp) if f.endswith('.png'))
    stems = [s for s in stems
             if all(osp.exists(osp.join(folder, s + '.png')) for _, folder in methods)]
    if not stems:
        parser.error('no photo has a map of every salbox method and of U²-Netp')
    mae = {}
    for s in stems:
        gt = gray(osp.join(args.masks, s + '.png'))
        mae[s] = {name: float(np.abs(gray(osp.join(folder, s + '.png')) - gt).mean())
                  for name, folder in folders}
    ranked = sorted(stems, key=lambda s: mae[s][first])
    groups = {'best': ranked[:args.num], 'worst': ranked[::-1][:args.num]}

    os.makedirs(args.u2net, exist_ok=True)
    peer = None
    for s in groups['best'] + groups['worst']:
        dst = osp.join(args.u2net, s + '.png')
        if not osp.exists(dst):
            import peers_u2net as peers
            if peer is None:
                peer = peers.OnnxPeer('u2net', 1)
            image = peers.read_rgb(find_image(args.images, s))
            pred = peers.official_output(peer(peers.official_input(image)), *image.shape[:2])
            cv2.imwrite(dst, pred)
        gt = gray(osp.join(args.masks, s + '.png'))
        mae[s]['U²-Net'] = float(np.abs(gray(dst) - gt).mean())
    folders.append(('U²-Net', args.u2net))

    os.makedirs(args.out, exist_ok=True)
    names = [name for name, _ in folders]
    lines = [f'Ranked by {first} MAE over the {len(stems)} photos that have every map.', '',
             '| group | photo | ' + ' | '.join(f'{name} MAE' for name in names) + ' |',
             '| --- | --- | ' + ' | '.join('---:' for _ in names) + ' |']
    for group, chosen in groups.items():
        rows = []
        for s in chosen:
            photo = cv2.cvtColor(cv2.imread(find_image(args.images, s)), cv2.COLOR_BGR2RGB)
            shape = photo.shape[:2]
            tiles = [photo, map_rgb(osp.join(args.masks, s + '.png'), shape)]
            tiles += [map_rgb(osp.join(folder, s + '.png'), shape) for _, folder in folders]
            rows.append(np.concatenate([tile(t, args.height) for t in tiles], axis=1))
            lines.append(f'| {group} | {s} | '
                         + ' | '.join(f'{mae[s][name]:.4f}' for name in names) + ' |')
        width = max(r.shape[1] for r in rows)
        rows = [np.pad(r, ((0, 4), (0, width - r.shape[1]), (0, 0)), constant_values=255)
                for r in rows]
        panel = Image.fromarray(np.concatenate(rows, axis=0)).quantize(colors=256)
        path = osp.join(args.out, f'{args.prefix}_{group}.png')
        panel.save(path, optimize=True)
        print(f'{path}: {osp.getsize(path) / 1024:.0f} KB')
    print('\n'.join(lines))


if __name__ == '__main__':
    main()
