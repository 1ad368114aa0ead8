"""``tools/test.py --out DIR --resume``: a test loop that does not predict images again whose
map is already written, so a test run killed half way loses nothing it finished.

For each sample whose ``DIR/<dataset_name>/<image stem>.png`` (the name ``SODMetric`` writes)
is a complete PNG (:func:`salbox.engine.atomic_io.png_is_complete`: a map cut short by the
kill is redone) of the sample's original size, the model is not run: the map is read back as
``pred_sal_map`` (``uint8 / 255``) and evaluated like a fresh prediction, without being written
again. The other samples of the batch go through ``model.test_step`` as in mmengine's
``TestLoop``. Samples reach the evaluator in data-loader order, so the metrics, and their
collection across ranks, are those of a run without ``--resume``, up to the 8-bit rounding of
the maps read back (none for SODMetric's default ``'pysodmetrics'`` protocol, which scores
8-bit maps).
"""
import os.path as osp
from contextlib import contextmanager

import cv2
import torch
from mmengine.logging import print_log
from mmengine.runner import TestLoop
from mmengine.runner.amp import autocast
from mmengine.structures import PixelData

from salbox.registry import LOOPS
from salbox.utils.mmengine_compat import pop_test_losses
from .atomic_io import png_is_complete


def _get(sample, key, default=None):
    if isinstance(sample, dict):
        return sample.get(key, default)
    return sample.metainfo.get(key, getattr(sample, key, default))


def _select(data_batch: dict, indices, batch_size: int) -> dict:
    """The part of a collated batch (lists of per-sample items) at ``indices``."""
    return {key: ([value[i] for i in indices] if isinstance(value, (list, tuple))
                  and len(value) == batch_size else value)
            for key, value in data_batch.items()}


@LOOPS.register_module()
class ResumeMapsTestLoop(TestLoop):
    """mmengine's ``TestLoop`` that reuses the complete maps already in ``out_dir``."""

    def __init__(self, runner, dataloader, evaluator, out_dir: str, fp16: bool = False):
        super().__init__(runner, dataloader, evaluator, fp16=fp16)
        self.out_dir = out_dir
        self.reused = 0

    def map_path(self, sample) -> str:
        dataset = _get(sample, 'dataset_name') or 'default'
        img_path = _get(sample, 'img_path') or _get(sample, 'gt_path') or ''
        return osp.join(self.out_dir, dataset, osp.splitext(osp.basename(img_path))[0] + '.png')

    def written_map(self, sample):
        """The map already written for ``sample`` as a (1, H, W) float tensor, else None."""
        path = self.map_path(sample)
        if not png_is_complete(path):
            return None
        saliency = cv2.imread(path, cv2.IMREAD_GRAYSCALE)
        ori_shape = _get(sample, 'ori_shape')
        if saliency is None or (ori_shape is not None
                                and tuple(saliency.shape) != tuple(ori_shape[:2])):
            return None
        return torch.from_numpy(saliency).float().div_(255.0)[None]

    @contextmanager
    def _no_map_writing(self):
        metrics = [m for m in self.evaluator.metrics if getattr(m, 'output_dir', None)]
        saved = [m.output_dir for m in metrics]
        for metric in metrics:
            metric.output_dir = None
        try:
            yield
        finally:
            for metric, value in zip(metrics, saved):
                metric.output_dir = value

    def run(self) -> dict:
        metrics = super().run()
        if self.reused:
            print_log(f'--resume: {self.reused} maps already in {self.out_dir} were read back '
                      'instead of predicted again', logger='current')
        return metrics

    @torch.no_grad()
    def run_iter(self, idx, data_batch) -> None:
        self.runner.call_hook('before_test_iter', batch_idx=idx, data_batch=data_batch)
        samples = data_batch['data_samples']
        written = [self.written_map(sample) for sample in samples]
        todo = [i for i, saliency in enumerate(written) if saliency is None]
        outputs = [None] * len(samples)
        if todo:
            with autocast(enabled=self.fp16):
                predicted = self.runner.model.test_step(_select(data_batch, todo, len(samples)))
            predicted = pop_test_losses(predicted, self.test_loss)  # logged by TestLoop.run
            for i, output in zip(todo, predicted):
                outputs[i] = output
        for i, saliency in enumerate(written):
            if saliency is not None:
                outputs[i] = samples[i]
                outputs[i].pred_sal_map = PixelData(data=saliency)
                self.reused += 1
        for i, output in enumerate(outputs):  # one by one, in order: same metric as without
            one = _select(data_batch, [i], len(samples))
            if written[i] is None:
                self.evaluator.process(data_samples=[output], data_batch=one)
            else:
                with self._no_map_writing():
                    self.evaluator.process(data_samples=[output], data_batch=one)
        self.runner.call_hook('after_test_iter', batch_idx=idx, data_batch=data_batch,
                              outputs=outputs)
