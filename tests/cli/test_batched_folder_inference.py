"""salbox.apis.batch_inference without a real network: grouping by input shape, a failing
batch retried one photo at a time, decode and write failures reported per photo."""
import torch

import salbox.apis.batch_inference as bi


class FakeModel:
    """test_step fails on any batch holding a 'bad' photo; records the batch sizes."""

    def __init__(self):
        self.batches = []

    def test_step(self, batch):
        paths = [d['path'] for d in batch['data_samples']]
        self.batches.append(len(paths))
        if any('bad' in p for p in paths):
            raise RuntimeError('the network failed')
        return [f'map of {p}' for p in paths]


def _pipeline(results):
    path = results['img_path']
    if 'unreadable' in path:
        raise OSError(f'cannot decode {path}')
    size = 8 if 'big' in path else 4
    return dict(inputs=torch.zeros(3, size, size), data_samples=dict(path=path))


def test_failures_are_isolated_and_shapes_are_grouped(monkeypatch, tmp_path):
    monkeypatch.setattr(bi, 'inference_pipelines', lambda model: (_pipeline, None))
    monkeypatch.setattr(bi, 'pseudo_collate', lambda datas: dict(
        inputs=[d['inputs'] for d in datas], data_samples=[d['data_samples'] for d in datas]))
    names = ['a', 'b', 'bad', 'c', 'unreadable', 'big1', 'big2', 'd', 'write-fails']
    paths = []
    for name in names:
        (tmp_path / f'{name}.png').write_bytes(b'')
        paths.append(str(tmp_path / f'{name}.png'))
    written = {}

    def write(path, sample):
        if 'write-fails' in path:
            raise OSError(28, 'No space left on device', path)
        written[path] = sample
    model = FakeModel()
    stats = bi.predict_files(model, paths, write, batch_size=4, workers=0, progress=False)
    ok = [p for p in paths if not any(k in p for k in ('bad', 'unreadable', 'write-fails'))]
    assert sorted(written) == sorted(ok) and stats.written == len(ok)
    assert all(written[p] == f'map of {p}' for p in ok)
    failed = dict(stats.failures)
    assert set(failed) == {paths[2], paths[4], paths[8]}
    assert 'RuntimeError: the network failed' in failed[paths[2]]
    assert 'cannot decode' in failed[paths[4]] and 'No space left' in failed[paths[8]]
    # loader batches of 4: [a b bad c] fails whole, then one at a time (4 calls);
    # [unreadable big1 big2 d]: big1+big2 together, d alone; [write-fails]
    assert model.batches == [4, 1, 1, 1, 1, 2, 1, 1]


def test_same_shape_groups_keeps_order_and_limits_size():
    items = [(i, dict(inputs=torch.zeros(3, s, s))) for i, s in enumerate([4, 4, 4, 8, 4])]
    groups = [[i for i, _ in g] for g in bi.same_shape_groups(items, batch_size=2)]
    assert groups == [[0, 1], [2], [3], [4]]
    tta = [(0, dict(inputs=[torch.zeros(3, 4, 4)])), (1, dict(inputs=[torch.zeros(3, 4, 4)]))]
    assert [[i for i, _ in g] for g in bi.same_shape_groups(tta, 8)] == [[0], [1]]
