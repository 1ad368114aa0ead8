"""SalLocalVisualizer: image | ground truth | prediction (| overlay) panels.

The saliency counterpart of MMSegmentation's ``SegLocalVisualizer``
(``mmseg/visualization/local_visualizer.py``): an mmengine ``Visualizer`` whose
``add_datasample`` draws one sample and either writes it to ``out_file`` or sends it to every
visualisation backend of the config (``vis_backends``: local files, TensorBoard, ...), so the
panels land next to the losses and metrics the logger sends to the same backends.
"""
from typing import Optional, Sequence

import cv2
import numpy as np
from mmengine.visualization import Visualizer

from salbox.registry import VISUALIZERS

PANEL_TITLES = dict(image='image', gt='ground truth', pred='prediction', overlay='overlay')


def map_to_uint8(sal_map) -> np.ndarray:
    """A saliency map (tensor or array, (1, H, W) or (H, W), values in [0, 1]) as uint8 (H, W),
    rounded like the maps ``tools/test.py --out`` writes."""
    from salbox.evaluation.functional import to_uint8
    if hasattr(sal_map, 'detach'):
        sal_map = sal_map.detach().float().cpu().numpy()
    sal_map = np.asarray(sal_map, dtype=np.float32)
    if sal_map.ndim == 3:
        sal_map = sal_map[0]
    return to_uint8(sal_map)


def overlay_map(image: np.ndarray, sal_map: np.ndarray, color: Sequence[int] = (255, 0, 0),
                alpha: float = 0.5) -> np.ndarray:
    """Blend ``color`` into the RGB ``image`` in proportion to the uint8 map (x ``alpha``)."""
    weight = (sal_map.astype(np.float32) / 255.0 * alpha)[..., None]
    tint = np.asarray(color, dtype=np.float32)[None, None]
    return (image.astype(np.float32) * (1 - weight) + tint * weight).round().astype(np.uint8)


def _titled(panel: np.ndarray, title: str) -> np.ndarray:
    """The panel with a 16-pixel caption strip on top."""
    strip = np.full((16, panel.shape[1], 3), 255, dtype=np.uint8)
    cv2.putText(strip, title, (3, 12), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (0, 0, 0), 1, cv2.LINE_AA)
    return np.concatenate([strip, panel], axis=0)


@VISUALIZERS.register_module()
class SalLocalVisualizer(Visualizer):
    """Draws saliency samples as side-by-side panels (all RGB uint8).

    Args:
        name: the instance name (``Visualizer.get_current_instance()`` finds it).
        vis_backends: e.g. ``[dict(type='LocalVisBackend'), dict(type='TensorboardVisBackend')]``.
        save_dir: where the backends write (the Runner sets the log dir).
        overlay: add a fourth panel with the prediction blended into the image (default off,
            so the default panel is exactly image | ground truth | prediction, each at the
            image's size).
        overlay_color, alpha: colour (RGB) and strength of that blend.
        with_titles: write a 16-pixel caption strip above each panel (default off).
    """

    def __init__(self,
                 name: str = 'visualizer',
                 image: Optional[np.ndarray] = None,
                 vis_backends: Optional[Sequence[dict]] = None,
                 save_dir: Optional[str] = None,
                 overlay: bool = False,
                 overlay_color: Sequence[int] = (255, 0, 0),
                 alpha: float = 0.5,
                 with_titles: bool = False,
                 **kwargs):
        super().__init__(name=name, image=image, vis_backends=vis_backends,
                         save_dir=save_dir, **kwargs)
        self.overlay = overlay
        self.overlay_color = tuple(int(c) for c in overlay_color)
        self.alpha = float(alpha)
        self.with_titles = with_titles

    def draw_panels(self, image: np.ndarray, data_sample=None, draw_gt: bool = True,
                    draw_pred: bool = True) -> np.ndarray:
        """image | ground truth | prediction | overlay, each at the image's size.

        The ground truth is drawn when ``draw_gt`` and the sample has ``gt_sal_map``; the
        prediction (and the overlay) when ``draw_pred`` and it has ``pred_sal_map``."""
        image = np.ascontiguousarray(image)
        if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
            raise ValueError(f'SalLocalVisualizer: expected an (H, W, 3) uint8 RGB image, got '
                             f'{image.dtype} {image.shape}')
        height, width = image.shape[:2]
        panels = [('image', image)]
        maps = []
        if data_sample is not None and draw_gt and 'gt_sal_map' in data_sample:
            maps.append(('gt', data_sample.gt_sal_map.data))
        if data_sample is not None and draw_pred and 'pred_sal_map' in data_sample:
            maps.append(('pred', data_sample.pred_sal_map.data))
        for key, sal_map in maps:
            gray = map_to_uint8(sal_map)
            if gray.shape != (height, width):
                gray = cv2.resize(gray, (width, height), interpolation=cv2.INTER_LINEAR)
            panels.append((key, np.repeat(gray[..., None], 3, axis=2)))
            if key == 'pred' and self.overlay:
                panels.append(('overlay', overlay_map(image, gray, self.overlay_color,
                                                      self.alpha)))
        if self.with_titles:
            return np.concatenate([_titled(p, PANEL_TITLES[k]) for k, p in panels], axis=1)
        return np.concatenate([p for _, p in panels], axis=1)

    def add_datasample(self,
                       name: str,
                       image: np.ndarray,
                       data_sample=None,
                       draw_gt: bool = True,
                       draw_pred: bool = True,
                       show: bool = False,
                       wait_time: float = 0,
                       out_file: Optional[str] = None,
                       step: int = 0) -> np.ndarray:
        """Draw ``image`` (RGB uint8 (H, W, 3)) with the sample's maps; write the panels to
        ``out_file`` when given, otherwise send them to every backend as ``name`` at ``step``.
        Returns the drawn RGB image.

        Keep ``name`` free of ``/``: mmengine's ``LocalVisBackend`` writes ``<name>_<step>.png``
        without creating subfolders."""
        drawn = self.draw_panels(image, data_sample, draw_gt, draw_pred)
        self.set_image(drawn)
        if show:
            self.show(drawn, win_name=name, wait_time=wait_time)
        if out_file is not None:
            import mmcv
            mmcv.imwrite(drawn[..., ::-1], out_file)
        else:
            self.add_image(name, drawn, step)
        return drawn
