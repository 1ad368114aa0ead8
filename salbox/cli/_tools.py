"""Run a script of ``tools/`` in this process: ``salbox train`` / ``test`` / ``eval`` take
exactly the arguments of ``tools/train.py`` / ``tools/test.py`` / ``tools/eval_maps.py``.

The scripts stay where users and docs know them (``python tools/train.py`` keeps working), and
are loaded by file path from the checkout beside the package (``tools/`` is not a package and
is not installed by a non-editable ``pip install``: then this says so in one line).
"""
import importlib.util
import os.path as osp

from salbox.utils.errors import SalboxError

TOOLS = osp.join(osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))), 'tools')


def load_tool(name: str):
    path = osp.join(TOOLS, f'{name}.py')
    if not osp.isfile(path):
        raise SalboxError(f'{path} is not here: `salbox {name}` runs the tools of a salbox '
                          'checkout (git clone, then pip install -e .)')
    spec = importlib.util.spec_from_file_location(f'salbox_tools_{name}', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_tool(name: str, argv, prog: str) -> int:
    import sys
    module = load_tool(name)
    saved = sys.argv[0]
    sys.argv[0] = prog  # argparse's usage line names the command the user typed
    try:
        return int(module.main(list(argv)) or 0)
    finally:
        sys.argv[0] = saved
