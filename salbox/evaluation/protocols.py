"""Evaluation protocols: every convention that changes SOD numbers, as one named option set.

The same saliency maps score differently in different toolkits (docs/evaluation.md). salbox names each convention, and every printed table
states all of them. Three presets reproduce published evaluation code:

* ``pysodmetrics`` (default): PySODMetrics 1.6.2 (``lartpang/PySODMetrics`` @ ac5b1fc), itself
  checked against Fan's MATLAB code. Bit-exact with it.
* ``r3net``: R3Net's ``misc.py`` (``cal_precision_recall_mae`` / ``cal_fmeasure``): raw maps,
  ``gt/255 > 0.5``, ``pred > t/255`` (strict), eps 1e-4 in P and R, F from the dataset-mean P
  and R, MAE against the soft mask.
* ``matlab_sal_eval``: ArcherFMY ``sal_eval_toolbox`` (``performCalcu.m``): maps resized to
  the GT (bicubic) and divided by their max, ``im2double(gt) >= 0.1``, ``histc`` over
  ``[255:-1:0]/255`` (``>=``), mean P and R before F; ``CalMAE.m`` min-max normalises.
"""
from dataclasses import asdict, dataclass, fields, replace
from typing import Mapping, Optional, Union

NORMALIZATIONS = ('minmax', 'max', 'none')
COMPARISONS = ('>=', '>')
AGGREGATIONS = ('mean_f_curve', 'mean_pr', 'per_image')
RESIZE_MODES = (None, 'nearest', 'bilinear', 'bicubic', 'area')
MAE_GTS = ('binary', 'soft')


@dataclass(frozen=True)
class EvalProtocol:
    """All conventions of an SOD evaluation.

    Args:
        name: the preset it came from (with ``+`` when options were overridden).
        normalize: prediction normalisation before thresholding and S/E/wF: ``'minmax'``
            (``(p - min) / (max - min)``, a constant map is left as is, MATLAB ``mapminmax``),
            ``'max'`` (``p / max``, an all-zero map stays zero) or ``'none'``.
        gt_threshold: ground-truth binarisation threshold on the [0, 1] scale
            (``128 / 255`` is PySODMetrics' ``gt > 128``).
        gt_compare: ``'>'`` or ``'>='`` for the ground-truth threshold.
        pred_compare: ``'>'`` or ``'>='`` for the prediction thresholds (curves and adaptive).
        num_thresholds: thresholds ``k / (n - 1)``, ``k = 0 .. n - 1``.
        quantize_levels: compare ``floor(p * (n - 1))`` with ``k`` (PySODMetrics' uint8 cast
            before its 256-bin histogram) instead of ``p`` with ``k / (n - 1)``.
        eps: smoothing ``P = (TP + eps) / (TP + FP + eps)``, ``R = (TP + eps) / (|G| + eps)``
            (Hou's SalMetric and R3Net use 1e-4: an empty prediction has P = 1). With 0, a
            zero denominator gives P = 0, R = 0, F = 0 (PySODMetrics).
        maxf_aggregation: ``'mean_f_curve'`` (max over thresholds of the mean per-image F),
            ``'mean_pr'`` (max over thresholds of F(mean P, mean R)) or ``'per_image'`` (mean
            over images of each image's max F). meanF is the mean of the F curve of the first
            two; ``per_image`` uses the ``mean_f_curve`` curve for meanF and the plots.
        resize: resize predictions to the ground-truth size with this cv2 interpolation, or
            ``None`` (a size mismatch is then an error).
        mae_normalize: normalisation for MAE only; ``None`` means the same as ``normalize``.
        mae_gt: MAE against the ``'binary'`` ground truth or the ``'soft'`` one in [0, 1].
        quantize_input: float maps are first rounded to 8 bits (``rint(255 p)``), exactly as
            salbox writes PNG maps, so a test run and an evaluation of its saved maps agree.
        beta2: F-measure beta^2 (0.3, Achanta et al. CVPR'09).
        alpha: S-measure object/region balance (0.5, Fan et al. ICCV'17).
        wf_beta: weighted F-measure beta (1, Margolin et al. CVPR'14).
        adaptive_clip: clip the adaptive threshold ``2 * mean(p)`` at 1 (Fan's 2020 fix).
    """

    name: str = 'pysodmetrics'
    normalize: str = 'minmax'
    gt_threshold: float = 128 / 255
    gt_compare: str = '>'
    pred_compare: str = '>='
    num_thresholds: int = 256
    quantize_levels: bool = True
    eps: float = 0.0
    maxf_aggregation: str = 'mean_f_curve'
    resize: Optional[str] = None
    mae_normalize: Optional[str] = None
    mae_gt: str = 'binary'
    quantize_input: bool = True
    beta2: float = 0.3
    alpha: float = 0.5
    wf_beta: float = 1.0
    adaptive_clip: bool = True

    def __post_init__(self):
        checks = [('normalize', NORMALIZATIONS), ('gt_compare', COMPARISONS),
                  ('pred_compare', COMPARISONS), ('maxf_aggregation', AGGREGATIONS),
                  ('resize', RESIZE_MODES), ('mae_gt', MAE_GTS),
                  ('mae_normalize', (None, ) + NORMALIZATIONS)]
        for key, allowed in checks:
            if getattr(self, key) not in allowed:
                raise ValueError(f'protocol option {key}={getattr(self, key)!r} is not one of '
                                 f'{allowed}')
        if int(self.num_thresholds) < 2:
            raise ValueError(f'protocol option num_thresholds={self.num_thresholds} must be >= 2')
        if self.eps < 0:
            raise ValueError(f'protocol option eps={self.eps} must be >= 0')

    @property
    def mae_normalization(self) -> str:
        return self.normalize if self.mae_normalize is None else self.mae_normalize

    def describe(self) -> str:
        """One line naming every convention, printed above every table."""
        gt_thr = _format_threshold(self.gt_threshold)
        n = self.num_thresholds
        level = f'floor({n - 1}p)' if self.quantize_levels else 'p'
        step = 'k' if self.quantize_levels else f'k/{n - 1}'
        resize = self.resize or 'off'
        mae_gt = 'soft gt' if self.mae_gt == 'soft' else 'binary gt'
        return (f'protocol={self.name}: pred norm={self.normalize}, gt{self.gt_compare}{gt_thr}, '
                f'{n} thresholds {level}{self.pred_compare}{step}, eps={self.eps:g}, '
                f'maxF={self.maxf_aggregation}, resize={resize}, '
                f'MAE={self.mae_normalization} pred vs {mae_gt}, '
                f'8-bit input={"yes" if self.quantize_input else "no"}, '
                f'beta2={self.beta2:g}, S alpha={self.alpha:g}, wF beta={self.wf_beta:g}, '
                f'adaptive thr={"min(2*mean,1)" if self.adaptive_clip else "2*mean"}')

    def to_dict(self) -> dict:
        return asdict(self)


