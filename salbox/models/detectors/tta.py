"""Test-time augmentation for any salbox detector (mmengine ``BaseTTAModel``).

Modelled on MMSeg's ``SegTTAModel`` (``mmseg/models/segmentors/seg_tta.py``): the test pipeline's
``TestTimeAug`` (mmcv) makes several views of each image (flips, scales); the wrapped detector
predicts each view through its own ``postprocess_result`` (which already resizes to the original
size and undoes the flip); :meth:`SalTTAModel.merge_preds` averages the views.

Merge rule (chosen): the mean of the views' saliency PROBABILITIES (maps in [0, 1] before the
post-processors), not of their logits. Probabilities are what every detector outputs (a refined
BRN map is min-max normalised, not a sigmoid of its logits), their mean is the expected map over
views and stays in [0, 1], and one over-confident view cannot dominate as a large logit does.
Everything after the sigmoid (``postprocess_map``: the post-processors, e.g. DenseCRF; for a
``RefinedDetector`` the first stage's post-processors, the refiner and its own) then runs ONCE,
on the merged map and the original image, instead of once per view. ``sal_logits`` of the result
is ``logit(mean probability)`` passed through ``postprocess_map`` (a refiner's logits).
"""
from typing import List, Sequence

import torch
from mmengine.model import BaseTTAModel
from mmengine.structures import PixelData

from salbox.registry import MODELS
from salbox.structures import SalDataSample

EPS = 1e-6


@MODELS.register_module()
class SalTTAModel(BaseTTAModel):
    """Merge a detector's predictions on the views made by ``TestTimeAug``.

    Config (MMSeg style): ``tta_model = dict(type='SalTTAModel')`` and a ``tta_pipeline``; with
    ``tools/test.py --tta`` / ``tools/infer.py --tta`` the config's ``model`` becomes
    ``tta_model.module``. A checkpoint of the plain detector loads into it as is (its keys are
    given the ``module.`` prefix on load).

    Args:
        module: the detector (config or module), any ``BaseSalDetector``.
        data_preprocessor: overrides the detector's (as in ``BaseTTAModel``); normally None.
    """

    def __init__(self, module, data_preprocessor=None):
        super().__init__(module=module, data_preprocessor=data_preprocessor)
        self._register_load_state_dict_pre_hook(self._prefix_module_keys)

    @staticmethod
    def _prefix_module_keys(state_dict, prefix, *args) -> None:
        """Let a plain detector's state dict load into the wrapper."""
        for key in list(state_dict):
            if key.startswith(prefix) and not key.startswith(prefix + 'module.'):
                state_dict[prefix + 'module.' + key[len(prefix):]] = state_dict.pop(key)

    def test_step(self, data):
        """Predict every view without post-processors, merge, then post-process once."""
        module = self.module
        previous = getattr(module, 'run_postprocessors', True)
        module.run_postprocessors = False
        try:
            return super().test_step(data)
        finally:
            module.run_postprocessors = previous

    def merge_preds(self, data_samples_list: Sequence[Sequence[SalDataSample]]
                    ) -> List[SalDataSample]:
        """Per image: mean of the views' maps -> the detector's ``postprocess_map``."""
        merged = []
        for views in data_samples_list:
            maps = [view.pred_sal_map.data for view in views]
            shapes = {tuple(m.shape) for m in maps}
            if len(shapes) != 1:
                raise ValueError(f'SalTTAModel: the views of {views[0].metainfo.get("img_path")}'
                                 f' give maps of different sizes {sorted(shapes)}')
            mean = torch.stack(maps).mean(0)
            sample = views[0]
            logit = torch.logit(mean.clamp(EPS, 1 - EPS))
            logit, sal_map = self.module.postprocess_map(logit, mean, sample)
            sample.sal_logits = PixelData(data=logit)
            sample.pred_sal_map = PixelData(data=sal_map.clamp(0, 1))
            sample.set_metainfo(dict(tta_views=len(views)))
            merged.append(sample)
        return merged
