"""Fully connected CRF (Kraehenbuehl & Koltun 2011) on a saliency map, via pydensecrf.

Follows R3Net's official ``misc.py::crf_refine`` (zijundeng/R3Net, borrowed from DSS's
``dss_crf``) with the parameters of its ``infer.py`` (paper Sec. 4.1): two labels; unary from ``a`` =
the map, ``E_bg = -log(1 - a + eps) / (tau * sigmoid(1 - a))``,
``E_fg = -log(a + eps) / (tau * sigmoid(a))`` with tau 1.05, eps 1e-8; Gaussian pairwise
(sxy 3, compat 3); bilateral pairwise (sxy 60, srgb 5, compat 5); one mean-field iteration; the
output is the soft foreground marginal ``Q[1]``, not an argmax.

R3Net feeds the CRF an 8-bit map (``infer.py``: ``to_pil``, i.e. ``mul(255).byte()``, a
truncation) and truncates its output to 8 bits (``misc.py``: ``astype('uint8')``);
``quantize=True`` (default) with ``uint8_rule='truncate'`` (default) reproduces that through
salbox's one 8-bit conversion (``salbox.evaluation.functional.to_uint8``); ``uint8_rule='round'``
rounds instead, ``quantize=False`` keeps float precision end to end.
"""
import numpy as np
import torch

from salbox.evaluation.functional.prepare import UINT8_RULES, to_uint8
from salbox.registry import MODELS
from .base import BasePostProcessor
from .dense_crf_tiles import dense_crf_tiled


def _import_densecrf():
    try:
        import pydensecrf.densecrf as dcrf
    except ImportError as err:  # pragma: no cover - depends on the environment
        raise ImportError('DenseCRF needs pydensecrf: `pip install pydensecrf2` '
                          '(it provides `import pydensecrf.densecrf`)') from err
    return dcrf


def saliency_unary(sal_map: np.ndarray, tau: float = 1.05, eps: float = 1e-8) -> np.ndarray:
    """R3Net / DSS unary energies (2, H*W) float32 from a map in [0, 1]."""
    a = sal_map.astype(np.float64).reshape(-1)
    sigmoid = lambda x: 1.0 / (1.0 + np.exp(-x))  # noqa: E731
    energy_bg = -np.log(1.0 - a + eps) / (tau * sigmoid(1.0 - a))
    energy_fg = -np.log(a + eps) / (tau * sigmoid(a))
    return np.ascontiguousarray(np.stack([energy_bg, energy_fg]), dtype=np.float32)


def dense_crf_numpy(image_rgb: np.ndarray, sal_map: np.ndarray, iterations: int = 1,
                    gaussian_sxy: float = 3, gaussian_compat: float = 3,
                    bilateral_sxy: float = 60, bilateral_srgb: float = 5,
                    bilateral_compat: float = 5, tau: float = 1.05, eps: float = 1e-8,
                    quantize: bool = True, uint8_rule: str = 'truncate') -> np.ndarray:
    """NumPy helper: ``image_rgb`` uint8 (H, W, 3), ``sal_map`` float (H, W) in [0, 1] ->
    refined float32 (H, W) in [0, 1] (defaults: R3Net's ``infer.py``)."""
    dcrf = _import_densecrf()
    height, width = sal_map.shape
    if quantize:
        sal_map = to_uint8(sal_map, uint8_rule) / 255.0
    crf = dcrf.DenseCRF2D(width, height, 2)
    crf.setUnaryEnergy(saliency_unary(sal_map, tau, eps))
    crf.addPairwiseGaussian(sxy=gaussian_sxy, compat=gaussian_compat)
    crf.addPairwiseBilateral(sxy=bilateral_sxy, srgb=bilateral_srgb,
                             rgbim=np.ascontiguousarray(image_rgb, dtype=np.uint8),
                             compat=bilateral_compat)
    marginals = np.array(crf.inference(iterations))
    foreground = marginals[1].reshape(height, width)
    if quantize:
        foreground = to_uint8(foreground, uint8_rule) / 255.0
    return foreground.astype(np.float32)


@MODELS.register_module()
class DenseCRF(BasePostProcessor):
    """Dense CRF refinement of a saliency map with R3Net's parameters as defaults.

    Post-processor interface (``process(image, sal_map)``, torch tensors); the NumPy form is
    :func:`dense_crf_numpy`.

    Args:
        iterations: mean-field iterations (R3Net: 1).
        gaussian_sxy, gaussian_compat: smoothness kernel (R3Net: 3, 3).
        bilateral_sxy, bilateral_srgb, bilateral_compat: appearance kernel (R3Net: 60, 5, 5).
        tau, eps: unary temperature and log guard (R3Net: 1.05, 1e-8).
        quantize: round-trip the map through uint8 as R3Net does (input and output in 1/255
            steps); False keeps floats.
        uint8_rule: how ``quantize`` makes 8 bits: ``'truncate'`` (R3Net's official code,
            default) or ``'round'`` (salbox's rule for saved maps).
    """

    def __init__(self, iterations: int = 1, gaussian_sxy: float = 3, gaussian_compat: float = 3,
                 bilateral_sxy: float = 60, bilateral_srgb: float = 5,
                 bilateral_compat: float = 5, tau: float = 1.05, eps: float = 1e-8,
                 quantize: bool = True, uint8_rule: str = 'truncate'):
        super().__init__()
        if uint8_rule not in UINT8_RULES:
            raise ValueError(f'DenseCRF: uint8_rule must be one of {UINT8_RULES}, got '
                             f'{uint8_rule!r}')
        if iterations < 1:
            raise ValueError(f'DenseCRF: iterations must be >= 1, got {iterations}')
        self.iterations = iterations
        self.gaussian_sxy = gaussian_sxy
        self.gaussian_compat = gaussian_compat
        self.bilateral_sxy = bilateral_sxy
        self.bilateral_srgb = bilateral_srgb
        self.bilateral_compat = bilateral_compat
        self.tau = tau
        self.eps = eps
        self.quantize = quantize
        self.uint8_rule = uint8_rule

    def process(self, image: torch.Tensor, sal_map: torch.Tensor) -> torch.Tensor:
        image_np = image.detach().permute(1, 2, 0).to('cpu', torch.uint8).numpy()
        map_np = sal_map.detach()[0].float().cpu().clamp(0, 1).numpy()
        return torch.from_numpy(dense_crf_tiled(  # bounded memory on large photos
            image_np, map_np, iterations=self.iterations, gaussian_sxy=self.gaussian_sxy,
            gaussian_compat=self.gaussian_compat, bilateral_sxy=self.bilateral_sxy,
            bilateral_srgb=self.bilateral_srgb, bilateral_compat=self.bilateral_compat,
            tau=self.tau, eps=self.eps, quantize=self.quantize,
            uint8_rule=self.uint8_rule))[None]
