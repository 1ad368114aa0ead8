"""No model reads an image file: the original image travels in the data sample
(``PackSalInputs(keep_ori_img=True)`` -> ``sample.ori_img``), decoded once by the pipeline."""
import glob
import os.path as osp
import re

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
READS = re.compile(r'\b(imread|imdecode|imfrombytes|Image\.open|read_image_file|np\.fromfile)\b')


def test_no_module_under_salbox_models_decodes_an_image_file():
    offenders = []
    for path in glob.glob(osp.join(REPO, 'salbox', 'models', '**', '*.py'), recursive=True):
        for number, line in enumerate(open(path, encoding='utf-8'), 1):
            if READS.search(line.split('#')[0]):
                offenders.append(f'{osp.relpath(path, REPO)}:{number}: {line.strip()}')
    assert not offenders, offenders


def test_the_pattern_catches_a_read():
    assert READS.search("bgr = cv2.imread(path, cv2.IMREAD_COLOR)")
    assert not READS.search("image = original_image(sample)")
