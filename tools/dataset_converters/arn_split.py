"""Write ARN's training/test split: 6000 random MSRA10K + 3500 random DUT-OMRON images for
training, the rest of each set for testing (ARN paper §4.3, following DHSNet's setup).

    python tools/dataset_converters/arn_split.py --msra10k data/MSRA10K \
        --dut-omron data/DUT-OMRON [--seed 2018] [--num-msra10k 6000] [--num-dut-omron 3500]

Writes four ``ann_file`` lists of stems, one per line, sorted:
``<msra10k>/arn_train.txt`` (6000), ``<msra10k>/arn_test.txt`` (the other 4000),
``<dut-omron>/arn_train.txt`` (3500) and ``<dut-omron>/arn_test.txt`` (the other 1668), read by
``configs/_base_/datasets/arn_msra10k_dutomron.py`` (``ann_file='arn_train.txt'`` is relative to
each ``data_root``). ``--out-dir DIR`` writes them to ``DIR/{msra10k,dut-omron}_{train,test}.txt``
instead.

The candidates are the image/mask pairs the salbox dataset classes find (``MSRA10KDataset``:
``Imgs/<id>.jpg`` + ``Imgs/<id>.png``; ``DUTOMRONDataset``: ``DUT-OMRON-image/<name>.jpg`` +
``pixelwiseGT-new-PNG/<name>.png``). The paper's random draw was not published, so the
selection is a seeded one (chosen): every stem is ranked by ``sha256(f'{seed}:{dataset}:{stem}')``
and the lowest ``n`` are taken. That is reproducible on any machine and Python version,
independent of file-system order, and a stem's rank does not depend on which other files exist.
"""
import argparse
import hashlib
import os
import os.path as osp
import sys
from typing import Dict, List, Sequence, Tuple

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))  # checkout

from salbox.apis.runner_utils import run_friendly  # noqa: E402
from salbox.utils.errors import DataError, SalboxError  # noqa: E402

# (name used in file names and hashes, dataset class, paper's training count)
SETS = (('msra10k', 'MSRA10KDataset', 6000), ('dut-omron', 'DUTOMRONDataset', 3500))


def list_stems(dataset_type: str, data_root: str) -> List[str]:
    """Stems of the complete image/mask pairs, as the salbox dataset class pairs them."""
    import salbox.datasets  # noqa: F401  (registers the dataset classes)
    from salbox.registry import DATASETS
    dataset = DATASETS.build(dict(type=dataset_type, data_root=data_root, check_sizes=False,
                                  serialize_data=False, test_mode=True))
    stems = [osp.splitext(osp.basename(item['img_path']))[0] for item in dataset.data_list]
    return sorted(stems)


def rank_key(seed: int, name: str, stem: str) -> str:
    return hashlib.sha256(f'{seed}:{name}:{stem}'.encode('utf-8')).hexdigest()


def select(stems: Sequence[str], num: int, seed: int, name: str) -> Tuple[List[str], List[str]]:
    """(train, test): the ``num`` stems of lowest hash rank, and the rest; both sorted."""
    if num > len(stems):
        raise DataError(f'{name}: {num} training images requested but only {len(stems)} '
                        'image/mask pairs were found')
    ranked = sorted(stems, key=lambda stem: rank_key(seed, name, stem))
    return sorted(ranked[:num]), sorted(ranked[num:])


def write_list(path: str, stems: Sequence[str]) -> None:
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    tmp = path + '.tmp'
    with open(tmp, 'w', encoding='utf-8') as f:
        f.writelines(stem + '\n' for stem in stems)
    os.replace(tmp, path)


def make_split(roots: Dict[str, str], counts: Dict[str, int], seed: int,
               out_dir: str = None) -> Dict[str, Dict[str, str]]:
    """Write the lists; returns ``{name: {'train': path, 'test': path}}``."""
    written = {}
    for name, dataset_type, _ in SETS:
        stems = list_stems(dataset_type, roots[name])
        train, test = select(stems, counts[name], seed, name)
        paths = {}
        for split, split_stems in (('train', train), ('test', test)):
            path = osp.join(out_dir, f'{name}_{split}.txt') if out_dir \
                else osp.join(roots[name], f'arn_{split}.txt')
            write_list(path, split_stems)
            paths[split] = path
        written[name] = paths
        print(f'{name}: {len(train)} train -> {paths["train"]}, {len(test)} test -> '
              f'{paths["test"]}')
    return written


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--msra10k', required=True, help='MSRA10K data root (holds Imgs/)')
    parser.add_argument('--dut-omron', required=True,
                        help='DUT-OMRON data root (holds DUT-OMRON-image/, pixelwiseGT-new-PNG/)')
    parser.add_argument('--num-msra10k', type=int, default=6000, help='default 6000 (paper)')
    parser.add_argument('--num-dut-omron', type=int, default=3500, help='default 3500 (paper)')
    parser.add_argument('--seed', type=int, default=2018, help='selection seed (default 2018)')
    parser.add_argument('--out-dir', default=None,
                        help='write the lists here instead of into each data root')
    return parser.parse_args(argv)


def main(argv=None) -> None:
    args = parse_args(argv)
    for count in (args.num_msra10k, args.num_dut_omron):
        if count < 0:
            raise SalboxError(f'training counts must be >= 0, got {count}')
    make_split(roots={'msra10k': args.msra10k, 'dut-omron': args.dut_omron},
               counts={'msra10k': args.num_msra10k, 'dut-omron': args.num_dut_omron},
               seed=args.seed, out_dir=args.out_dir)


if __name__ == '__main__':
    run_friendly(main)
