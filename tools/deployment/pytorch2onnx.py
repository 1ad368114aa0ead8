"""Export a salbox model to ONNX and check ONNX Runtime against PyTorch.

    python tools/deployment/pytorch2onnx.py CONFIG CHECKPOINT --out model.onnx \
        [--shape H W] [--dynamic] [--verify] [--verify-shape H W ...] [--part auto|detector|refiner]

What the graph computes (docs/deployment.md):

* a detector (``SaliencyDetector``: R3Net, the DGRL RLN, ARN, ...; any ``BaseSalDetector`` with
  ``final_logits``): input ``image`` float32 (N, 3, H, W), **RGB in 0-255**; the config's
  ``data_preprocessor`` normalisation is inside the graph. Output ``saliency`` (N, 1, H, W): the
  final probability map (sigmoid of the last logit map, at the input size) - the map a deployer
  wants, not the deep-supervision outputs. Test-time post-processors (DenseCRF) are not part of
  the graph.
* a ``RefinedDetector`` (DGRL BRN on an RLN): by default (``--part refiner``) the refiner alone,
  inputs ``image`` (N, 3, H, W) RGB 0-255 and ``prior`` (N, 1, H, W) in [0, 1], output the
  refined map exactly as its post-processor ``process()`` makes it at test time (resize to
  ``test_size``, refine, sigmoid, resize back, min-max normalise). The propagation op is exported in standard ONNX ops
  (``salbox/ops/onnx_propagation.py``). ``--part detector`` exports both stages in one graph
  as ``predict`` runs them (image in; the first stage's map, then the refiner; refined map out).

``--dynamic`` makes batch, height and width dynamic (traced at 255x255, see
``DYNAMIC_TRACE_SHAPE``). ``--verify`` runs ONNX Runtime and PyTorch on real sizes
(``--verify-shape``, default 320x320, 240x400 and 257x263) and prints the max abs difference; it
fails when one exceeds ``--atol``. Needs the optional packages
``onnx`` and ``onnxruntime`` (``pip install -r requirements/deploy.txt``).

Exporter (chosen, docs/deployment.md): torch's TorchScript-based exporter
(``torch.onnx.export(dynamo=False)``, deprecated in torch 2.9+ but present in 2.13): it exports
R3Net, the RLN and the BRN with dynamic sizes that ONNX Runtime matches, in seconds. The
torch.export-based one (``--exporter dynamo``, torch's default, needs ``onnxscript``) took 15-70 s
per model here and produced RLN and BRN graphs that ONNX Runtime rejected at other batch or
image sizes, so it is offered but not the default.
"""
import argparse
import os.path as osp
import sys
import warnings
from typing import List, Sequence, Tuple

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))  # checkout

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from salbox.utils.errors import SalboxError  # noqa: E402

DEFAULT_VERIFY_SHAPES = ((320, 320), (240, 400), (257, 263))
# --dynamic traces at a size whose feature maps stay odd down to stride 32 with floor pooling
# (255 -> 127 -> 63 -> 31 -> 15 -> 7): model code that crops or resizes only when two maps
# differ in size (e.g. a skip connection after a transposed conv) is then recorded in the graph.
# Traced at 64 or 96, ARN's graph failed at 200x136 in ONNX Runtime; traced at 255 it ran at every
# size tried (docs/deployment.md).
DYNAMIC_TRACE_SHAPE = (255, 255)
FIXED_SHAPE = (320, 320)


# ----------------------------------------------------------------------------- export wrappers
class DetectorForExport(nn.Module):
    """RGB 0-255 image -> final saliency probability map, for any salbox detector."""

    def __init__(self, detector: nn.Module):
        super().__init__()
        if not hasattr(detector, 'final_logits'):
            raise SalboxError(f'{type(detector).__name__} has no final_logits(): not a salbox '
                              'detector (salbox.models.detectors.base.BaseSalDetector)')
        if getattr(detector, 'test_cfg', {}).get('mode') == 'slide':
            raise SalboxError('sliding-window inference (model.test_cfg mode=slide) is not '
                              'exported: its windows depend on the image size; export the '
                              'network with --cfg-options model.test_cfg=None')
        self.detector = detector
        pre = detector.data_preprocessor
        normalize = getattr(pre, 'normalize', False)
        mean = pre.mean.view(1, 3, 1, 1) if normalize else torch.zeros(1, 3, 1, 1)
        std = pre.std.view(1, 3, 1, 1) if normalize else torch.ones(1, 3, 1, 1)
        self.register_buffer('mean', mean.detach().clone().float(), persistent=False)
        self.register_buffer('std', std.detach().clone().float(), persistent=False)
        # The graph takes RGB; a model trained on cv2's BGR (bgr_to_rgb=False) gets BGR.
        self.to_bgr = not getattr(pre, 'bgr_to_rgb', True)
        self.scale_by_max = bool(getattr(pre, 'scale_by_max', False))  # U²-Net: max -> 255

    def preprocess(self, image: torch.Tensor) -> torch.Tensor:
        """RGB 0-255 -> what the model's data preprocessor feeds it."""
        if self.to_bgr:
            image = image.flip(1)
        if self.scale_by_max:
            from salbox.models.data_preprocessor import scale_to_max
            image = scale_to_max(image)
        return (image - self.mean) / self.std

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        return self.detector.final_logits(self.preprocess(image)).sigmoid()


