"""``salbox serve`` / ``python -m salbox.serve`` / ``tools/serve.py``: parse the options, load
the default model, serve the app with uvicorn."""
import argparse
import os
import socket
import sys

from salbox.utils.errors import SalboxError
from .models import DEFAULT_MODEL, ZOO, ModelProvider, ModelSpec


def positive(kind):
    def parse(text):
        value = kind(float(text))
        if value <= 0:
            raise argparse.ArgumentTypeError(f'{text} must be positive')
        return value
    return parse


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        prog='salbox serve', description='Serve saliency maps and cut-outs over HTTP, with a '
        'web page (docs/serve.md)')
    parser.add_argument('--host', default='127.0.0.1',
                        help='address to listen on (default 127.0.0.1: this machine only; '
                        '0.0.0.0 for every interface)')
    parser.add_argument('--port', type=int, default=8000)
    parser.add_argument('--model', default=None,
                        help=f'default model: {", ".join(ZOO)} (default {DEFAULT_MODEL}), or '
                        'the name given to --config/--checkpoint')
    parser.add_argument('--config', help='also serve a salbox model: its config ...')
    parser.add_argument('--checkpoint', help='... and its checkpoint (file or pip://NAME)')
    parser.add_argument('--name', default='custom',
                        help='the name of the --config/--checkpoint model (default custom)')
    parser.add_argument('--max-upload-mb', type=positive(float), default=20,
                        help='largest upload in MB (default 20); larger ones get 413')
    parser.add_argument('--max-pixels', type=positive(int), default=40_000_000,
                        help='largest image in pixels (default 40e6), read from the header '
                        'before decoding; larger ones get 413')
    parser.add_argument('--threads', type=positive(int), default=None,
                        help='PyTorch/OpenCV threads (default: as PyTorch chooses)')
    parser.add_argument('--device', default='cpu')
    args = parser.parse_args(argv)
    if (args.config is None) != (args.checkpoint is None):
        parser.error('--config and --checkpoint go together')
    return args


def build_provider(args) -> ModelProvider:
    specs = dict(ZOO)
    if args.config:
        specs[args.name] = ModelSpec(args.name, args.config, args.checkpoint,
                                     f'{os.path.basename(args.config)} + '
                                     f'{os.path.basename(args.checkpoint)}')
    default = args.model or (args.name if args.config else DEFAULT_MODEL)
    return ModelProvider(specs, default=default, device=args.device)


def _serve(argv) -> None:
    args = parse_args(argv)
    if args.threads:
        import cv2
        import torch
        torch.set_num_threads(args.threads)
        cv2.setNumThreads(args.threads)
    try:
        import uvicorn

        from .app import create_app
    except ImportError as err:
        raise SalboxError(f'salbox serve needs {err.name}: pip install -r '
                          'requirements/serve.txt (fastapi, uvicorn, python-multipart)') from None
    from salbox.apis.runner_utils import check_device
    check_device(args.device)
    provider = build_provider(args)
    # fail before listening when the port is taken or the default model cannot load
    with socket.socket(socket.AF_INET6 if ':' in args.host else socket.AF_INET) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((args.host, args.port))
        except OSError as err:
            raise SalboxError(f'cannot listen on {args.host}:{args.port}: '
                              f'{err.strerror or err}') from None
    print(f'salbox serve: loading {provider.default} ...', flush=True)
    provider.get()
    app = create_app(provider, max_upload_mb=args.max_upload_mb, max_pixels=args.max_pixels)
    print(f'salbox serve: open http://{args.host}:{args.port}/ (API: docs/serve.md; '
          'Ctrl+C stops)', flush=True)
    uvicorn.run(app, host=args.host, port=args.port, log_level='info')


def main(argv=None) -> None:
    """Entry point of ``salbox serve`` (``argv`` without the program and sub-command names)."""
    from salbox.apis.runner_utils import run_friendly
    run_friendly(lambda: _serve(sys.argv[1:] if argv is None else argv))
