"""The slow lists of tests/conftest.py name modules and tests that exist."""
import ast
import importlib.util
import os.path as osp

TESTS = osp.dirname(osp.abspath(__file__))
_spec = importlib.util.spec_from_file_location('salbox_tests_conftest',
                                               osp.join(TESTS, 'conftest.py'))
_conftest = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_conftest)  # this folder's conftest (tests/hostile has another)
SLOW_MODULES, SLOW_TESTS = _conftest.SLOW_MODULES, _conftest.SLOW_TESTS


def functions_of(module):
    tree = ast.parse(open(osp.join(TESTS, module)).read())
    return {node.name for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)}


def test_slow_lists_name_real_tests():
    missing = [m for m in SLOW_MODULES | set(SLOW_TESTS) if not osp.isfile(osp.join(TESTS, m))]
    assert not missing, f'tests/conftest.py names missing modules: {missing}'
    for module, names in SLOW_TESTS.items():
        unknown = names - functions_of(module)
        assert not unknown, f'tests/conftest.py names tests not in {module}: {sorted(unknown)}'
