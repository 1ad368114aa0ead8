"""Convert the official MSRA10K archive into salbox's layout (docs/datasets.md).

    python tools/dataset_converters/msra10k.py MSRA10K_Imgs_GT.zip -o data/MSRA10K

Official release (Cheng et al., TPAMI 2015; mmcheng.net/msra10k): ``MSRA10K_Imgs_GT.zip`` holds
``MSRA10K_Imgs_GT/Imgs/<id>.jpg`` and the mask ``<id>.png`` side by side (10000 pairs) and a
``Readme.txt``. Written as ``OUT/Imgs/<id>.jpg`` + ``<id>.png`` (``MSRA10KDataset``).
"""
import sys

from sod_archives import Benchmark, Source, run

BENCHMARK = Benchmark(
    name='MSRA10K',
    archives='MSRA10K_Imgs_GT.zip',
    sources=(Source('MSRA10K', img_dirs=('Imgs', ), mask_dirs=('Imgs', )), ),
    official_counts={'MSRA10K': 10000})

if __name__ == '__main__':
    sys.exit(run(BENCHMARK, __doc__))