def resize_nearest_exact(x: torch.Tensor, size) -> torch.Tensor:
    """``F.interpolate(mode='nearest-exact')`` as Range/Gather ops, which both exporters map
    (the TorchScript exporter has no ``_upsample_nearest_exact2d``). Source index
    ``floor((i + 0.5) * in / out)``, computed in float32 in the same order as PyTorch's kernel."""
    for dim, out in ((-2, size[0]), (-1, size[1])):
        length = x.shape[dim]
        scale = torch.as_tensor(length, dtype=torch.float32) / out
        index = ((torch.arange(out, dtype=torch.float32) + 0.5) * scale).floor().long()
        x = x.index_select(dim % x.dim(), index.clamp(max=length - 1))
    return x


class RefinerForExport(nn.Module):
    """RGB 0-255 image + prior map in [0, 1] -> refined map: the refiner's test-time
    ``refine`` (salbox.models.refiners.BaseRefiner), batched."""

    def __init__(self, refiner: nn.Module):
        super().__init__()
        self.refiner = refiner

    def _resize(self, x: torch.Tensor, size) -> torch.Tensor:
        if getattr(self.refiner, 'test_interpolation', 'nearest') == 'nearest':
            return resize_nearest_exact(x, size)
        return self.refiner._resize(x, size)

    def forward(self, image: torch.Tensor, prior: torch.Tensor) -> torch.Tensor:
        refiner = self.refiner
        size = image.shape[-2:]
        test_size = getattr(refiner, 'test_size', None)
        if test_size is not None:
            image = self._resize(image, test_size)
            prior = self._resize(prior, test_size)
        refined = refiner(image, prior).sigmoid()
        if test_size is not None:
            refined = self._resize(refined, size)
        if getattr(refiner, 'minmax_normalize', False):
            low = refined.amin(dim=(1, 2, 3), keepdim=True)
            high = refined.amax(dim=(1, 2, 3), keepdim=True)
            span = high - low
            refined = torch.where(span > 1e-8, (refined - low) / span.clamp(min=1e-8), refined)
        return refined.clamp(0, 1)

    def reference(self, image: torch.Tensor, prior: torch.Tensor) -> torch.Tensor:
        """The refiner's own test path, one image at a time: ``refine(uint8 RGB image, map)``
        (``salbox.models.refiners.BaseRefiner``)."""
        return torch.stack([self.refiner.refine(img.round().clamp(0, 255).to(torch.uint8), p)[1]
                            for img, p in zip(image, prior)])


