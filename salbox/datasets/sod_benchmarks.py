"""One thin dataset class per SOD benchmark: folder names and suffixes as each is distributed.

Every default below can be overridden from a config (``data_prefix``, ``img_suffix``,
``mask_suffix``); ``docs/datasets.md`` lists the layouts and where each set is published.
"""
from salbox.registry import DATASETS
from .sal_dataset import SalientObjectDataset


def _with_defaults(kwargs: dict, **defaults) -> dict:
    for key, value in defaults.items():
        kwargs.setdefault(key, value)
    return kwargs


@DATASETS.register_module()
class MSRA10KDataset(SalientObjectDataset):
    """MSRA10K (Cheng et al., TPAMI 2015), R3Net's training set (R3Net ``datasets.py``).

    Layout as in ``MSRA10K_Imgs_GT.zip``: ``Imgs/<name>.jpg`` and ``Imgs/<name>.png`` side by
    side. The masks are soft (gray levels at the boundary), kept as float.
    """
    DEFAULT_NAME = 'MSRA10K'
    SOURCE_HINT = 'MSRA10K_Imgs_GT.zip from mmcheng.net/msra10k'

    def __init__(self, **kwargs):
        super().__init__(**_with_defaults(
            kwargs, data_prefix=dict(img_path='Imgs', gt_path='Imgs'),
            img_suffix='.jpg', mask_suffix='.png'))


@DATASETS.register_module()
class DUTSDataset(SalientObjectDataset):
    """DUTS (Wang et al., CVPR 2017): ``split='TR'`` (10553 images) or ``'TE'`` (5019).

    Layout as in ``DUTS-TR.zip`` / ``DUTS-TE.zip``: ``DUTS-TR/DUTS-TR-Image/*.jpg`` and
    ``DUTS-TR/DUTS-TR-Mask/*.png`` (likewise ``TE``) under ``data_root`` (``data/DUTS``).
    ``dataset_name`` defaults to ``'DUTS-TR'`` / ``'DUTS-TE'``.
    """
    SOURCE_HINT = 'DUTS-TR.zip / DUTS-TE.zip from saliencydetection.net/duts'

    def __init__(self, split: str = 'TE', **kwargs):
        if split not in ('TR', 'TE'):
            raise ValueError(f"DUTSDataset split must be 'TR' or 'TE', got {split!r}")
        self.DEFAULT_NAME = f'DUTS-{split}'
        super().__init__(**_with_defaults(
            kwargs, data_prefix=dict(img_path=f'DUTS-{split}/DUTS-{split}-Image',
                                     gt_path=f'DUTS-{split}/DUTS-{split}-Mask'),
            img_suffix='.jpg', mask_suffix='.png'))


@DATASETS.register_module()
class ECSSDDataset(SalientObjectDataset):
    """ECSSD (Yan et al., CVPR 2013), one of R3Net's test sets (R3Net ``config.py``).

    Layout as in the CUHK release (``images.zip``, ``ground_truth_mask.zip``):
    ``images/*.jpg`` and ``ground_truth_mask/*.png``.
    """
    DEFAULT_NAME = 'ECSSD'
    SOURCE_HINT = 'images.zip + ground_truth_mask.zip from the CUHK ECSSD page'

    def __init__(self, **kwargs):
        super().__init__(**_with_defaults(
            kwargs, data_prefix=dict(img_path='images', gt_path='ground_truth_mask'),
            img_suffix='.jpg', mask_suffix='.png'))


@DATASETS.register_module()
class HKUISDataset(SalientObjectDataset):
    """HKU-IS (Li & Yu, CVPR 2015), one of R3Net's test sets (R3Net ``config.py``).

    Layout as in ``HKU-IS.rar``: ``imgs/`` and ``gt/`` (4447 pairs). Images are taken with
    either ``.png`` or ``.jpg`` endings (copies of the set circulate with both; chosen).
    """
    DEFAULT_NAME = 'HKU-IS'
    SOURCE_HINT = 'HKU-IS.rar from the authors\' HKU-IS page'

    def __init__(self, **kwargs):
        super().__init__(**_with_defaults(
            kwargs, data_prefix=dict(img_path='imgs', gt_path='gt'),
            img_suffix=('.png', '.jpg'), mask_suffix='.png'))


@DATASETS.register_module()
class PASCALSDataset(SalientObjectDataset):
    """PASCAL-S (Li et al., CVPR 2014), one of R3Net's test sets (R3Net ``config.py``).

    Several layouts circulate; the default is the SOD community's ``images/*.jpg`` +
    ``masks/*.png`` (chosen). For the authors' ``salObj`` release set
    ``data_prefix=dict(img_path='datasets/imgs/pascal', gt_path='datasets/masks/pascal')``.
    Its masks are soft (annotator agreement) and are kept as float.
    """
    DEFAULT_NAME = 'PASCAL-S'
    SOURCE_HINT = 'salObj release from cbi.gatech.edu/salobj, arranged as images/ + masks/'

    def __init__(self, **kwargs):
        super().__init__(**_with_defaults(
            kwargs, data_prefix=dict(img_path='images', gt_path='masks'),
            img_suffix='.jpg', mask_suffix='.png'))


@DATASETS.register_module()
class SODDataset(SalientObjectDataset):
    """SOD (Movahedi & Elder, CVPRW 2010; 300 BSDS images), one of R3Net's test sets.

    The original ground truth is per-annotator boundaries; the SOD community's PNG masks are
    used, laid out as ``images/*.jpg`` + ``masks/*.png`` (chosen).
    """
    DEFAULT_NAME = 'SOD'
    SOURCE_HINT = 'SOD masks as PNG (see docs/datasets.md), arranged as images/ + masks/'

    def __init__(self, **kwargs):
        super().__init__(**_with_defaults(
            kwargs, data_prefix=dict(img_path='images', gt_path='masks'),
            img_suffix='.jpg', mask_suffix='.png'))


@DATASETS.register_module()
class DUTOMRONDataset(SalientObjectDataset):
    """DUT-OMRON (Yang et al., CVPR 2013; 5168 images), one of R3Net's test sets.

    Layout as in ``DUT-OMRON-image.zip`` and the pixel-wise ground truth zip:
    ``DUT-OMRON-image/*.jpg`` and ``pixelwiseGT-new-PNG/*.png``.
    """
    DEFAULT_NAME = 'DUT-OMRON'
    SOURCE_HINT = 'DUT-OMRON-image.zip + pixel-wise GT zip from saliencydetection.net/dut-omron'

    def __init__(self, **kwargs):
        super().__init__(**_with_defaults(
            kwargs, data_prefix=dict(img_path='DUT-OMRON-image', gt_path='pixelwiseGT-new-PNG'),
            img_suffix='.jpg', mask_suffix='.png'))
