"""Side-by-side panels: photo | ground truth | salbox | U²-Netp | U²-Net, for the photos where
salbox's map is best and worst by MAE.

Ranks the photos that have a salbox map and a U²-Netp map (``--salbox``, ``--u2netp`` folders of
8-bit PNG maps named by the photo's stem) by salbox's MAE against the mask, takes the ``--num``
best and worst, makes the U²-Net maps of just those photos when ``--u2net`` lacks them (U²-Net's
official test step, ``benchmarks/peers_u2net.py``), and writes one PNG per group (one row per
photo, each tile ``--height`` pixels high, 256-colour palette to stay small) plus a Markdown
table of the per-photo MAEs.

    python benchmarks/make_panels.py --images data/DUTS/DUTS-TE/DUTS-TE-Image \
        --masks data/DUTS/DUTS-TE/DUTS-TE-Mask --salbox maps/r3net/DUTS-TE \
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
    parser.add_argument('--salbox', required=True)
    parser.add_argument('--u2netp', required=True)
    parser.add_argument('--u2net', required=True)
    parser.add_argument('--out', required=True)
    parser.add_argument('--prefix', default='panels')
    parser.add_argument('--num', type=int, default=3)
    parser.add_argument('--height', type=int, default=128)
    args = parser.parse_args()

    stems = sorted(osp.splitext(f)[0] for f in os.listdir(args.u2netp) if f.endswith('.png'))
    stems = [s for s in stems if osp.exists(osp.join(args.salbox, s + '.png'))]
    if not stems:
        parser.error('no photo has both a salbox and a U²-Netp map')
    mae = {}
    for s in stems:
        gt = gray(osp.join(args.masks, s + '.png'))
        mae[s] = {name: float(np.abs(gray(osp.join(folder, s + '.png')) - gt).mean())
                  for name, folder in (('salbox', args.salbox), ('u2netp', args.u2netp))}
    ranked = sorted(stems, key=lambda s: mae[s]['salbox'])
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
        mae[s]['u2net'] = float(np.abs(gray(dst) - gt).mean())

    os.makedirs(args.out, exist_ok=True)
    lines = [f'Ranked by salbox MAE over the {len(stems)} photos that have both maps.', '',
             '| group | photo | salbox MAE | U²-Netp MAE | U²-Net MAE |',
             '| --- | --- | ---: | ---: | ---: |']
    for group, chosen in groups.items():
        rows = []
        for s in chosen:
            photo = cv2.cvtColor(cv2.imread(find_image(args.images, s)), cv2.COLOR_BGR2RGB)
            shape = photo.shape[:2]
            tiles = [photo, map_rgb(osp.join(args.masks, s + '.png'), shape)]
            tiles += [map_rgb(osp.join(folder, s + '.png'), shape)
                      for folder in (args.salbox, args.u2netp, args.u2net)]
            row = np.concatenate([tile(t, args.height) for t in tiles]
                                 + [], axis=1)
            rows.append(row)
            lines.append(f'| {group} | {s} | {mae[s]["salbox"]:.4f} | {mae[s]["u2netp"]:.4f} | '
                         f'{mae[s]["u2net"]:.4f} |')
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
