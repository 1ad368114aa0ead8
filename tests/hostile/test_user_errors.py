"""User errors become one clear message (the whole list when there are several problems),
and tools/promote.py fits reproducibly (docs/bad_input.md)."""
import os
import os.path as osp

import cv2
import numpy as np
import pytest
from hostile_files import REPO, dataset_folder, tool

from salbox.apis.runner_utils import MAX_ERROR_LINES, run_friendly
from salbox.utils.errors import DataError, SalboxError


def _exit_message(capsys, main):
    with pytest.raises(SystemExit) as info:
        run_friendly(main)
    assert info.value.code == 1
    return capsys.readouterr().err


def test_multi_line_errors_are_shown_whole(capsys, monkeypatch):
    monkeypatch.delenv('SALBOX_DEBUG', raising=False)
    problems = [f'  {i:06d}.jpg 160x160 vs {i:06d}.png 120x100' for i in range(5)]

    def scan():
        raise DataError('ECSSD: 5 pairs scanned, 5 problems:\n' + '\n'.join(problems))
    err = _exit_message(capsys, scan)
    assert err.startswith('error: ECSSD: 5 pairs scanned, 5 problems:\n')
    assert all(line in err for line in problems)

    def many():
        raise DataError('D: 100 problems:\n' + '\n'.join(f'  bad{i}.jpg' for i in range(100)))
    err = _exit_message(capsys, many).splitlines()
    assert len(err) == MAX_ERROR_LINES + 2
    assert err[-1] == ('  ... and 80 more line(s) (SALBOX_DEBUG=1 shows the whole error)')


def test_test_tool_scan_error_names_the_data_set_and_every_file(tmp_path, bad_files,
                                                                tiny_model, capsys,
                                                                monkeypatch):
    monkeypatch.delenv('SALBOX_DEBUG', raising=False)
    config, checkpoint, data = tiny_model
    if osp.isdir(data):
        import shutil
        shutil.rmtree(data)
    dataset_folder(data, ('good', 'zero_bytes', 'other_size'), bad_files)
    err = _exit_message(capsys, lambda: tool('test').main(
        [config, checkpoint, '--work-dir', str(tmp_path / 'work')]))
    first = err.splitlines()[0]
    assert first.startswith('error: data: 3 pairs scanned'), err
    assert 'zero_bytes.jpg' in err and 'other_size.png' in err


def test_misspelt_cfg_options_key(tmp_path, tiny_model, capsys, monkeypatch):
    monkeypatch.delenv('SALBOX_DEBUG', raising=False)
    config, checkpoint, _ = tiny_model
    err = _exit_message(capsys, lambda: tool('test').main(
        [config, checkpoint, '--work-dir', str(tmp_path / 'w'), '--cfg-options',
         'trian_cfg.max_iters=3']))
    assert err.strip() == ("error: --cfg-options: unknown top-level key 'trian_cfg' would be "
                           "ignored; did you mean 'train_cfg'?")
    # a key the config defines is accepted, even if no Runner option has its name
    from salbox.apis.runner_utils import load_config
    assert load_config(config, {'max_iters': 3}).max_iters == 3


def test_text_file_as_checkpoint_is_one_line(tmp_path, tiny_model, capsys, monkeypatch):
    monkeypatch.delenv('SALBOX_DEBUG', raising=False)
    config, _, _ = tiny_model
    text = tmp_path / 'readme.pth'
    text.write_text('hello world\n')
    photo = tmp_path / 'p.png'
    cv2.imwrite(str(photo), np.zeros((8, 8, 3), np.uint8))
    err = _exit_message(capsys, lambda: tool('infer').main(
        [config, str(text), str(photo), '--out-dir', str(tmp_path / 'o')]))
    assert err.strip() == (f"error: {text} is not a checkpoint: neither a torch zip file nor a "
                           "pickle (starts with b'hello world\\n')")


def test_permission_error_is_one_line(capsys, monkeypatch):
    monkeypatch.delenv('SALBOX_DEBUG', raising=False)

    def denied():
        raise PermissionError(13, 'Permission denied', '/data/x.jpg')
    assert _exit_message(capsys, denied).strip() == 'error: Permission denied: /data/x.jpg'


# --- tools/promote.py ---------------------------------------------------------------------

