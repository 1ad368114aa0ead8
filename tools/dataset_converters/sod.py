"""Convert SOD (Movahedi & Elder, CVPRW 2010) with PNG masks into salbox's layout.

    python tools/dataset_converters/sod.py SOD_png_release.zip -o data/SOD

The authors' release (elderlab.yorku.ca/SOD, ``SOD.zip``) holds no images and no masks: one
``SO<bsds id>.mat`` per image with each annotator's selected BSDS300 segments (``SES``), plus
``DBidx.mat``; the images are in BSDS300 (``BSDS300-images.tgz``). Every SOD paper, R3Net
included, evaluates on the 300 PNG masks that circulate with the SOD benchmarks instead, laid out
as ``SOD/images/<id>.jpg`` (or ``Imgs/``) with ``SOD/GT/<id>.png`` (or ``masks/``, ``gt/``, or the
masks beside the images in ``Imgs/``). This converter takes such an archive or folder; given the
authors' ``SOD.zip`` it says so in one error. Written as ``OUT/images`` + ``OUT/masks``
(``SODDataset``).
"""
import sys

from sod_archives import Benchmark, Source, run


def explain_official_zip(files):
    stems = [f.rsplit('/', 1)[-1] for f in files]
    if 'DBidx.mat' in stems or any(s.startswith('SO') and s.endswith('.mat') for s in stems):
        return ('this is the authors\' SOD.zip (annotator sessions SO*.mat, no images or PNG '
                'masks); use a copy of SOD with PNG masks (images/ + GT/, see docs/datasets.md)')
    return None


BENCHMARK = Benchmark(
    name='SOD',
    archives='a SOD copy with PNG masks: images/ (or Imgs/) + GT/ (or masks/, gt/)',
    sources=(Source('SOD', img_dirs=('images', 'Imgs', 'Image', 'img'),
                    mask_dirs=('GT', 'masks', 'gt', 'Mask', 'Imgs')), ),
    official_counts={'SOD': 300},
    diagnose=explain_official_zip)

if __name__ == '__main__':
    sys.exit(run(BENCHMARK, __doc__))
