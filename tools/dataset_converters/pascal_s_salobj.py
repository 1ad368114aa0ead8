"""Convert PASCAL-S from the authors' salObj release into salbox's layout (docs/datasets.md).

    python tools/dataset_converters/pascal_s_salobj.py salObj.zip -o data/PASCAL-S

Official release (Li et al., "The Secrets of Salient Object Segmentation", CVPR 2014;
cbi.gatech.edu/salobj, ``download/salObj.zip``): the archive holds ``algmaps/``, ``benchmark/``,
``code/``, ``results/`` and ``datasets/``; PASCAL-S is ``datasets/imgs/pascal/<id>.jpg`` with the
soft masks ``datasets/masks/pascal/<id>.png`` (850 pairs; the other subfolders of ``datasets/``
are other data sets and are not copied). Written as ``OUT/images`` + ``OUT/masks``
(``PASCALSDataset``). For the copy inside the saliency MATLAB toolbox use
``pascal_s_saliency_matlab.py`` instead.
"""
import sys

from sod_archives import Benchmark, Source, run

BENCHMARK = Benchmark(
    name='PASCAL-S',
    archives='salObj.zip',
    sources=(Source('PASCAL-S', img_dirs=('datasets/imgs/pascal', ),
                    mask_dirs=('datasets/masks/pascal', )), ),
    official_counts={'PASCAL-S': 850})

if __name__ == '__main__':
    sys.exit(run(BENCHMARK, __doc__))
