"""Every repository path that README.md and docs/*.md name exists (configs, tools, modules,
docs), so a reader who follows the documentation never meets a missing file."""
import glob
import os.path as osp
import re

import pytest

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
TOP = ('configs', 'tools', 'salbox', 'docs', 'tests', 'benchmarks', 'csrc', 'requirements',
       'projects', '.ci')
PATH = re.compile(r'(?<![\w./-])((?:%s)/[\w./-]*)' % '|'.join(re.escape(t) for t in TOP))
PLACEHOLDER = re.compile(r'[<>{}*]|\.\.\.|YOUR|NAME|METHOD')
DOCS = sorted(glob.glob(osp.join(REPO, 'docs', '*.md'))) + [osp.join(REPO, 'README.md')]


def named_paths(text):
    for match in PATH.finditer(text):
        end = match.end()
        if end < len(text) and text[end] in '<{*':  # e.g. configs/<method>/, csrc/**
            continue
        path = match.group(1).rstrip('.,:;)')
        if path and not PLACEHOLDER.search(path):
            yield path


@pytest.mark.parametrize('doc', DOCS, ids=lambda p: osp.relpath(p, REPO))
def test_every_named_path_exists(doc):
    text = open(doc, encoding='utf-8').read()
    paths = sorted(set(named_paths(text)))
    missing = [p for p in paths if not osp.exists(osp.join(REPO, p))]
    assert not missing, f'{osp.relpath(doc, REPO)} names paths that do not exist: {missing}'


def test_the_scanner_finds_paths():
    found = list(named_paths('see `tools/train.py`, configs/<method>/README.md and '
                             '[x](docs/config.md).'))
    assert found == ['tools/train.py', 'docs/config.md']
