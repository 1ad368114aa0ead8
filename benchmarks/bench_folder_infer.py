"""Folder inference speed: ``salbox infer``'s batched DataLoader path against the
one-photo-at-a-time loop of ``tools/infer.py``, and salbox's U²-Net(p) against rembg's own
onnxruntime session, all in one run on the same photos.

    python benchmarks/bench_folder_infer.py [--model u2netp] [--copies 8] [--threads 1]
        [--workers 1] [--batch-size 1] [--rounds 2]

Photos: scikit-image's colour photos (astronaut, chelsea, coffee, motorcycle_left, rocket),
each copied ``--copies`` times into a temporary folder. Model: the zoo's ``--model``:
``u2netp`` (configs/u2net/u2netp_pip.py + pip://u2netp) or ``u2net``; rembg runs the same ONNX
file. Every path writes the 8-bit map and the RGBA
cut-out of every photo into a fresh folder. Printed, best of ``--rounds`` (the paths alternate
within each round, so a load change on a shared machine hits all of them):

* ``old``: ``tools/infer.py``'s ``process()`` per photo (its pipeline, ``inference_model``,
  writes), images/s;
* ``new``: ``salbox.apis.batch_inference.predict_files`` on the model as ``salbox infer``
  prepares it (``prepare_for_inference``: channels-last weights on the CPU), ``--workers``
  decoding processes, photos batched by ``--batch-size``, with ``salbox infer``'s writer,
  images/s; the ratio new/old;
* ``salbox ms/img``: ``inference_model`` per photo (decode, 320x320 pipeline, network, map at
  full size) on the model as ``salbox infer`` prepares it (channels-last on the CPU), no
  writes;
* ``rembg ms/img``: rembg's ``SimpleSession.predict`` (its PIL preprocessing, onnxruntime
  CPU on the same ONNX file, its LANCZOS resize of the mask) on the decoded PIL photo,
  plus the file decode, no writes; onnxruntime limited to ``--threads`` intra-op threads.
"""
import argparse
import os
import os.path as osp
import shutil
import sys
import tempfile
import time

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, REPO)
PHOTOS = ('astronaut', 'chelsea', 'coffee', 'motorcycle_left', 'rocket')


def make_photos(folder: str, copies: int) -> list:
    import skimage
    data = osp.join(osp.dirname(skimage.__file__), 'data')
    paths = []
    for copy in range(copies):
        for name in PHOTOS:
            source = next(osp.join(data, name + ext) for ext in ('.png', '.jpg')
                          if osp.isfile(osp.join(data, name + ext)))
            path = osp.join(folder, f'{name}_{copy:03d}{osp.splitext(source)[1]}')
            shutil.copy(source, path)
            paths.append(path)
    return paths


def load_tool(name: str):
    import importlib.util
    spec = importlib.util.spec_from_file_location(f'bench_{name}',
                                                  osp.join(REPO, 'tools', f'{name}.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_old(model, paths, out):
    infer = load_tool('infer')
    args = argparse.Namespace(out_dir=out, cutout=True, threshold=None)
    for path in paths:
        infer.process(model, args, path, osp.basename(path))


def run_new(model, paths, out, batch_size, workers):
    from salbox.apis.batch_inference import predict_files
    from salbox.cli.infer import Outputs, build_parser
    args = build_parser().parse_args(['x', '-o', out, '--cutout'])
    outputs = Outputs(args)
    stats = predict_files(model, paths,
                          lambda p, s: outputs.write_image(osp.splitext(osp.basename(p))[0], s),
                          batch_size=batch_size, workers=workers, progress=False)
    assert stats.written == len(paths) and not stats.failures, stats.failures


def run_salbox_model(model, paths):
    from salbox.apis import inference_model
    for path in paths:
        inference_model(model, path)


def rembg_session(threads: int, name: str = 'u2netp'):
    import onnxruntime as ort
    from rembg.session_simple import SimpleSession

    from salbox.apis.zoo import get_model
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    onnx_file = get_model(name).weights_path()
    return SimpleSession(name, ort.InferenceSession(
        onnx_file, sess_options=options, providers=['CPUExecutionProvider']))


def run_rembg(session, paths):
    from PIL import Image
    for path in paths:
        with Image.open(path) as image:
            session.predict(image.convert('RGB'))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--model', default='u2netp', choices=('u2netp', 'u2net'))
    parser.add_argument('--copies', type=int, default=8)
    parser.add_argument('--threads', type=int, default=1)
    parser.add_argument('--workers', type=int, default=1)
    parser.add_argument('--batch-size', type=int, default=None,
                        help="default: salbox infer's on the CPU (1)")
    parser.add_argument('--rounds', type=int, default=2)
    args = parser.parse_args(argv)
    import torch
    torch.set_num_threads(args.threads)
    from salbox.apis import init_model
    from salbox.apis.zoo import get_model
    entry = get_model(args.model)
    from salbox.apis.batch_inference import default_batch_size, prepare_for_inference
    model = init_model(entry.config_path, entry.checkpoint)  # as tools/infer.py runs it
    fast = prepare_for_inference(init_model(entry.config_path, entry.checkpoint))  # salbox infer
    args.batch_size = args.batch_size or default_batch_size('cpu')
    try:
        session = rembg_session(args.threads, args.model)
    except ImportError as err:
        session = None
        print(f'rembg/onnxruntime not importable ({err}): no rembg column')
    times = {}
    with tempfile.TemporaryDirectory() as tmp:
        os.makedirs(osp.join(tmp, 'photos'))
        paths = make_photos(osp.join(tmp, 'photos'), args.copies)
        run_salbox_model(model, paths[:2])  # warm-up
        run_salbox_model(fast, paths[:2])
        if session is not None:
            run_rembg(session, paths[:2])
        for round_ in range(args.rounds):
            jobs = [('old', lambda: run_old(model, paths, osp.join(tmp, f'old{round_}'))),
                    ('new', lambda: run_new(fast, paths, osp.join(tmp, f'new{round_}'),
                                            args.batch_size, args.workers)),
                    ('salbox_model', lambda: run_salbox_model(fast, paths))]
            if session is not None:
                jobs.append(('rembg', lambda: run_rembg(session, paths)))
            for name, job in jobs:
                start = time.perf_counter()
                job()
                seconds = time.perf_counter() - start
                times[name] = min(times.get(name, float('inf')), seconds)
                print(f'round {round_ + 1} {name}: {seconds:.2f} s', flush=True)
    n = len(paths)
    print(f'\n{n} photos ({len(PHOTOS)} x {args.copies}), torch threads {args.threads}, '
          f'workers {args.workers}, batch {args.batch_size}; best of {args.rounds}')
    print(f'old one-at-a-time loop (maps + cut-outs): {n / times["old"]:.2f} images/s')
    print(f'new salbox infer path  (maps + cut-outs): {n / times["new"]:.2f} images/s '
          f'({times["old"] / times["new"]:.2f}x the old loop)')
    print(f'salbox {args.model}, no writes: {1000 * times["salbox_model"] / n:.0f} ms/img')
    if session is not None:
        print(f'rembg onnxruntime {args.model}, no writes: {1000 * times["rembg"] / n:.0f} ms/img '
              f'(salbox / rembg = {times["salbox_model"] / times["rembg"]:.2f})')


if __name__ == '__main__':
    main()
