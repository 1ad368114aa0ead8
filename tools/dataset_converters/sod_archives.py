"""What the benchmark converters share: the documented layouts, reading archives, writing pairs.

Each ``tools/dataset_converters/<benchmark>.py`` only declares a :class:`Benchmark` (which folders
of the official archive hold the images and masks, and where they go in salbox's layout,
``docs/datasets.md``, :data:`sod_layouts.LAYOUTS`) and calls :func:`run`.

Inputs may be zip or tar archives (``.zip``, ``.tar``, ``.tar.gz``, ``.tgz``), a ``.rar`` (extracted
with ``unrar``/``7z``/``bsdtar`` if one is installed) or an already extracted folder. Folders are
found by the trailing part of their path, so ``DUT-OMRON-image/DUT-OMRON-image/`` (an archive
unzipped into a folder of its own name) works as well as ``DUT-OMRON-image/``. macOS junk
(``__MACOSX/``, ``._*``, ``.DS_Store``) and ``Thumbs.db`` are ignored. Files are copied byte for
byte (no re-encoding: the masks keep their soft values), each written to a temporary name and
renamed, and a file that already holds the same bytes is left alone, so a second run changes
nothing.
"""
import argparse
import os
import os.path as osp
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from dataclasses import dataclass, field
from typing import Callable, Dict, Iterable, List, Optional, Sequence, Tuple

HERE = osp.dirname(osp.abspath(__file__))
REPO_ROOT = osp.dirname(osp.dirname(HERE))
for _path in (REPO_ROOT, HERE):
    if _path not in sys.path:
        sys.path.insert(0, _path)

from tqdm import tqdm  # noqa: E402

from salbox.utils.errors import SalboxError  # noqa: E402

from sod_layouts import LAYOUTS, Split, short_list  # noqa: E402,F401

JUNK_NAMES = ('.ds_store', 'thumbs.db')


class ConversionError(SalboxError):
    """A wrong or incomplete archive: the message names it and says what was expected."""


@dataclass(frozen=True)
class Source:
    """Where one split lives inside the official archive(s).

    ``img_dirs`` / ``mask_dirs`` are alternative folder paths (``/``-separated, matched against
    the end of a folder's path inside the input); the first one found is used.
    """
    split: str
    img_dirs: Tuple[str, ...]
    mask_dirs: Tuple[str, ...]


@dataclass
class Benchmark:
    """One converter: the official archives, where their folders are, expected sizes."""
    name: str
    archives: str                                # e.g. 'DUTS-TR.zip and/or DUTS-TE.zip'
    sources: Tuple[Source, ...]
    official_counts: Dict[str, int] = field(default_factory=dict)
    require_all: bool = True                     # False: convert whichever splits are present
    # Called with the input's file list when no split is found: a more specific error message.
    diagnose: Optional[Callable[[List[str]], Optional[str]]] = None

    def layout(self, split: str) -> Split:
        for item in LAYOUTS[self.name]:
            if item.name == split:
                return item
        raise KeyError(split)


# ------------------------------------------------------------------------------ reading inputs
def _is_junk(path: str) -> bool:
    parts = path.split('/')
    base = parts[-1].lower()
    return '__MACOSX' in parts or base.startswith('._') or base in JUNK_NAMES


def _tar_name(name: str) -> str:
    """A tar member's path without a leading ``./`` (``tar -C dir .`` writes those)."""
    return name[2:] if name.startswith('./') else name


