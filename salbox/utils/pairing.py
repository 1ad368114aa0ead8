"""Files of two folders paired by name stem: the one rule every data set and evaluator uses.

``files_by_stem(folder, suffixes)`` lists a folder flat (no recursion): ``{stem: file name}``
for the plain files whose names end with one of ``suffixes`` (case-insensitive; the longest
matching suffix is cut, so ``'_sal.png'`` maps ``0001_sal.png`` to ``0001``). Two files with
one stem (``a.jpg`` and ``a.png``, or ``a.png`` and ``a.PNG``) cannot be told apart and would
write one output name: a ``DataError`` names both (the one duplicate-name rule).

``pair_by_stem`` pairs two such listings and says what is left over on each side; callers
decide what a leftover is (an error, a warning, an entry of a report).
"""
import os
import os.path as osp
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple, Union

from .errors import DataError

Suffixes = Union[str, Sequence[str]]


def _as_tuple(suffixes: Suffixes) -> Tuple[str, ...]:
    return (suffixes, ) if isinstance(suffixes, str) else tuple(suffixes)


def matching_suffix(name: str, suffixes: Suffixes) -> Optional[str]:
    """The suffix of ``suffixes`` that ``name`` ends with (case-insensitive, longest first)."""
    lower = name.lower()
    for suffix in sorted(_as_tuple(suffixes), key=len, reverse=True):
        if lower.endswith(suffix.lower()):
            return suffix
    return None


def files_by_stem(folder: str, suffixes: Suffixes, exclude: Optional[str] = None
                  ) -> Dict[str, str]:
    """``{stem: file name}`` of the files of ``folder`` ending with one of ``suffixes``, in name
    order; names ending with ``exclude`` are skipped (masks beside their images). Two files
    with one stem raise ``DataError`` naming both."""
    found: Dict[str, str] = {}
    for name in sorted(os.listdir(folder)):
        if exclude and matching_suffix(name, exclude):
            continue
        suffix = matching_suffix(name, suffixes)
        if not suffix or not osp.isfile(osp.join(folder, name)):
            continue
        stem = name[:-len(suffix)]
        if stem in found:
            raise DataError(f'two files for the same name in {folder}: {found[stem]} and '
                            f'{name}; keep one')
        found[stem] = name
    return dict(sorted(found.items()))


@dataclass
class StemPairs:
    """``pair_by_stem``'s answer. Paths are joined to their folder; the leftovers are stems."""
    first: Dict[str, str]  # stem -> file name, first folder
    second: Dict[str, str]  # stem -> file name, second folder
    pairs: List[Tuple[str, str, str]] = field(default_factory=list)  # (stem, first, second)
    first_only: List[str] = field(default_factory=list)  # wanted, in first, not in second
    second_only: List[str] = field(default_factory=list)  # in second, not in first (no stems)
    not_found: List[str] = field(default_factory=list)  # wanted stems without a first file


def pair_by_stem(first_dir: str, first_suffixes: Suffixes, second_dir: str,
                 second_suffixes: Suffixes, stems: Optional[Sequence[str]] = None,
                 exclude: Optional[str] = None) -> StemPairs:
    """Pair ``first_dir/<stem><first suffix>`` with ``second_dir/<stem><second suffix>``.

    ``stems``: the wanted stems in order (an ``ann_file``); default every stem of the first
    folder, sorted. ``exclude`` skips names of the first folder (see ``files_by_stem``).
    """
    result = StemPairs(files_by_stem(first_dir, first_suffixes, exclude),
                       files_by_stem(second_dir, second_suffixes))
    wanted = list(stems) if stems is not None else list(result.first)
    for stem in wanted:
        if stem not in result.first:
            result.not_found.append(stem)
        elif stem not in result.second:
            result.first_only.append(stem)
        else:
            result.pairs.append((stem, osp.join(first_dir, result.first[stem]),
                                 osp.join(second_dir, result.second[stem])))
    if stems is None:
        result.second_only = [s for s in result.second if s not in result.first]
    return result
