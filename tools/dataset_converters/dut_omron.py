"""Convert the official DUT-OMRON archives into salbox's layout (docs/datasets.md).

    python tools/dataset_converters/dut_omron.py DUT-OMRON-image.zip \
        DUT-OMRON-gt-pixelwise.zip.zip -o data/DUT-OMRON

Official release (Yang et al., CVPR 2013; saliencydetection.net/dut-omron):
``DUT-OMRON-image.zip`` holds ``DUT-OMRON-image/<id>.jpg`` and the pixel-wise ground truth,
published as ``DUT-OMRON-gt-pixelwise.zip.zip`` (sic), ``pixelwiseGT-new-PNG/<id>.png``
(5168 pairs); both also carry a ``__MACOSX/`` folder, which is ignored. Written as
``OUT/DUT-OMRON-image`` + ``OUT/pixelwiseGT-new-PNG`` (``DUTOMRONDataset``).
"""
import sys

from sod_archives import Benchmark, Source, run

BENCHMARK = Benchmark(
    name='DUT-OMRON',
    archives='DUT-OMRON-image.zip and DUT-OMRON-gt-pixelwise.zip.zip',
    sources=(Source('DUT-OMRON', img_dirs=('DUT-OMRON-image', ),
                    mask_dirs=('pixelwiseGT-new-PNG', )), ),
    official_counts={'DUT-OMRON': 5168})

if __name__ == '__main__':
    sys.exit(run(BENCHMARK, __doc__))