class InputTree:
    """The files of one input (archive or folder): relative ``/`` paths -> bytes."""

    def __init__(self, path: str):
        self.path = path
        self.label = osp.basename(osp.normpath(path))
        self._zip = self._tar = None
        self._root = None
        self._tmp = None
        if osp.isdir(path):
            self._root = path
        elif not osp.exists(path):
            raise ConversionError(f'input not found: {path}')
        elif zipfile.is_zipfile(path):
            self._zip = zipfile.ZipFile(path)
        elif path.lower().endswith('.rar'):
            self._root = self._extract_rar(path)
        else:
            try:
                self._tar = tarfile.open(path)
            except tarfile.TarError:
                raise ConversionError(f'{path} is neither a folder nor a zip/tar archive') from None
        self.files = sorted(p for p in self._list() if not _is_junk(p))

    def _extract_rar(self, path: str) -> str:
        tools = [(name, cmd) for name, cmd in (
            ('unrar', ['unrar', 'x', '-o+', '-inul', path]),
            ('7z', ['7z', 'x', '-y', path]),
            ('bsdtar', ['bsdtar', '-xf', path]),
            ('unar', ['unar', '-f', path])) if shutil.which(name)]
        if not tools:
            raise ConversionError(
                f'cannot open {path}: no RAR extractor (unrar, 7z, bsdtar or unar) is installed; '
                f'extract it first (e.g. `unrar x {osp.basename(path)}`) and pass the folder')
        self._tmp = tempfile.TemporaryDirectory(prefix='salbox_rar_')
        name, cmd = tools[0]
        cmd = cmd + ([self._tmp.name + os.sep] if name == 'unrar' else [])
        cwd = self._tmp.name if name != 'unrar' else None
        result = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
        if result.returncode != 0:
            raise ConversionError(f'{name} could not extract {path}: '
                                  f'{(result.stderr or result.stdout).strip()[:200]}')
        return self._tmp.name

    def _list(self) -> Iterable[str]:
        if self._zip is not None:
            return [n for n in self._zip.namelist() if not n.endswith('/')]
        if self._tar is not None:
            self._members = {_tar_name(m.name): m for m in self._tar.getmembers() if m.isfile()}
            return list(self._members)
        out = []
        for dirpath, _, names in os.walk(self._root):
            rel = osp.relpath(dirpath, self._root)
            for name in names:
                out.append(name if rel == '.' else f'{rel}/{name}'.replace(os.sep, '/'))
        return out

    def read(self, rel: str) -> bytes:
        if self._zip is not None:
            return self._zip.read(rel)
        if self._tar is not None:
            return self._tar.extractfile(self._members[rel]).read()
        with open(osp.join(self._root, rel), 'rb') as f:
            return f.read()

    def find_folder(self, suffix: str, exts: Sequence[str]) -> Tuple[Optional[str], List[str]]:
        """The folder whose path ends with ``suffix`` and holds files with ``exts``.

        Returns (folder, [file names with a matching extension]) or (None, [])."""
        want = suffix.strip('/').split('/')
        by_dir: Dict[str, List[str]] = {}
        for rel in self.files:
            parts = rel.split('/')
            folder = parts[:-1]
            if len(folder) >= len(want) and folder[len(folder) - len(want):] == want and \
                    osp.splitext(parts[-1])[1].lower() in exts:
                by_dir.setdefault('/'.join(folder), []).append(parts[-1])
        if not by_dir:
            return None, []
        if len(by_dir) > 1:
            raise ConversionError(f'{self.path}: several folders match {suffix}/: '
                                  f'{", ".join(sorted(by_dir))}; pass the one to convert')
        folder, names = next(iter(by_dir.items()))
        return folder, names

    def top_level(self) -> str:
        tops = sorted({p.split('/')[0] + ('/' if '/' in p else '') for p in self.files})
        return short_list(tops) if tops else '(nothing)'

    def close(self):
        if self._zip is not None:
            self._zip.close()
        if self._tar is not None:
            self._tar.close()
        if self._tmp is not None:
            self._tmp.cleanup()


# ------------------------------------------------------------------------------ writing
def write_file(data: bytes, dst: str) -> bool:
    """Write ``data`` to ``dst`` atomically; False (nothing written) when it already holds it."""
    if osp.isfile(dst) and osp.getsize(dst) == len(data):
        with open(dst, 'rb') as f:
            if f.read() == data:
                return False
    os.makedirs(osp.dirname(dst), exist_ok=True)
    tmp = dst + '.part'
    with open(tmp, 'wb') as f:
        f.write(data)
    os.replace(tmp, dst)
    return True


@dataclass
class SplitReport:
    split: str
    pairs: int = 0
    written: int = 0
    unchanged: int = 0
    images_without_mask: List[str] = field(default_factory=list)
    masks_without_image: List[str] = field(default_factory=list)
    ignored: List[str] = field(default_factory=list)
    official: Optional[int] = None
    img_dir: str = ''
    mask_dir: str = ''

    def lines(self) -> List[str]:
        out = [f'{self.split}: {self.pairs} image/mask pairs -> {self.img_dir}, {self.mask_dir} '
               f'({self.written} files written, {self.unchanged} already up to date)']
        if self.images_without_mask:
            out.append(f'  warning: {len(self.images_without_mask)} images without a mask, '
                       f'not copied: {short_list(self.images_without_mask)}')
        if self.masks_without_image:
            out.append(f'  warning: {len(self.masks_without_image)} masks without an image, '
                       f'not copied: {short_list(self.masks_without_image)}')
        if self.ignored:
            out.append(f'  note: {len(self.ignored)} files with other endings ignored: '
                       f'{short_list(self.ignored)}')
        if self.official is not None and self.official != self.pairs:
            out.append(f'  note: the official release has {self.official} pairs '
                       f'(a partial or modified copy?)')
        return out


def _locate(trees: Sequence[InputTree], dirs: Sequence[str], exts: Sequence[str]):
    for tree in trees:
        for candidate in dirs:
            folder, names = tree.find_folder(candidate, exts)
            if folder is not None:
                return tree, folder, names
    return None, None, []


