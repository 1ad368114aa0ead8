"""Distributed training and testing on the CPU (2 processes, gloo) and kill-and-resume, on a
tiny R3Net (ResNet-18, 16/8-channel neck/head, 48x48 images, no CRF).

* 2-process training through ``tools/dist_train.sh`` (torchrun, ``--launcher pytorch``) with
  2 images per rank follows the 1-process run with 4 images: same mean loss at every
  iteration and the same final weights, within ``LOSS_RTOL`` / ``WEIGHT_ATOL`` (measured on
  2 CPU cores: 9.7e-8 relative on losses, 3e-8 absolute on weights; the difference is the
  order of the float sums in DDP's gradient all-reduce). BatchNorm is held in eval mode in
  both runs (``FreezeBNHook``): per-rank batch statistics differ from one 4-image batch
  unless SyncBN is used, which torch implements for GPUs only.
* 2-process testing (``--launcher pytorch``) on 5 images, which 2 ranks cannot split evenly
  (mmengine's DefaultSampler pads rank 1 with a repeat of image 0), gives exactly the metrics
  and maps of the 1-process test: the padded repeat is dropped and per-image results merge
  in data-set order (mmengine ``collect_results``).
* A real ``tools/train.py`` killed with SIGKILL after its first checkpoint, then run again
  with ``--resume``, ends with bitwise the same weights (and per-iteration losses) as an
  uninterrupted run, with random crop / flip / rotation on (data order and augmentation
  resume: mmengine replays the sampler and the pipeline for the iterations already done).
"""
import json
import os
import os.path as osp
import shutil
import signal
import subprocess
import sys
import time

import pytest
import torch

from _tools import HERE, REPO, dist_env, free_port, run_tools

LOSS_RTOL = 1e-5
WEIGHT_ATOL = 1e-6
MAX_ITERS = 4

NO_AUG = "[dict(type='LoadSalImageFromFile'), dict(type='LoadSalAnnotation'), " \
         "dict(type='PackSalInputs')]"
AUG = "[dict(type='LoadSalImageFromFile'), dict(type='LoadSalAnnotation'), " \
      "dict(type='RandomCropOrResize', size=40), dict(type='RandomFlip', prob=0.5), " \
      "dict(type='RandomRotate', max_angle=10), dict(type='PackSalInputs')]"


def _write_config(path, data_root, pipeline, save_optimizer=True):
    path.write_text(f"""
_base_ = [{osp.join(REPO, 'configs/r3net/r3net_resnet18_synthetic.py')!r}]
custom_imports = dict(imports=['_dist_hooks'], allow_failed_imports=False)
custom_hooks = [dict(type='FreezeBNHook'), dict(type='LossRecordHook'),
                dict(type='ModelRecordHook')]
train_dataloader = dict(batch_size=4, dataset=dict(
    data_root={str(data_root)!r}, num_images=8, img_size=(48, 48), pipeline={pipeline}))
test_dataloader = dict(batch_size=2, dataset=dict(
    data_root={str(data_root)!r}, num_images=5, img_size=(48, 48)))
model = dict(neck=dict(channels=16), head=dict(in_channels=16, channels=8), postprocessors=[])
train_cfg = dict(max_iters={MAX_ITERS})
param_scheduler = [dict(type='PolyLR', power=0.9, eta_min=0.0, begin=0, end={MAX_ITERS},
                        by_epoch=False)]
default_hooks = dict(checkpoint=dict(interval=2, max_keep_ckpts=1, save_optimizer={save_optimizer}),
                     logger=dict(interval=1))
""")
    return str(path)


@pytest.fixture(scope='module')
def setup(tmp_path_factory):
    """Configs, data (generated once, before any parallel run) and the two 1-process runs
    (without and with augmentation) the other runs are compared with."""
    from salbox.datasets import SyntheticSalDataset
    tmp = tmp_path_factory.mktemp('dist')
    data = tmp / 'data'
    SyntheticSalDataset(data_root=str(data), split='train', num_images=8, img_size=(48, 48),
                        seed=0, lazy_init=True).full_init()
    SyntheticSalDataset(data_root=str(data), split='test', num_images=5, img_size=(48, 48),
                        seed=1, lazy_init=True).full_init()
    plain = _write_config(tmp / 'tiny_plain.py', data, NO_AUG, save_optimizer=False)
    aug = _write_config(tmp / 'tiny_aug.py', data, AUG)
    codes = run_tools([
        ('train', [plain, '--work-dir', str(tmp / 'one_plain')], tmp, tmp / 'one_plain.log'),
        ('train', [aug, '--work-dir', str(tmp / 'one_aug')], tmp, tmp / 'one_aug.log')])
    for code, name in zip(codes, ('one_plain', 'one_aug')):
        assert code == 0, (tmp / f'{name}.log').read_text()[-3000:]
    return tmp, plain, aug


def _weights(path):
    from salbox.utils import load_checkpoint_file
    return load_checkpoint_file(str(path))['state_dict']


