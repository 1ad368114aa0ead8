"""salbox's documented benchmark layouts (docs/datasets.md), shared by the converters and check.py.

No salbox or torch import here, so ``check.py`` starts in a fraction of a second. The folder
names and suffixes are the defaults of ``salbox/datasets/sod_benchmarks.py`` (the tests build each
benchmark's dataset class on converted data, so the two cannot drift apart unnoticed).
"""
from dataclasses import dataclass
from typing import Dict, Sequence, Tuple

MAX_SHOWN = 5


@dataclass(frozen=True)
class Split:
    """One image/mask folder pair of salbox's layout (relative to the data set's root)."""
    name: str
    img_dir: str
    mask_dir: str
    img_exts: Tuple[str, ...] = ('.jpg', )
    mask_ext: str = '.png'


# docs/datasets.md, and the defaults of salbox/datasets/sod_benchmarks.py.
LAYOUTS: Dict[str, Tuple[Split, ...]] = {
    'MSRA10K': (Split('MSRA10K', 'Imgs', 'Imgs'), ),
    'DUTS': (Split('DUTS-TR', 'DUTS-TR/DUTS-TR-Image', 'DUTS-TR/DUTS-TR-Mask'),
             Split('DUTS-TE', 'DUTS-TE/DUTS-TE-Image', 'DUTS-TE/DUTS-TE-Mask')),
    'ECSSD': (Split('ECSSD', 'images', 'ground_truth_mask'), ),
    'HKU-IS': (Split('HKU-IS', 'imgs', 'gt', img_exts=('.png', '.jpg')), ),
    'PASCAL-S': (Split('PASCAL-S', 'images', 'masks'), ),
    'SOD': (Split('SOD', 'images', 'masks'), ),
    'DUT-OMRON': (Split('DUT-OMRON', 'DUT-OMRON-image', 'pixelwiseGT-new-PNG'), ),
}


def short_list(names: Sequence[str]) -> str:
    """The first few names, and how many more, for one-line reports."""
    shown = ', '.join(names[:MAX_SHOWN])
    return shown + (f', ... ({len(names) - MAX_SHOWN} more)' if len(names) > MAX_SHOWN else '')