def convert(bench: Benchmark, inputs: Sequence[str], out_root: str) -> List[SplitReport]:
    """Convert the official archive(s) ``inputs`` of ``bench`` into ``out_root``."""
    trees = [InputTree(p) for p in inputs]
    try:
        found = []
        for source in bench.sources:
            layout = bench.layout(source.split)
            img = _locate(trees, source.img_dirs, layout.img_exts)
            mask = _locate(trees, source.mask_dirs, (layout.mask_ext, ))
            found.append((source, layout, img, mask))
        present = [f for f in found if f[2][0] is not None and f[3][0] is not None]
        missing = [f for f in found if f[2][0] is None or f[3][0] is None]
        half = [f for f in missing if f[2][0] is not None or f[3][0] is not None]
        if half:  # images without their mask folder, or the reverse: always an error
            raise ConversionError(_wrong_input_message(bench, trees, half))
        if (bench.require_all and missing) or not present:
            raise ConversionError(_wrong_input_message(bench, trees, missing or found))
        return [_copy_split(bench, layout, img, mask, out_root)
                for _, layout, img, mask in present]
    finally:
        for tree in trees:
            tree.close()


def _wrong_input_message(bench, trees, missing) -> str:
    files = [f for tree in trees for f in tree.files]
    hint = bench.diagnose(files) if bench.diagnose else None
    names = ', '.join(tree.path for tree in trees)
    if hint:
        return f'{names}: {hint}'
    wanted = []
    for source, layout, img, mask in missing:
        if img[0] is None:
            wanted.append(f'{source.img_dirs[0]}/ with {"/".join(layout.img_exts)} images')
        if mask[0] is None:
            wanted.append(f'{source.mask_dirs[0]}/ with {layout.mask_ext} masks')
    tops = '; '.join(f'{tree.label}: {tree.top_level()}' for tree in trees)
    return (f'{names} is not the official {bench.name} release ({bench.archives}): no folder '
            f'{" and no ".join(wanted)} (found {tops})')


def _copy_split(bench, layout: Split, img, mask, out_root: str) -> SplitReport:
    img_tree, img_folder, img_names = img
    mask_tree, mask_folder, mask_names = mask
    images = {osp.splitext(n)[0]: n for n in img_names}
    masks = {osp.splitext(n)[0]: n for n in mask_names}
    report = SplitReport(layout.name, official=bench.official_counts.get(layout.name),
                         img_dir=osp.join(out_root, layout.img_dir),
                         mask_dir=osp.join(out_root, layout.mask_dir))
    report.images_without_mask = sorted(images[s] for s in set(images) - set(masks))
    report.masks_without_image = sorted(masks[s] for s in set(masks) - set(images))
    same = (img_tree, img_folder) == (mask_tree, mask_folder)
    for tree, folder, exts in ((img_tree, img_folder, (*layout.img_exts, layout.mask_ext)
                                if same else layout.img_exts),
                               (mask_tree, mask_folder, (layout.mask_ext, ))):
        if same and exts == (layout.mask_ext, ):
            continue
        report.ignored += [f for f in tree.files if osp.dirname(f) == folder and
                           osp.splitext(f)[1].lower() not in exts]
    stems = sorted(set(images) & set(masks))
    # a progress bar on a terminal only (10k pairs take a while; logs and tests stay clean)
    for stem in tqdm(stems, desc=layout.name, unit='pair', disable=not sys.stderr.isatty(),
                     leave=False):
        for tree, folder, name, dst_dir in (
                (img_tree, img_folder, images[stem], report.img_dir),
                (mask_tree, mask_folder, masks[stem], report.mask_dir)):
            ext = osp.splitext(name)[1].lower()
            changed = write_file(tree.read(f'{folder}/{name}'), osp.join(dst_dir, stem + ext))
            report.written += changed
            report.unchanged += not changed
        report.pairs += 1
    return report


# ------------------------------------------------------------------------------ command line
def run(bench: Benchmark, description: str, argv=None) -> int:
    """The command line every converter shares: INPUT... [-o OUT]."""
    parser = argparse.ArgumentParser(
        description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('inputs', nargs='+', metavar='INPUT',
                        help=f'{bench.archives} (archives or extracted folders)')
    parser.add_argument('-o', '--out', default=osp.join('data', bench.name),
                        help=f'output data root (default data/{bench.name})')
    args = parser.parse_args(argv)
    try:
        reports = convert(bench, args.inputs, args.out)
    except SalboxError as err:
        print(f'error: {err}', file=sys.stderr)
        return 1
    for report in reports:
        print('\n'.join(report.lines()))
    print(f'{bench.name} is ready under {args.out} (docs/datasets.md); check it with '
          f'`python tools/dataset_converters/check.py {osp.dirname(osp.abspath(args.out))} '
          f'--dataset {bench.name}`')
    return 0
