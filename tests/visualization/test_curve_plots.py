"""Curve figures: one per data set with every method, from results or saved curves.json."""
import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

from salbox.evaluation import get_protocol, load_curves, write_results
from salbox.evaluation.functional import aggregate_statistics, image_statistics
from salbox.visualization import plot_curves

REPO = Path(__file__).resolve().parents[2]


def method_curves(seed, blur):
    rng = np.random.default_rng(seed)
    stats = []
    for _ in range(4):
        gt = np.zeros((40, 50), np.uint8)
        gt[10:30, 15:35] = 255
        pred = np.clip(gt * (1 - blur) + rng.normal(0, 60 * blur, gt.shape) + 60 * blur, 0, 255)
        stats.append(image_statistics(pred.astype(np.uint8), gt))
    return aggregate_statistics(stats)


def test_plot_curves_writes_png_and_pdf_per_dataset(tmp_path):
    curves = {'ECSSD': {'good': method_curves(0, 0.2)[1], 'poor': method_curves(1, 0.8)[1]},
              'SOD': {'good': method_curves(2, 0.3)[1]}}
    written = plot_curves(curves, str(tmp_path), protocol_name='pysodmetrics')
    assert set(written) == {'ECSSD', 'SOD'}
    for paths in written.values():
        assert sorted(Path(p).suffix for p in paths) == ['.pdf', '.png']
        assert all(Path(p).stat().st_size > 1000 for p in paths)
    with pytest.raises(ValueError, match='nothing to plot'):
        plot_curves(curves, str(tmp_path), datasets=['DUT-OMRON'])


def test_plot_curves_tool_merges_saved_results(tmp_path):
    protocol = get_protocol()
    for name, blur in (('run_a', 0.2), ('run_b', 0.7)):
        scores, curves = method_curves(len(name) + int(blur * 10), blur)
        write_results({'ECSSD': {'salbox': scores}}, str(tmp_path / name), protocol,
                      curves={'ECSSD': {'salbox': curves}})
    loaded = load_curves(str(tmp_path / 'run_a' / 'curves.json'))
    assert loaded['ECSSD']['salbox']['recall'].shape == (256, )
    assert '_protocol' in json.loads((tmp_path / 'run_a' / 'curves.json').read_text())

    spec = importlib.util.spec_from_file_location(
        'plot_curves_tool', REPO / 'tools' / 'analysis_tools' / 'plot_curves.py')
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    merged, _ = tool.merge_curves([str(tmp_path / 'run_a'), str(tmp_path / 'run_b')],
                                  ['R3Net', 'DGRL'])
    assert list(merged['ECSSD']) == ['R3Net', 'DGRL']
    out = tmp_path / 'figures'
    assert tool.main([str(tmp_path / 'run_a'), str(tmp_path / 'run_b'), '--names', 'R3Net',
                      'DGRL', '--out', str(out), '--formats', 'png']) == 0
    assert (out / 'curves_ECSSD.png').stat().st_size > 1000
    assert tool.main([str(tmp_path / 'nowhere'), '--out', str(out)]) == 2
