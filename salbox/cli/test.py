"""``salbox test ARGS``: ``tools/test.py ARGS`` in this process (same arguments and output)."""
from ._tools import run_tool


def main(argv=None) -> int:
    return run_tool('test', argv or [], 'salbox test')
