"""Convert the official ECSSD archives into salbox's layout (docs/datasets.md).

    python tools/dataset_converters/ecssd.py images.zip ground_truth_mask.zip -o data/ECSSD

Official release (Yan et al., CVPR 2013 / Shi et al., TPAMI 2016; CUHK "Hierarchical Saliency
Detection" dataset page, www.cse.cuhk.edu.hk/leojia/projects/hsaliency/dataset.html):
``images.zip`` holds ``images/<id>.jpg`` and ``ground_truth_mask.zip`` ``ground_truth_mask/<id>.png``
(1000 pairs, ids 0001-1000). Written as ``OUT/images`` + ``OUT/ground_truth_mask``
(``ECSSDDataset``).
"""
import sys

from sod_archives import Benchmark, Source, run

BENCHMARK = Benchmark(
    name='ECSSD',
    archives='images.zip and ground_truth_mask.zip',
    sources=(Source('ECSSD', img_dirs=('images', ), mask_dirs=('ground_truth_mask', )), ),
    official_counts={'ECSSD': 1000})

if __name__ == '__main__':
    sys.exit(run(BENCHMARK, __doc__))