class TwoStageForExport(nn.Module):
    """A ``RefinedDetector`` as its ``predict`` runs it: the first stage's final map, then the
    refiner's test-time ``refine`` on (image, map), in one graph (image in, refined map out).
    The first stage's own post-processors and the wrapper's are not in the graph."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model
        self.normalize = DetectorForExport(model)  # the wrapper's own preprocessor statistics
        self.refiner = RefinerForExport(model.refiner)

    def prior(self, image: torch.Tensor) -> torch.Tensor:
        """``first_stage_logits`` (at ``first_stage_input_size`` when set), sigmoid."""
        return self.model.first_stage_logits(self.normalize.preprocess(image)).sigmoid()

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        return self.refiner(image, self.prior(image))

    def reference(self, image: torch.Tensor) -> torch.Tensor:
        return self.refiner.reference(image, self.prior(image))


def export_module(model: nn.Module, part: str) -> Tuple[nn.Module, List[str]]:
    """The wrapper to export and its input names."""
    from salbox.models.detectors.two_stage import RefinedDetector
    if part == 'auto':
        part = 'refiner' if isinstance(model, RefinedDetector) else 'detector'
    if part == 'refiner':
        refiner = getattr(model, 'refiner', None)
        if refiner is None:
            raise SalboxError(f'--part refiner: {type(model).__name__} has no refiner')
        return RefinerForExport(refiner).eval(), ['image', 'prior']
    if isinstance(model, RefinedDetector):
        return TwoStageForExport(model).eval(), ['image']
    return DetectorForExport(model).eval(), ['image']


# ----------------------------------------------------------------------------- inputs
def sample_inputs(names: Sequence[str], shape: Tuple[int, int], batch: int = 1,
                  seed: int = 0) -> Tuple[torch.Tensor, ...]:
    """A smooth photo-like RGB image in 0-255 (integers) and a soft prior map of that size."""
    gen = torch.Generator().manual_seed(seed)
    height, width = shape
    coarse = torch.rand(batch, 3, max(height // 16, 2), max(width // 16, 2), generator=gen)
    image = F.interpolate(coarse, size=shape, mode='bicubic', align_corners=False)
    image = (image * 255 + torch.randn(image.shape, generator=gen) * 8).round().clamp(0, 255)
    inputs = [image]
    if 'prior' in names:
        yy = torch.linspace(-1, 1, height).view(1, 1, height, 1)
        xx = torch.linspace(-1, 1, width).view(1, 1, 1, width)
        blob = torch.exp(-(yy ** 2 + xx ** 2) * 3).expand(batch, 1, height, width)
        inputs.append((blob + 0.1 * torch.rand(batch, 1, height, width, generator=gen))
                      .clamp(0, 1))
    return tuple(inputs)


# ----------------------------------------------------------------------------- export
def module_device(module: nn.Module) -> torch.device:
    """Where the module's weights are (the sample inputs follow them)."""
    return next(module.parameters()).device


def export(module: nn.Module, names: List[str], out: str, shape: Tuple[int, int],
           dynamic: bool, exporter: str, opset: int) -> None:
    args = tuple(t.to(module_device(module)) for t in sample_inputs(names, shape))
    kwargs = dict(input_names=names, output_names=['saliency'], opset_version=opset)
    if exporter == 'dynamo':
        kwargs['dynamo'] = True
        kwargs['external_data'] = False
        if dynamic:
            batch, height, width = (torch.export.Dim(n, min=1) for n in ('batch', 'height',
                                                                             'width'))
            spec = {0: batch, 2: height, 3: width}
            kwargs['dynamic_shapes'] = tuple(dict(spec) for _ in names)
        kwargs['verbose'] = False
    else:
        kwargs['dynamo'] = False
        if dynamic:
            axes = {0: 'batch', 2: 'height', 3: 'width'}
            kwargs['dynamic_axes'] = {n: dict(axes) for n in [*names, 'saliency']}
    with torch.no_grad(), warnings.catch_warnings():
        warnings.filterwarnings('ignore', message='.*legacy TorchScript-based ONNX export')
        warnings.filterwarnings('ignore', message='Constant folding')
        torch.onnx.export(module, args, out, **kwargs)
    import onnx
    onnx.checker.check_model(onnx.load(out))


def verify(module: nn.Module, names: List[str], out: str,
           shapes: Sequence[Tuple[int, int]], batch: int = 1) -> List[Tuple[Tuple[int, int], float]]:
    """Max abs difference between ONNX Runtime (CPU) and PyTorch (on the module's device) for
    each (H, W)."""
    import onnxruntime as ort
    session = ort.InferenceSession(out, providers=['CPUExecutionProvider'])
    device = module_device(module)
    results = []
    for i, shape in enumerate(shapes):
        inputs = sample_inputs(names, tuple(shape), batch=batch, seed=i + 1)
        on_device = tuple(t.to(device) for t in inputs)
        with torch.no_grad():
            if hasattr(module, 'reference'):  # the refiner's own process(), image by image
                expected = module.reference(*on_device).cpu()
            else:
                expected = module(*on_device).cpu()
        got = session.run(None, {n: t.numpy() for n, t in zip(names, inputs)})[0]
        if got.shape != tuple(expected.shape):
            raise SalboxError(f'ONNX Runtime output {got.shape} != PyTorch '
                              f'{tuple(expected.shape)} at {shape[0]}x{shape[1]}')
        results.append((tuple(shape), float(np.abs(got - expected.numpy()).max())))
    return results


