"""Draw image | ground truth | prediction panels during testing (``tools/test.py --show-dir``).

The saliency counterpart of MMSegmentation's ``SegVisualizationHook``
(``mmseg/engine/hooks/visualization_hook.py``): every ``interval``-th test sample goes through
the Runner's visualizer (``SalLocalVisualizer`` in ``configs/_base_/default_runtime.py``). The
image comes from the sample itself (``data_sample.ori_img``, packed by
``PackSalInputs(keep_ori_img=True)``): no image file is read a second time.

* ``out_dir`` set (``--show-dir``): panels are written as ``out_dir/<dataset>/<stem>.png``, and
  also sent to every non-local backend of the visualizer (e.g. TensorBoard);
* ``out_dir`` not set: panels go to every backend (``vis_data/vis_image`` for the local one).

After the test loop the metrics go to the non-local backends too (mmengine's ``LoggerHook``
writes test metrics only to the log files), so a TensorBoard run shows the test scores.
"""
import os.path as osp
from typing import Optional, Sequence

import numpy as np
from mmengine.hooks import Hook

from salbox.registry import HOOKS
from salbox.structures import original_image
from salbox.utils.errors import SalboxError


def _original_image(sample) -> np.ndarray:
    """The sample's original image as an RGB uint8 (H, W, 3) array (a clear error when the
    test pipeline did not pack it)."""
    image = original_image(sample)
    return np.ascontiguousarray(image.detach().cpu().numpy().transpose(1, 2, 0))


@HOOKS.register_module()
class SalVisualizationHook(Hook):
    """Send a panel of every ``interval``-th test sample through the Runner's visualizer.

    Args:
        out_dir: folder for the panel PNGs (``tools/test.py --show-dir``); ``None``: backends.
        interval: draw every ``interval``-th test sample (counted over the whole test run).
        draw_gt: draw the ground truth when the sample has one.
    """

    priority = 'NORMAL'

    def __init__(self, out_dir: Optional[str] = None, interval: int = 1, draw_gt: bool = True):
        self.out_dir = out_dir
        self.interval = max(1, int(interval))
        self.draw_gt = draw_gt
        self._count = 0

    def before_test(self, runner) -> None:
        self._count = 0

    def _remote_backends(self, visualizer):
        """The visualizer's backends other than the local file writer (TensorBoard, ...)."""
        from mmengine.visualization import LocalVisBackend
        backends = getattr(visualizer, '_vis_backends', {}) or {}
        return [b for b in backends.values() if not isinstance(b, LocalVisBackend)]

    def after_test_epoch(self, runner, metrics: Optional[dict] = None) -> None:
        scalars = {key: float(value) for key, value in (metrics or {}).items()
                   if isinstance(value, (int, float)) and not isinstance(value, bool)}
        if scalars:
            for backend in self._remote_backends(runner.visualizer):
                backend.add_scalars({f'test/{k}': v for k, v in scalars.items()},
                                    step=runner.iter)

    def after_test_iter(self, runner, batch_idx: int, data_batch=None,
                        outputs: Optional[Sequence] = None) -> None:
        visualizer = runner.visualizer
        if not hasattr(visualizer, 'draw_panels'):
            raise SalboxError(f'SalVisualizationHook needs visualizer=dict(type='
                              f"'SalLocalVisualizer') in the config, got "
                              f'{type(visualizer).__name__}')
        for sample in outputs or []:
            index = self._count
            self._count += 1
            if index % self.interval:
                continue
            image = _original_image(sample)
            path = sample.metainfo.get('img_path') or f'{index:06d}.png'
            stem = osp.splitext(osp.basename(path))[0]
            dataset = sample.metainfo.get('dataset_name', 'default')
            name = f'{dataset}_{stem}'  # flat: LocalVisBackend cannot write into subfolders
            if self.out_dir is None:
                visualizer.add_datasample(name, image, sample, draw_gt=self.draw_gt, step=index)
                continue
            out_file = osp.join(self.out_dir, dataset, f'{stem}.png')
            drawn = visualizer.add_datasample(name, image, sample, draw_gt=self.draw_gt,
                                              out_file=out_file, step=index)
            for backend in self._remote_backends(visualizer):
                backend.add_image(name, drawn, index)
