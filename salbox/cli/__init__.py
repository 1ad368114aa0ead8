"""The ``salbox`` console command (``salbox=salbox.cli:main`` in ``setup.py``; also
``python -m salbox``): one module per subcommand, each with a ``main(argv)``, imported only when
its subcommand runs (``salbox models`` does not import torch's model code; ``salbox serve``
without fastapi says what to install in one line). docs/cli.md documents every subcommand.
"""
import argparse
import importlib
import sys

# name -> (module, one-line help)
COMMANDS = {
    'infer': ('salbox.cli.infer', 'saliency maps (and cut-outs) of photos, folders, globs, videos'),
    'cutout': ('salbox.cli.cutout', 'same as `infer --cutout`: RGBA cut-outs of the subject'),
    'models': ('salbox.cli.models', 'the model zoo: what is installed, what to install'),
    'eval': ('salbox.cli.eval', 'score saliency maps against ground truth (tools/eval_maps.py)'),
    'train': ('salbox.cli.train', 'train a config (tools/train.py)'),
    'test': ('salbox.cli.test', 'test a checkpoint on a config\'s test sets (tools/test.py)'),
    'serve': ('salbox.cli.serve', 'web page and HTTP API for cut-outs (needs fastapi)'),
}


def build_parser() -> argparse.ArgumentParser:
    from salbox.version import __version__
    parser = argparse.ArgumentParser(
        prog='salbox', description='salient object detection: maps, cut-outs, training, '
        'evaluation. `salbox COMMAND -h` shows a command\'s options.')
    parser.add_argument('--version', action='version', version=f'salbox {__version__}')
    sub = parser.add_subparsers(dest='command', metavar='COMMAND')
    for name, (_, text) in COMMANDS.items():
        # each command parses its own arguments (its main(argv)), -h included
        sub.add_parser(name, help=text, add_help=False).add_argument(
            'args', nargs=argparse.REMAINDER)
    return parser


def dispatch(argv=None) -> int:
    """Run a subcommand and return its exit code (errors propagate)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    if not argv or argv[0] not in COMMANDS:
        parser.parse_args(argv or ['-h'])  # -h, --version, or an unknown command: argparse says
        return 2
    module = importlib.import_module(COMMANDS[argv[0]][0])
    return int(module.main(argv[1:]) or 0)


def main(argv=None) -> int:
    """The console entry point: a user error (missing file, unknown model, missing package) is
    one ``error: ...`` line and exit code 1 (``SALBOX_DEBUG=1`` shows the traceback); a
    subcommand's non-zero code is the exit code."""
    from salbox.apis.runner_utils import run_friendly

    def run():
        code = dispatch(argv)
        if code:
            sys.exit(code)
    run_friendly(run)
    return 0
