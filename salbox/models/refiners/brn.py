"""DGRL's Boundary Refinement Network (BRN): learned per-pixel local propagation.

Wang et al., "Detect Globally, Refine Locally", CVPR 2018, Sec. 3.3 and Table 2, with the numbers
of the official Caffe code (``stage2/train/train.prototxt``, ``stage2/train/init/generate_train.m``,
``stage2/test/test.m`` of TiantianWang/CVPR18_detect_globally_refine_locally).

A :class:`~salbox.models.refiners.BaseRefiner`: ``forward(images, priors) -> logits`` (batched,
training inside ``RefinedDetector``) and ``refine(image, prior) -> (logits, map)`` (the official
test path, one image at its original size); ``RefinerPostProcessor`` runs it as a post-processor.
"""
from typing import Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
import torch.nn.functional as F

from salbox.ops import local_propagation
from salbox.registry import MODELS
from .base import BaseRefiner

# Caffe/VGG BGR mean of the official BRN data layer (stage2/train/train.prototxt).
DGRL_BGR_MEAN = (104.00699, 116.66877, 122.67892)
COEFF_NORMS = ('none', 'abs_sum')


def _pair(size: Union[None, int, Sequence[int]]) -> Optional[Tuple[int, int]]:
    if size is None:
        return None
    if isinstance(size, int):
        return size, size
    if len(size) != 2:
        raise ValueError(f'BoundaryRefinementNet: test_size must be an int or (h, w), got {size}')
    return int(size[0]), int(size[1])