def _promote_inputs(root):
    rng = np.random.default_rng(0)
    for folder in ('img', 'pri'):
        os.makedirs(osp.join(root, folder), exist_ok=True)
    for i in range(2):
        image = cv2.GaussianBlur(rng.integers(0, 255, (32, 32, 3)).astype(np.uint8), (5, 5), 2)
        prior = np.zeros((32, 32), np.uint8)
        prior[6 + i:22, 8:24 - i] = 255
        cv2.imwrite(osp.join(root, 'img', f'{i}.jpg'), image)
        cv2.imwrite(osp.join(root, 'pri', f'{i}.png'), cv2.GaussianBlur(prior, (7, 7), 3))


def test_promote_twice_gives_identical_maps(tmp_path):
    _promote_inputs(str(tmp_path))
    config = osp.join(REPO, 'configs/mi_promoter/mi_promoter_mobilenetv2_synthetic.py')
    maps = []
    for run in ('a', 'b'):  # in one process: the global generator differs between the runs
        out = tmp_path / run
        tool('promote').main([config, '--images', str(tmp_path / 'img'), '--priors',
                              str(tmp_path / 'pri'), '--out', str(out), '--fit-iters', '3'])
        maps.append([cv2.imread(str(out / f'{i}.png'), 0) for i in range(2)])
    for first, second in zip(*maps):
        assert np.array_equal(first, second)


def test_device_without_cuda(monkeypatch):
    import torch

    from salbox.apis.runner_utils import check_device
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: False)
    with pytest.raises(SalboxError, match=r'^--device cuda:0: torch sees no CUDA GPU \(torch '
                       r'.*, CUDA available: no\); use --device cpu$'):
        check_device('cuda:0')
    check_device('cpu')


def test_eval_maps_01_masks_are_reported_or_scaled(tmp_path, capsys):
    """0/1 masks used to score as empty ground truth (max-F 0) without a word."""
    from hostile_files import mask_array
    eval_maps = tool('eval_maps')
    gt, pred = tmp_path / 'gt', tmp_path / 'pred'
    gt.mkdir()
    pred.mkdir()
    for i in range(3):
        cv2.imwrite(str(gt / f'{i}.png'), mask_array() // 255)  # labels 0/1
        cv2.imwrite(str(pred / f'{i}.png'), mask_array())
    argv = ['--gt', f'D={gt}', '--pred', f'M=D:{pred}', '--out', str(tmp_path / 'o'),
            '--no-progress', '--no-plot']
    assert eval_maps.main(argv) == 2
    err = capsys.readouterr().err
    assert (f'mask {gt}/0.png holds only 0/1 values (a label map, not a 0-255 grey mask; it '
            'would score as empty ground truth): rescale it to 0/255 or pass --binary-01-masks'
            ) in err
    assert eval_maps.main(argv + ['--binary-01-masks']) == 0
    import json
    scores = json.loads((tmp_path / 'o' / 'results.json').read_text())['D']['M']
    assert scores['maxF'] == pytest.approx(1.0) and scores['MAE'] == 0


def test_synthetic_data_set_says_where_it_generates(tmp_path, capsys, monkeypatch):
    from salbox.datasets.synthetic import ensure_synthetic_folder
    monkeypatch.chdir(tmp_path)
    ensure_synthetic_folder('data/synthetic/test', 2, (16, 16), 0, 'separate')
    err = capsys.readouterr().err
    assert err.strip() == (f'note: generating the synthetic data set (2 images and masks) in '
                           f'{tmp_path}/data/synthetic/test (relative data_root, so under the '
                           f'working directory {tmp_path}); set data_root to put it elsewhere')
    ensure_synthetic_folder('data/synthetic/test', 2, (16, 16), 0, 'separate')
    assert capsys.readouterr().err == ''  # said once, when it is generated


def test_promote_names_images_sharing_a_stem(tmp_path):
    """``a.jpg`` and ``a.png`` would both become OUT/a.png: refused, naming both files (the
    one duplicate-name rule of salbox.utils.pairing; --skip-missing does not skip it)."""
    from salbox.utils.errors import DataError
    _promote_inputs(str(tmp_path))
    cv2.imwrite(str(tmp_path / 'img' / '0.png'), np.zeros((32, 32, 3), np.uint8))
    config = osp.join(REPO, 'configs/mi_promoter/mi_promoter_mobilenetv2_synthetic.py')
    argv = [config, '--images', str(tmp_path / 'img'), '--priors', str(tmp_path / 'pri'),
            '--out', str(tmp_path / 'out'), '--fit-iters', '1']
    for extra in ([], ['--skip-missing']):
        with pytest.raises(DataError, match=r'two files for the same name in .*img: 0\.jpg '
                                            r'and 0\.png; keep one'):
            tool('promote').main(argv + extra)
    assert not osp.exists(tmp_path / 'out')
