"""``salbox eval ARGS``: ``tools/eval_maps.py ARGS`` in this process (same arguments, output and
exit codes)."""
from ._tools import run_tool


def main(argv=None) -> int:
    return run_tool('eval_maps', argv or [], 'salbox eval')
