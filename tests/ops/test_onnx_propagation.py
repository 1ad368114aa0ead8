"""The standard-op (ONNX) form of DGRL's local propagation against the C++ kernel and the
F.unfold reference, and that an exported graph really uses it and matches in ONNX Runtime."""
import warnings

import pytest
import torch

from salbox.ops import extension_available, local_propagation, local_propagation_reference
from salbox.ops.onnx_propagation import local_propagation_onnx, neighbours

SHAPES = [(1, 3, 8, 8), (2, 5, 13, 9), (3, 7, 11, 17), (1, 5, 3, 2), (2, 3, 1, 1), (2, 1, 4, 6)]
MODES = ('foreground', 'background', 'both', 'logit')


def make_inputs(batch, size, height, width, seed=0):
    gen = torch.Generator().manual_seed(seed)
    return (torch.randn(batch, size * size, height, width, generator=gen),
            torch.rand(batch, 1, height, width, generator=gen))


def test_neighbours_follow_unfold_order_by_direct_indexing():
    """Offset d = ky * n + kx holds s[y + ky - r, x + kx - r], zero outside (checked by loops)."""
    sal = torch.arange(1, 13, dtype=torch.float32).view(1, 1, 3, 4)
    got = neighbours(sal, 3)
    for ky in range(3):
        for kx in range(3):
            for y in range(3):
                for x in range(4):
                    sy, sx = y + ky - 1, x + kx - 1
                    want = sal[0, 0, sy, sx] if 0 <= sy < 3 and 0 <= sx < 4 else 0.0
                    assert got[0, ky * 3 + kx, y, x] == want


@pytest.mark.parametrize('shape', SHAPES)
@pytest.mark.parametrize('mode', MODES)
def test_standard_op_form_equals_reference_and_kernel(shape, mode):
    coeffs, sal = make_inputs(*shape)
    got = local_propagation_onnx(coeffs, sal, mode)
    assert (got - local_propagation_reference(coeffs, sal, mode)).abs().max() <= 1e-5
    if extension_available():
        assert (got - local_propagation(coeffs, sal, mode)).abs().max() <= 1e-5


def test_bad_window_is_refused():
    with pytest.raises(ValueError, match='n odd'):
        local_propagation_onnx(torch.zeros(1, 4, 3, 3), torch.zeros(1, 1, 3, 3))


class _Propagate(torch.nn.Module):
    def forward(self, coeffs, saliency):
        return local_propagation(coeffs, saliency, mode='logit')


def test_export_selects_standard_ops_and_onnxruntime_matches(tmp_path):
    onnx = pytest.importorskip('onnx')
    ort = pytest.importorskip('onnxruntime')
    coeffs, sal = make_inputs(1, 5, 16, 12)
    path = str(tmp_path / 'prop.onnx')
    axes = {0: 'b', 2: 'h', 3: 'w'}
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        torch.onnx.export(_Propagate(), (coeffs, sal), path, dynamo=False, opset_version=18,
                          input_names=['coeffs', 'saliency'], output_names=['out'],
                          dynamic_axes={'coeffs': axes, 'saliency': axes, 'out': axes})
    graph = onnx.load(path).graph
    ops = {node.op_type for node in graph.node}
    assert all(node.domain in ('', 'ai.onnx') for node in graph.node)  # no custom op
    assert 'Im2Col' not in ops and {'Pad', 'Slice', 'Concat', 'Mul', 'ReduceSum'} <= ops
    session = ort.InferenceSession(path, providers=['CPUExecutionProvider'])
    for shape in [(2, 5, 37, 23), (1, 5, 320, 320)]:  # other sizes than the export size
        coeffs, sal = make_inputs(*shape, seed=3)
        got = torch.from_numpy(session.run(None, {'coeffs': coeffs.numpy(),
                                                  'saliency': sal.numpy()})[0])
        want = local_propagation(coeffs, sal, mode='logit')  # C++ kernel when built
        assert (got - want).abs().max() <= 1e-5