@MODELS.register_module()
class BoundaryRefinementNet(BaseRefiner):
    """7 plain 3x3 convs on (image, prior map) predicting n x n propagation coefficients.

    Architecture (official code): input ``concat[(BGR - mean) / 255, prior]`` (4 channels);
    convs 3x3, stride 1, pad 1 to 64, 64, 64, 128, 128, 128 channels with ReLU, then a 3x3 conv
    to n*n (n = 5) coefficients v, no activation, no normalisation (v may be negative). The
    refined map is DGRL's 2-class softmax over fg_i = sum_d v_i^d s_i^d and
    bg_i = sum_d v_i^d (1 - s_i^d), i.e. ``p_fg = sigmoid(sum_d v_i^d (2 s_i^d - 1))``, computed
    by :func:`salbox.ops.local_propagation` (``mode='logit'``) with s = 0 outside the image
    (out-of-image neighbours count as background).

    Initialisation (paper Eq. 5 / ``generate_train.m``): conv weights N(0, ``init_std``), biases 0
    except the last conv's bias at the centre neighbour (index n*n // 2), which is 1; so at the
    start v is (almost exactly) the one-hot centre and the refined map reproduces the prior.
    ``init_std`` is 0.01 as in the official prototxt (the paper text says 0.1).

    Args:
        kernel_size: n of the n x n window (official 5).
        channels: widths of the first six convs (official 64, 64, 64, 128, 128, 128).
        init_std: std of the Gaussian weight init (official code 0.01).
        binarize_prior: threshold the prior at ``prior_threshold`` before use. The official
            BRN is trained on {0, 1} stage-1 maps and its test script rounds the map to {0, 1}
            (``uint8 ./ 255`` in MATLAB) (official code: on).
        prior_threshold: the threshold (official 0.5: >= 128 of 255).
        coeff_norm: ``'none'`` (official code) or ``'abs_sum'`` (CSPN-style v / sum |v|).
        mean_bgr, image_scale: image normalisation ``(BGR - mean) * scale`` (official code).
        test_size: (h, w) at which :meth:`refine` runs (official test: 480 x 480, nearest
            resize in and out); ``None`` runs at the original size.
        test_interpolation: resize mode of :meth:`refine` (official code: 'nearest').
        minmax_normalize: min-max normalise the refined map in :meth:`refine` (official
            ``test.m``).
    """

    def __init__(self,
                 kernel_size: int = 5,
                 channels: Sequence[int] = (64, 64, 64, 128, 128, 128),
                 init_std: float = 0.01,
                 binarize_prior: bool = True,
                 prior_threshold: float = 0.5,
                 coeff_norm: str = 'none',
                 mean_bgr: Sequence[float] = DGRL_BGR_MEAN,
                 image_scale: float = 1.0 / 255,
                 test_size: Union[None, int, Sequence[int]] = 480,
                 test_interpolation: str = 'nearest',
                 minmax_normalize: bool = True):
        super().__init__()
        if kernel_size < 1 or kernel_size % 2 == 0:
            raise ValueError(f'BoundaryRefinementNet: kernel_size must be odd, got {kernel_size}')
        if coeff_norm not in COEFF_NORMS:
            raise ValueError(f'BoundaryRefinementNet: coeff_norm must be one of {COEFF_NORMS}, '
                             f'got {coeff_norm!r}')
        self.kernel_size = kernel_size
        self.binarize_prior = binarize_prior
        self.prior_threshold = prior_threshold
        self.coeff_norm = coeff_norm
        self.image_scale = image_scale
        self.test_size = _pair(test_size)
        self.test_interpolation = test_interpolation
        self.minmax_normalize = minmax_normalize
        self.register_buffer('mean_bgr', torch.tensor(mean_bgr, dtype=torch.float32)
                             .view(1, 3, 1, 1), persistent=False)
        widths = [4, *channels]
        layers = []
        for c_in, c_out in zip(widths[:-1], widths[1:]):
            layers += [nn.Conv2d(c_in, c_out, 3, padding=1), nn.ReLU(inplace=True)]
        layers.append(nn.Conv2d(widths[-1], kernel_size * kernel_size, 3, padding=1))
        self.convs = nn.Sequential(*layers)
        self.init_std = init_std
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Gaussian weights, zero biases, bias 1 at the centre coefficient (identity start)."""
        convs = [m for m in self.convs if isinstance(m, nn.Conv2d)]
        for conv in convs:
            nn.init.normal_(conv.weight, std=self.init_std)
            nn.init.zeros_(conv.bias)
        with torch.no_grad():
            convs[-1].bias[self.kernel_size * self.kernel_size // 2] = 1.0

    def init_weights(self) -> None:
        """mmengine hook: the paper's initialisation (already applied in ``__init__``)."""
        self.reset_parameters()

    # --------------------------------------------------------------------------- training API
    def prepare_prior(self, priors: torch.Tensor) -> torch.Tensor:
        if self.binarize_prior:
            return (priors >= self.prior_threshold).to(priors.dtype)
        return priors

    def coefficients(self, images: torch.Tensor, priors: torch.Tensor) -> torch.Tensor:
        """Propagation coefficients v (N, n*n, H, W) for RGB images in 0-255 and prepared priors."""
        bgr = images.flip(1)
        x = torch.cat([(bgr - self.mean_bgr) * self.image_scale, priors], dim=1)
        coeffs = self.convs(x)
        if self.coeff_norm == 'abs_sum':
            coeffs = coeffs / coeffs.abs().sum(dim=1, keepdim=True).clamp(min=1e-6)
        return coeffs

    def logits(self, images: torch.Tensor, priors: torch.Tensor) -> torch.Tensor:
        """Refined logits (N, 1, H, W).

        Args:
            images: (N, 3, H, W) float RGB in 0-255 (the BRN normalises them itself).
            priors: (N, 1, H, W) first-stage maps in [0, 1] (binarised here if configured).
        """
        self.check_batch('BoundaryRefinementNet', images, priors)
        priors = self.prepare_prior(priors.to(images.dtype))
        return local_propagation(self.coefficients(images, priors), priors, mode='logit')

    # ------------------------------------------------------------------------------- test API
    def _resize(self, x: torch.Tensor, size) -> torch.Tensor:
        if tuple(x.shape[-2:]) == tuple(size):
            return x
        if self.test_interpolation == 'nearest':
            return F.interpolate(x, size=size, mode='nearest-exact')
        return F.interpolate(x, size=size, mode=self.test_interpolation, align_corners=False)

    @torch.no_grad()
    def refine(self, image: torch.Tensor, sal_map: torch.Tensor):
        """The official test path (``stage2/test/test.m``) for one image.

        Args:
            image: (3, H, W) uint8 RGB at the original size.
            sal_map: (1, H, W) first-stage map in [0, 1] at the original size.

        Returns:
            ``(logits, refined)``, both (1, H, W) at the original size: the image and map are
            resized to ``test_size`` (if set) and refined; ``logits`` are the BRN's logits
            resized back, ``refined`` is ``sigmoid`` resized back and min-max normalised (if
            set), in [0, 1].
        """
        self.check_image_and_map('BoundaryRefinementNet', image, sal_map)
        ori_size = tuple(sal_map.shape[-2:])
        dtype = self.convs[0].weight.dtype
        device = self.convs[0].weight.device
        images = image[None].to(device=device, dtype=dtype)
        priors = sal_map[None].to(device=device, dtype=dtype)
        if self.test_size is not None:
            images = self._resize(images, self.test_size)
            priors = self._resize(priors, self.test_size)
        logits = self(images, priors)
        refined = self._resize(logits.sigmoid(), ori_size)[0]
        logits = self._resize(logits, ori_size)[0]
        if self.minmax_normalize:
            low, high = refined.min(), refined.max()
            if high - low > 1e-8:
                refined = (refined - low) / (high - low)
        return logits.to(sal_map.dtype), refined.to(sal_map.dtype).clamp(0, 1)

    def forward(self, images: torch.Tensor, priors: torch.Tensor) -> torch.Tensor:
        """Batched (N, 3, H, W) float images and (N, 1, H, W) priors -> refined logits; see
        :meth:`logits`."""
        return self.logits(images, priors)
