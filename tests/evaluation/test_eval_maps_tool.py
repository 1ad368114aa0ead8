"""tools/eval_maps.py and folder evaluation: matching, problems, parallel workers, outputs."""
import importlib.util
import json
from pathlib import Path

import cv2
import pytest
from eval_pairs import generated_pairs

from salbox.evaluation import EvaluationInputError, evaluate_folder, evaluate_folders

REPO = Path(__file__).resolve().parents[2]


def load_tool():
    spec = importlib.util.spec_from_file_location('eval_maps', REPO / 'tools' / 'eval_maps.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def make_folders(root, datasets=('ECSSD', 'HKU-IS'), methods=('A', 'B'), count=6,
                 pred_suffix='.png'):
    """``root/gt/<dataset>`` masks and ``root/<method>/<dataset>`` maps."""
    for d_index, dataset in enumerate(datasets):
        pairs = generated_pairs(count, seed=40 + d_index, max_side=48)
        (root / 'gt' / dataset).mkdir(parents=True)
        for i, (pred, gt) in enumerate(pairs):
            cv2.imwrite(str(root / 'gt' / dataset / f'{i:02d}.png'), gt)
            for m_index, method in enumerate(methods):
                folder = root / method / dataset
                folder.mkdir(parents=True, exist_ok=True)
                shifted = cv2.add(pred, m_index * 20)
                cv2.imwrite(str(folder / f'{i:02d}{pred_suffix}'), shifted)
    return root


def command(root, out, datasets=('ECSSD', 'HKU-IS'), methods=('A', 'B'), extra=()):
    args = ['--gt'] + [f'{d}={root / "gt" / d}' for d in datasets]
    args += ['--pred'] + [f'{m}={d}:{root / m / d}' for m in methods for d in datasets]
    return args + ['--protocol', 'pysodmetrics', '--out', str(out), '--no-progress'] + list(extra)


def test_two_methods_two_datasets_one_command(tmp_path, capsys):
    root = make_folders(tmp_path / 'data')
    out = tmp_path / 'out'
    assert load_tool().main(command(root, out)) == 0
    printed = capsys.readouterr().out
    assert 'protocol=pysodmetrics' in printed and 'HKU-IS' in printed
    results = json.loads((out / 'results.json').read_text())
    assert list(results) == ['ECSSD', 'HKU-IS']
    assert list(results['ECSSD']) == ['A', 'B']
    assert list(results['ECSSD']['A']) == ['MAE', 'maxF', 'meanF', 'adpF', 'Sm', 'maxEm',
                                           'meanEm', 'adpEm', 'wF']
    single, _ = evaluate_folder(str(root / 'B' / 'HKU-IS'), str(root / 'gt' / 'HKU-IS'))
    assert results['HKU-IS']['B'] == single
    for name in ('results.csv', 'results.md', 'curves.json', 'curves_ECSSD.png',
                 'curves_ECSSD.pdf', 'curves_HKU-IS.png', 'curves_HKU-IS.pdf'):
        assert (out / name).stat().st_size > 0, name


def test_missing_files_are_listed_and_stop_unless_asked(tmp_path, capsys):
    root = make_folders(tmp_path / 'data', datasets=('ECSSD', ), methods=('A', ))
    (root / 'A' / 'ECSSD' / '03.png').unlink()
    stray = cv2.imread(str(root / 'gt' / 'ECSSD' / '00.png'))
    cv2.imwrite(str(root / 'A' / 'ECSSD' / 'stray.png'), stray)
    out = tmp_path / 'out'
    tool = load_tool()
    assert tool.main(command(root, out, ('ECSSD', ), ('A', ))) == 2
    error = capsys.readouterr().err
    assert '1 masks without a map: 03' in error and '1 maps without a mask: stray' in error
    assert not (out / 'results.json').exists()
    problems = json.loads((out / 'problems.json').read_text())
    assert problems[0]['missing_maps'] == ['03']

    assert tool.main(command(root, out, ('ECSSD', ), ('A', ), ['--skip-missing'])) == 0
    assert 'evaluated the matched pairs only' in capsys.readouterr().err
    assert json.loads((out / 'results.json').read_text())['ECSSD']['A']['MAE'] > 0


def test_size_mismatch_is_reported_by_name(tmp_path):
    root = make_folders(tmp_path / 'data', datasets=('SOD', ), methods=('A', ))
    path = root / 'A' / 'SOD' / '01.png'
    image = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
    cv2.imwrite(str(path), cv2.resize(image, (image.shape[1] + 3, image.shape[0])))
    with pytest.raises(EvaluationInputError, match='1 size mismatches: 01 '):
        evaluate_folders({'SOD': str(root / 'gt' / 'SOD')}, {'A': {'SOD': str(root / 'A' / 'SOD')}},
                         progress=False)
    # A protocol that resizes evaluates every pair.
    scores, _, reports = evaluate_folders(
        {'SOD': str(root / 'gt' / 'SOD')}, {'A': {'SOD': str(root / 'A' / 'SOD')}},
        protocol=dict(resize='bilinear'), progress=False)
    assert len(reports[0].pairs) == 6 and scores['SOD']['A']['MAE'] > 0


def test_suffixes_workers_and_protocol_overrides(tmp_path):
    root = make_folders(tmp_path / 'data', datasets=('PASCAL-S', ), methods=('A', ),
                        pred_suffix='_sal.png')
    gt = {'PASCAL-S': str(root / 'gt' / 'PASCAL-S')}
    maps = {'A': {'PASCAL-S': str(root / 'A' / 'PASCAL-S')}}
    serial, _, _ = evaluate_folders(gt, maps, pred_suffix='_sal.png', progress=False)
    parallel, _, _ = evaluate_folders(gt, maps, pred_suffix='_sal.png', workers=2, progress=False)
    assert serial == parallel
    (tmp_path / 'empty').mkdir()
    with pytest.raises(FileNotFoundError, match="no map ending with '.png'"):
        evaluate_folders(gt, {'A': {'PASCAL-S': str(tmp_path / 'empty')}}, progress=False)
    with pytest.raises(FileNotFoundError, match='folder not found'):
        evaluate_folders(gt, {'A': {'PASCAL-S': str(tmp_path / 'missing')}}, progress=False)

    out = tmp_path / 'out'
    args = command(root, out, ('PASCAL-S', ), ('A', ), ['--pred-suffix', '_sal.png', '--set',
                                                        'eps=1e-4', '--metrics', 'MAE', 'maxF',
                                                        '--no-plot'])
    assert load_tool().main(args) == 0
    table = (out / 'results.md').read_text()
    assert 'protocol=pysodmetrics+' in table and 'eps=0.0001' in table
    assert not (out / 'curves_PASCAL-S.png').exists()


def test_bad_arguments_are_clear(tmp_path, capsys):
    tool = load_tool()
    with pytest.raises(SystemExit):
        tool.parse_args(['--gt', 'ECSSD', '--pred', 'A=ECSSD:x', '--out', 'o'])
    with pytest.raises(SystemExit):
        tool.parse_args(['--gt', 'ECSSD=x', '--pred', 'A=DUTS:x', '--out', 'o'])
    assert 'no --gt folder' in capsys.readouterr().err
    assert tool.main(['--gt', 'ECSSD=x', '--pred', 'A=ECSSD:y', '--out', str(tmp_path),
                      '--set', 'epsilon=1']) == 2
    assert 'unknown protocol option' in capsys.readouterr().err
