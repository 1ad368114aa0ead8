"""Convert the official HKU-IS archive into salbox's layout (docs/datasets.md).

    python tools/dataset_converters/hku_is.py HKU-IS.rar -o data/HKU-IS
    python tools/dataset_converters/hku_is.py path/to/extracted/HKU-IS -o data/HKU-IS

Official release (Li & Yu, CVPR 2015; sites.google.com/site/ligb86/hkuis): ``HKU-IS.rar`` holds
``HKU-IS/imgs/<id>.png`` and ``HKU-IS/gt/<id>.png`` (4447 pairs). A ``.rar`` is extracted with
``unrar``, ``7z``, ``bsdtar`` or ``unar`` when one is installed; otherwise extract it yourself and
pass the folder (a zip or tar of that folder works too). Written as ``OUT/imgs`` + ``OUT/gt``
(``HKUISDataset``; copies with ``.jpg`` images are accepted as well).
"""
import sys

from sod_archives import Benchmark, Source, run

BENCHMARK = Benchmark(
    name='HKU-IS',
    archives='HKU-IS.rar (or the extracted HKU-IS folder)',
    sources=(Source('HKU-IS', img_dirs=('imgs', ), mask_dirs=('gt', )), ),
    official_counts={'HKU-IS': 4447})

if __name__ == '__main__':
    sys.exit(run(BENCHMARK, __doc__))
