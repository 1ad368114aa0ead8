"""Convert the official DUTS archives (DUTS-TR and/or DUTS-TE) into salbox's layout.

    python tools/dataset_converters/duts.py DUTS-TR.zip DUTS-TE.zip -o data/DUTS

Official release (Wang et al., CVPR 2017; saliencydetection.net/duts): ``DUTS-TR.zip`` holds
``DUTS-TR/DUTS-TR-Image/*.jpg`` and ``DUTS-TR/DUTS-TR-Mask/*.png`` (10553 pairs), ``DUTS-TE.zip``
``DUTS-TE/DUTS-TE-Image/*.jpg`` and ``DUTS-TE/DUTS-TE-Mask/*.png`` (5019 pairs). Either archive
may be given alone. Written unchanged under ``OUT`` (``DUTSDataset(split='TR'/'TE')``). A few
copies of DUTS-TR-Mask also hold ``.jpg`` files; only the ``.png`` masks are used and the others
are reported.
"""
import sys

from sod_archives import Benchmark, Source, run

BENCHMARK = Benchmark(
    name='DUTS',
    archives='DUTS-TR.zip and/or DUTS-TE.zip',
    sources=tuple(Source(f'DUTS-{s}', img_dirs=(f'DUTS-{s}/DUTS-{s}-Image', ),
                         mask_dirs=(f'DUTS-{s}/DUTS-{s}-Mask', )) for s in ('TR', 'TE')),
    official_counts={'DUTS-TR': 10553, 'DUTS-TE': 5019},
    require_all=False)

if __name__ == '__main__':
    sys.exit(run(BENCHMARK, __doc__))
