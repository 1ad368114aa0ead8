"""Serve saliency maps and cut-outs over HTTP, with a web page: ``salbox serve`` from a checkout.

    python tools/serve.py [--host 127.0.0.1] [--port 8000] [--model u2netp] [--max-upload-mb 20]
                          [--max-pixels 40e6] [--threads N]

Open http://127.0.0.1:8000/ ; the API is in docs/serve.md.
"""
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))  # run from a checkout

from salbox.serve import main  # noqa: E402

if __name__ == '__main__':
    main()