def parse_args(argv=None):
    from mmengine.config import DictAction
    parser = argparse.ArgumentParser(
        description='Export a salbox model to ONNX (see docs/deployment.md)')
    parser.add_argument('config')
    parser.add_argument('checkpoint')
    parser.add_argument('--out', required=True, help='output .onnx file')
    parser.add_argument('--shape', type=int, nargs=2, metavar=('H', 'W'),
                        help='export input size (default 320 320; with --dynamic the size the '
                             'graph is traced at, default 255 255)')
    parser.add_argument('--dynamic', action='store_true',
                        help='dynamic batch, height and width')
    parser.add_argument('--verify', action='store_true',
                        help='compare ONNX Runtime with PyTorch and print the max abs difference')
    parser.add_argument('--verify-shape', type=int, nargs=2, action='append', metavar=('H', 'W'),
                        help='a size to verify at (repeatable; default 320x320, 240x400 and '
                             '257x263 with --dynamic, else the export size)')
    parser.add_argument('--verify-batch', type=int, default=1, help='batch size for --verify')
    parser.add_argument('--atol', type=float, default=1e-4,
                        help='largest max abs difference --verify accepts (default 1e-4)')
    parser.add_argument('--part', choices=('auto', 'detector', 'refiner'), default='auto',
                        help='auto: the refiner of a RefinedDetector, else the detector')
    parser.add_argument('--exporter', choices=('torchscript', 'dynamo'), default='torchscript',
                        help="torch.onnx exporter: 'torchscript' (default, works for every "
                             "salbox model) or 'dynamo' (torch.export; needs onnxscript; "
                             "see docs/deployment.md)")
    parser.add_argument('--opset', type=int, default=18, help='ONNX opset (default 18)')
    parser.add_argument('--device', default='cpu',
                        help='where the model is traced and --verify runs PyTorch (cpu, cuda, '
                             'cuda:N); ONNX Runtime runs on the CPU')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, metavar='KEY=VALUE',
                        help='override config settings, e.g. model.postprocessors=[]')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    for package in ('onnx', 'onnxruntime') + (('onnxscript', ) if args.exporter == 'dynamo'
                                                else ()):
        try:
            __import__(package)
        except ImportError:
            raise SalboxError(f'{package} is not installed: pip install -r '
                              'requirements/deploy.txt') from None
    from salbox.apis.inference import init_model
    if args.device.startswith('cuda'):
        # TF32 (torch's default for CUDA convolutions) rounds to 10 mantissa bits, 1e-3 off
        # ONNX Runtime's float32 (seen on an H200): trace and verify in true float32.
        torch.backends.cudnn.allow_tf32 = torch.backends.cuda.matmul.allow_tf32 = False
    model = init_model(args.config, args.checkpoint, device=args.device,
                       cfg_options=args.cfg_options)
    module, names = export_module(model, args.part)
    skipped = [type(p).__name__ for owner in (model, getattr(model, 'first_stage', None))
               for p in getattr(owner, 'postprocessors', None) or ()]
    if skipped and not isinstance(module, RefinerForExport):
        print(f'note: test-time post-processors ({", ".join(skipped)}) are not part of the '
              'ONNX graph; run them on its output if you need them')
    shape = tuple(args.shape or (DYNAMIC_TRACE_SHAPE if args.dynamic else FIXED_SHAPE))
    export(module, names, args.out, shape, args.dynamic, args.exporter, args.opset)
    inputs = ', '.join(f'{n} {"(N, 3, H, W) RGB 0-255" if n == "image" else "(N, 1, H, W)"}'
                       for n in names)
    exported = module.refiner if isinstance(module, RefinerForExport) else model
    sizes = (f'dynamic batch/height/width (traced at {shape[0]}x{shape[1]})' if args.dynamic
             else f'fixed size {shape[0]}x{shape[1]}')
    print(f'exported {type(exported).__name__} to {args.out}: inputs {inputs}; output saliency '
          f'(N, 1, H, W) in [0, 1]; {sizes}')
    if args.verify:
        shapes = args.verify_shape or (DEFAULT_VERIFY_SHAPES if args.dynamic else (shape, ))
        results = verify(module, names, args.out, shapes, batch=args.verify_batch)
        worst = 0.0
        for (height, width), diff in results:
            print(f'verify {height}x{width} (batch {args.verify_batch}): max abs difference '
                  f'ONNX Runtime vs PyTorch = {diff:.3g}')
            worst = max(worst, diff)
        if worst > args.atol:
            raise SalboxError(f'ONNX Runtime differs from PyTorch by {worst:.3g} '
                              f'(> --atol {args.atol})')
    return 0


if __name__ == '__main__':
    from salbox.apis.runner_utils import run_friendly
    run_friendly(lambda: sys.exit(main()))
