"""``salbox train ARGS``: ``tools/train.py ARGS`` in this process (same arguments and output)."""
from ._tools import run_tool


def main(argv=None) -> int:
    return run_tool('train', argv or [], 'salbox train')
