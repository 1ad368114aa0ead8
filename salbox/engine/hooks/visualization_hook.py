"""Write image | ground truth | prediction panels during testing (``tools/test.py --show-dir``)."""
import os
import os.path as osp
from typing import Optional, Sequence

import cv2
import numpy as np
from mmengine.hooks import Hook

from salbox.evaluation.functional import to_uint8
from salbox.registry import HOOKS
from salbox.structures import original_image


def _gray_to_bgr(sal_map: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(to_uint8(sal_map), cv2.COLOR_GRAY2BGR)


def make_panel(image_bgr: np.ndarray, prediction: np.ndarray,
               ground_truth: Optional[np.ndarray] = None) -> np.ndarray:
    """Side by side: the image, the ground truth (when known) and the prediction."""
    parts = [image_bgr]
    if ground_truth is not None:
        parts.append(_gray_to_bgr(ground_truth))
    parts.append(_gray_to_bgr(prediction))
    return np.concatenate(parts, axis=1)


@HOOKS.register_module()
class SalVisualizationHook(Hook):
    """Save a panel per test image as ``out_dir/<dataset>/<stem>.png`` (every ``interval``-th)."""

    def __init__(self, out_dir: str, interval: int = 1):
        self.out_dir = out_dir
        self.interval = max(1, int(interval))
        self._count = 0

    def after_test_iter(self, runner, batch_idx: int, data_batch=None,
                        outputs: Optional[Sequence] = None) -> None:
        for sample in outputs or []:
            self._count += 1
            if (self._count - 1) % self.interval:
                continue
            path = sample.metainfo.get('img_path') or f'image_{self._count - 1}'
            # the decoded image the prediction is aligned with (PackSalInputs keep_ori_img=True)
            image = original_image(sample).permute(1, 2, 0).cpu().numpy()[:, :, ::-1]
            image = np.ascontiguousarray(image)
            prediction = sample.pred_sal_map.data[0].float().cpu().numpy()
            gt = None
            if 'gt_sal_map' in sample:
                gt = sample.gt_sal_map.data[0].float().cpu().numpy()
                if gt.shape != prediction.shape:
                    gt = None
            if image.shape[:2] != prediction.shape:
                image = cv2.resize(image, prediction.shape[::-1])
            folder = osp.join(self.out_dir, sample.metainfo.get('dataset_name', 'default'))
            os.makedirs(folder, exist_ok=True)
            stem = osp.splitext(osp.basename(path))[0]
            cv2.imwrite(osp.join(folder, f'{stem}.png'), make_panel(image, prediction, gt))
