"""``salbox cutout ARGS`` = ``salbox infer --cutout ARGS``: maps and RGBA cut-outs."""
from . import infer


def main(argv=None) -> int:
    return infer.main(['--cutout'] + list(argv or []), prog='salbox cutout')