def _losses(work, rank=0):
    return json.loads((work / f'losses_rank{rank}.json').read_text())


def test_two_process_training_matches_one_process(setup):
    tmp, plain, _ = setup
    work = tmp / 'two_plain'
    env = dict(os.environ, PORT=str(free_port()), OMP_NUM_THREADS='1', MKL_NUM_THREADS='1',
               PYTHONPATH=os.pathsep.join([HERE, os.environ.get('PYTHONPATH', '')]))
    result = subprocess.run(
        ['bash', osp.join(REPO, 'tools/dist_train.sh'), plain, '2', '--work-dir', str(work),
         '--cfg-options', 'train_dataloader.batch_size=2'],
        cwd=tmp, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    one = torch.tensor(_losses(tmp / 'one_plain'))
    two = (torch.tensor(_losses(work, 0)) + torch.tensor(_losses(work, 1))) / 2
    assert len(one) == len(two) == MAX_ITERS
    assert torch.allclose(two, one, rtol=LOSS_RTOL, atol=0), (one, two)
    # The ranks saw different images: their own losses differ from the mean.
    assert not torch.allclose(torch.tensor(_losses(work, 0)), one, rtol=1e-3)
    expected, got = _weights(tmp / 'one_plain' / f'iter_{MAX_ITERS}.pth'), \
        _weights(work / f'iter_{MAX_ITERS}.pth')
    assert expected.keys() == got.keys()
    moved = 0
    for key, value in expected.items():
        if value.is_floating_point():
            assert torch.allclose(got[key], value, rtol=0, atol=WEIGHT_ATOL), key
            moved += 1
    assert moved > 100


@pytest.fixture(scope='module')
def one_process_test(setup):
    """``tools/test.py --out`` in one process: maps in ``maps_one``, table in ``test_one``."""
    tmp, plain, _ = setup
    ckpt = str(tmp / 'one_plain' / f'iter_{MAX_ITERS}.pth')
    code, = run_tools([('test', [plain, ckpt, '--work-dir', str(tmp / 'test_one'),
                                 '--out', str(tmp / 'maps_one')], tmp, tmp / 'test_one.log')])
    assert code == 0, (tmp / 'test_one.log').read_text()[-3000:]
    return tmp / 'maps_one', tmp / 'test_one' / 'results' / 'results.json'


def test_two_process_test_equals_one_process_on_an_uneven_split(setup, one_process_test):
    tmp, plain, _ = setup
    ckpt = str(tmp / 'one_plain' / f'iter_{MAX_ITERS}.pth')
    port = free_port()
    jobs = []
    for rank in range(2):
        jobs.append(('test', [plain, ckpt, '--work-dir', str(tmp / 'test_two'),
                              '--out', str(tmp / 'maps_two'), '--launcher', 'pytorch'],
                     tmp, tmp / f'test_two_{rank}.log', dist_env(rank, 2, port)))
    codes = run_tools(jobs)
    for code, log in zip(codes, ('test_two_0', 'test_two_1')):
        assert code == 0, (tmp / f'{log}.log').read_text()[-3000:]
    one = json.loads(one_process_test[1].read_text())
    two = json.loads((tmp / 'test_two' / 'results' / 'results.json').read_text())
    assert one == two  # exact: same per-image statistics, merged in the same order
    maps_one = sorted(os.listdir(tmp / 'maps_one' / 'Synthetic'))
    assert len(maps_one) == 5 and sorted(os.listdir(tmp / 'maps_two' / 'Synthetic')) == maps_one
    for name in maps_one:
        assert (tmp / 'maps_one' / 'Synthetic' / name).read_bytes() == \
            (tmp / 'maps_two' / 'Synthetic' / name).read_bytes()
    for rank in range(2):  # each rank really ran a DDP-wrapped model
        model = json.loads((tmp / 'test_two' / f'model_rank{rank}.json').read_text())
        assert model['wrapper'] == 'MMDistributedDataParallel'


def test_sigkill_mid_run_then_resume_matches_an_uninterrupted_run(setup):
    tmp, _, aug = setup
    work = tmp / 'killed'
    env = dict(os.environ, OMP_NUM_THREADS='1', MKL_NUM_THREADS='1',
               PYTHONPATH=os.pathsep.join([HERE, os.environ.get('PYTHONPATH', '')]))
    with open(tmp / 'killed.log', 'w') as log:
        process = subprocess.Popen([sys.executable, osp.join(REPO, 'tools/train.py'), aug,
                                    '--work-dir', str(work)], cwd=tmp, env=env,
                                   stdout=log, stderr=subprocess.STDOUT)
    deadline = time.time() + 300
    while not (work / 'last_checkpoint').exists() and process.poll() is None \
            and time.time() < deadline:
        time.sleep(0.02)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert process.returncode == -signal.SIGKILL, (tmp / 'killed.log').read_text()[-3000:]
    assert not (work / f'iter_{MAX_ITERS}.pth').exists(), 'finished before the kill'
    stopped_at = len(_losses(work))
    assert 2 <= stopped_at < MAX_ITERS

    code, = run_tools([('train', [aug, '--work-dir', str(work), '--resume'], tmp,
                        tmp / 'resumed.log')])
    log = (tmp / 'resumed.log').read_text()
    assert code == 0, log[-3000:]
    assert 'resumed epoch: 0, iter: 2' in log
    # Iterations 3..4 again, from the checkpoint: the same losses and bitwise the same weights.
    assert _losses(work) == _losses(tmp / 'one_aug')[2:]
    expected = _weights(tmp / 'one_aug' / f'iter_{MAX_ITERS}.pth')
    got = _weights(work / f'iter_{MAX_ITERS}.pth')
    assert all(torch.equal(got[k], v) for k, v in expected.items())
    # Rotation kept only the newest checkpoint, and nothing half-written is left.
    assert sorted(p for p in os.listdir(work) if p.endswith('.pth') or '.tmp-' in p) == \
        [f'iter_{MAX_ITERS}.pth']


def test_test_tool_resume_reuses_complete_maps_and_redoes_the_rest(setup, one_process_test):
    """``tools/test.py --out DIR --resume`` after a crash: complete maps are read back (not
    rewritten), a missing and a truncated map are predicted again, metrics are unchanged."""
    tmp, plain, _ = setup
    ckpt = str(tmp / 'one_plain' / f'iter_{MAX_ITERS}.pth')
    first = tmp / 'maps_first'
    shutil.copytree(one_process_test[0], first)
    maps = first / 'Synthetic'
    names = sorted(os.listdir(maps))
    original = {n: (maps / n).read_bytes() for n in names}
    (maps / names[0]).unlink()                                 # never written
    (maps / names[1]).write_bytes(original[names[1]][:40])      # cut short by the crash
    kept = {n: (maps / n).stat().st_mtime_ns for n in names[2:]}
    code, = run_tools([('test', [plain, ckpt, '--work-dir', str(tmp / 'resume_b'), '--out',
                                 str(first), '--resume'], tmp, tmp / 'resume_b.log')])
    log = (tmp / 'resume_b.log').read_text()
    assert code == 0, log[-3000:]
    assert '3 maps already in' in log
    assert {n: (maps / n).stat().st_mtime_ns for n in names[2:]} == kept
    assert {n: (maps / n).read_bytes() for n in names} == original
    assert json.loads((tmp / 'resume_b' / 'results' / 'results.json').read_text()) == \
        json.loads(one_process_test[1].read_text())


def test_test_tool_refuses_a_code_running_checkpoint_in_one_line(setup):
    tmp, plain, _ = setup
    marker = tmp / 'pwned'

    class RunsCode:
        def __reduce__(self):
            return (os.system, (f'touch {marker}',))

    evil = tmp / 'downloaded_r3net.pth'
    torch.save({'state_dict': {'backbone.conv1.weight': RunsCode()}}, evil)
    env = {'SALBOX_TRUST_CHECKPOINTS': '0'}
    code, = run_tools([('test', [plain, str(evil), '--work-dir', str(tmp / 'evil')], tmp,
                        tmp / 'evil.log', env)])
    assert code == 1
    last = (tmp / 'evil.log').read_text().strip().splitlines()[-1]
    assert last.startswith(f'error: {evil} cannot be loaded safely')
    assert 'SALBOX_TRUST_CHECKPOINTS=1' in last and not marker.exists()


def test_infer_redoes_only_truncated_or_unfinished_outputs(setup):
    tmp, plain, _ = setup
    ckpt = str(tmp / 'one_plain' / f'iter_{MAX_ITERS}.pth')
    images = tmp / 'data' / 'test' / 'images'
    stems = sorted(p.split('.')[0] for p in os.listdir(images))
    out = tmp / 'infer'
    (out / 'maps').mkdir(parents=True)
    (out / 'cutouts').mkdir()
    import cv2
    import numpy as np
    done = np.full((48, 48), 7, np.uint8)  # a finished earlier output, recognisable
    for stem in stems[2:]:
        cv2.imwrite(str(out / 'maps' / f'{stem}.png'), done)
        cv2.imwrite(str(out / 'cutouts' / f'{stem}.png'), np.dstack([done] * 4))
    cv2.imwrite(str(out / 'maps' / f'{stems[0]}.png'), done)  # killed before its cut-out
    (out / 'maps' / f'{stems[1]}.png').write_bytes(
        (out / 'maps' / f'{stems[2]}.png').read_bytes()[:30])  # killed while writing
    code, = run_tools([('infer', [plain, ckpt, str(images), '--out-dir', str(out), '--cutout'],
                        tmp, tmp / 'infer.log')])
    assert code == 0, (tmp / 'infer.log').read_text()[-3000:]
    for stem in stems:
        saved = cv2.imread(str(out / 'maps' / f'{stem}.png'), cv2.IMREAD_UNCHANGED)
        assert saved is not None and saved.shape == (48, 48)
        assert (saved == 7).all() == (stem in stems[2:]), stem
        assert (out / 'cutouts' / f'{stem}.png').exists()
