"""Time per request of ``salbox serve``'s ``POST /api/cutout`` on scikit-image's photos.

    python benchmarks/bench_serve.py [--photos astronaut,coffee,chelsea] [--repeat 10]
        [--threads 1] [--model u2netp] [--crf]

Starts the app with uvicorn in a thread of this process on a free port (``--threads`` PyTorch
and OpenCV threads, as ``salbox serve --threads``), sends one warm-up request, then ``--repeat``
requests per photo one after the other over HTTP (urllib, keep-alive off: each request a fresh
connection, as a browser's upload). Printed per photo: the median and the fastest wall time of a
whole request (upload, multipart parsing, decoding, the network, DenseCRF with ``--crf``, the
cut-out's PNG encoding, the answer), and the median of the server's model time
(``X-Salbox-Model-Ms``: the network and DenseCRF alone), so the HTTP part is their difference.
"""
import argparse
import os
import os.path as osp
import socket
import statistics
import sys
import threading
import time
import urllib.request
import uuid

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))


def multipart(path: str, crf: bool, model: str):
    boundary = uuid.uuid4().hex
    parts = []
    for name, value in (('model', model), ('crf', 'true' if crf else 'false')):
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
                     f'{value}\r\n'.encode())
    with open(path, 'rb') as f:
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
                     f'filename="{osp.basename(path)}"\r\nContent-Type: image/png\r\n\r\n'
                     .encode() + f.read() + b'\r\n')
    parts.append(f'--{boundary}--\r\n'.encode())
    return b''.join(parts), f'multipart/form-data; boundary={boundary}'


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--photos', default='astronaut,coffee,chelsea')
    parser.add_argument('--repeat', type=int, default=10)
    parser.add_argument('--threads', type=int, default=1)
    parser.add_argument('--model', default='u2netp')
    parser.add_argument('--crf', action='store_true')
    args = parser.parse_args()
    import cv2
    import skimage
    import torch
    import uvicorn

    from salbox.serve import ModelProvider, create_app
    torch.set_num_threads(args.threads)
    cv2.setNumThreads(args.threads)
    provider = ModelProvider(default=args.model)
    provider.get()
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(provider), host='127.0.0.1', port=port,
                                           log_level='warning'))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    print(f'salbox serve, POST /api/cutout, model {args.model}'
          f'{" + DenseCRF" if args.crf else ""}, {args.threads} thread(s), torch '
          f'{torch.__version__}, load average {os.getloadavg()[0]:.1f}')
    print('| photo | size | request ms (median) | fastest | model ms (median) |')
    print('|---|---|---|---|---|')
    for name in args.photos.split(','):
        path = osp.join(osp.dirname(skimage.__file__), 'data', f'{name}.png')
        body, content_type = multipart(path, args.crf, args.model)
        walls, models = [], []
        for index in range(args.repeat + 1):
            request = urllib.request.Request(f'http://127.0.0.1:{port}/api/cutout', data=body,
                                             headers={'Content-Type': content_type})
            start = time.perf_counter()
            with urllib.request.urlopen(request) as response:
                response.read()
                size = response.headers['X-Salbox-Size']
                model_ms = float(response.headers['X-Salbox-Model-Ms'])
            if index:  # the first request warms up
                walls.append((time.perf_counter() - start) * 1000)
                models.append(model_ms)
        print(f'| {name} | {size} | {statistics.median(walls):.0f} | {min(walls):.0f} | '
              f'{statistics.median(models):.0f} |')
    server.should_exit = True


if __name__ == '__main__':
    main()