def _format_threshold(value: float) -> str:
    """``128/255`` when the threshold is an 8-bit level, else the plain number."""
    level = round(value * 255)
    if level / 255 == value and value not in (0.0, 1.0):
        return f'{level}/255'
    return f'{value:g}'


PRESETS = {
    'pysodmetrics': EvalProtocol(),
    'r3net': EvalProtocol(
        name='r3net', normalize='none', gt_threshold=0.5, gt_compare='>', pred_compare='>',
        quantize_levels=False, eps=1e-4, maxf_aggregation='mean_pr', mae_gt='soft'),
    'matlab_sal_eval': EvalProtocol(
        name='matlab_sal_eval', normalize='max', gt_threshold=0.1, gt_compare='>=',
        pred_compare='>=', quantize_levels=False, eps=0.0, maxf_aggregation='mean_pr',
        resize='bicubic', mae_normalize='minmax'),
}


def get_protocol(protocol: Union[str, Mapping, EvalProtocol, None] = 'pysodmetrics',
                 **overrides) -> EvalProtocol:
    """Build a protocol from a preset name, a dict or a protocol, plus option overrides.

    A dict may name its base preset with ``preset`` (or ``name``); other keys override
    options, e.g. ``dict(preset='pysodmetrics', eps=1e-4)``. An overridden preset is named
    ``'<preset>+'`` so tables never pass it off as the original.
    """
    if protocol is None:
        protocol = 'pysodmetrics'
    if isinstance(protocol, EvalProtocol):
        base, options = protocol, {}
    elif isinstance(protocol, str):
        base, options = _preset(protocol), {}
    elif isinstance(protocol, Mapping):
        options = dict(protocol)
        preset = options.pop('preset', None) or options.pop('name', None) or 'pysodmetrics'
        base = _preset(preset)
    else:
        raise TypeError(f'protocol must be a preset name, a dict or an EvalProtocol, '
                        f'got {type(protocol).__name__}')
    options.update(overrides)
    if not options:
        return base
    known = {f.name for f in fields(EvalProtocol)} - {'name'}
    unknown = sorted(set(options) - known)
    if unknown:
        raise KeyError(f'unknown protocol option(s) {unknown}; known options: {sorted(known)}')
    changed = {k: v for k, v in options.items() if getattr(base, k) != v}
    name = base.name if not changed or base.name.endswith('+') else base.name + '+'
    return replace(base, name=name, **options)


def _preset(name: str) -> EvalProtocol:
    if name not in PRESETS:
        raise KeyError(f'unknown evaluation protocol {name!r}; presets: {sorted(PRESETS)}')
    return PRESETS[name]
