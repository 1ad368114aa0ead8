"""Build a model from a config and a checkpoint, and run it on images (paths or arrays).

Mirrors ``mmseg.apis.init_model`` / ``inference_model``: the config's test pipeline is reused
without its annotation-loading step, so a photo with no mask goes through exactly the
preprocessing the model was evaluated with.
"""
import copy
import os.path as osp
from typing import List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
from mmengine.config import Config
from mmengine.dataset import Compose, pseudo_collate
from mmengine.registry import init_default_scope
from mmengine.runner import load_state_dict

from salbox.registry import MODELS
from salbox.structures import SalDataSample
from salbox.utils import mmengine_compat
from salbox.utils.checkpoint_match import load_checked_state_dict
from salbox.utils.errors import SalboxError
from .config_keys import warn_unknown_keys
from .tta import use_tta

ImageInput = Union[str, np.ndarray]


def init_model(config: Union[str, Config], checkpoint: Optional[str] = None,
               device: str = 'cpu', cfg_options: Optional[dict] = None,
               tta: bool = False, strict: bool = True) -> torch.nn.Module:
    """Build the config's model, load ``checkpoint`` (safe loading, hash verified; or
    ``pip://NAME`` for weights a pip package ships, e.g. ``pip://u2netp``), put it in eval mode. A checkpoint that does not fit the model (missing / unexpected keys, other
    shapes) is refused in one line unless ``strict=False`` (``salbox.utils.checkpoint_match``).
    With ``tta=True`` the model is the config's ``tta_model`` around it and
    :func:`inference_model` uses the ``tta_pipeline``."""
    mmengine_compat.enable()  # pip:// weights, init_cfgs and first stages load safely
    if isinstance(config, str):
        if not osp.isfile(config):
            raise SalboxError(f'config file not found: {config}')
        path, config = config, Config.fromfile(config)
        warn_unknown_keys(config, path)  # a misspelt key is never read
    else:
        config = copy.deepcopy(config)
    if cfg_options:
        config.merge_from_dict(cfg_options)
    if tta:
        use_tta(config)
    init_default_scope(config.get('default_scope', 'salbox'))
    model_cfg = config.model.copy()
    model_cfg.pop('init_cfg', None)  # the checkpoint replaces any pretrained initialisation
    _drop_pretrained(model_cfg)
    model = MODELS.build(model_cfg)
    if checkpoint is not None:
        if not checkpoint.startswith('pip://') and not osp.isfile(checkpoint):
            raise SalboxError(f'checkpoint not found: {checkpoint}')
        state = load_checked_state_dict(model, checkpoint, strict=strict)
        load_state_dict(model, state, strict=False)
    model.cfg = config
    return model.to(device).eval()


def _drop_pretrained(cfg) -> None:
    """Remove nested ``init_cfg`` (backbone ImageNet weights): the checkpoint has them."""
    if isinstance(cfg, dict):
        cfg.pop('init_cfg', None)
        for value in cfg.values():
            _drop_pretrained(value)
    elif isinstance(cfg, (list, tuple)):
        for value in cfg:
            _drop_pretrained(value)


def build_inference_pipeline(config: Config) -> Compose:
    """The test pipeline without ground-truth loading; ``PackSalInputs`` always keeps the
    original image (post-processors and cut-outs need it). A pipeline without a resize of its
    own gets ``LimitPixels`` after image loading, so the network runs on at most
    ``config.inference_max_pixels`` (default 1 MP) whatever the photo's size
    (``salbox/datasets/transforms/limit_pixels.py``)."""
    pipeline = config.test_dataloader.dataset.get('pipeline')
    if pipeline is None and 'datasets' in config.test_dataloader.dataset:
        pipeline = config.test_dataloader.dataset.datasets[0].pipeline
    if pipeline is None:
        raise SalboxError('the config has no test pipeline (test_dataloader.dataset.pipeline)')
    steps = _without_annotations(pipeline)
    if not _resizes(steps):
        from salbox.datasets.transforms.limit_pixels import DEFAULT_NETWORK_PIXELS
        limit = dict(type='LimitPixels',
                     max_pixels=config.get('inference_max_pixels', DEFAULT_NETWORK_PIXELS))
        loads = [i for i, step in enumerate(steps) if isinstance(step, dict)
                 and step['type'].startswith(('LoadImage', 'LoadSalImage'))]
        steps.insert(loads[0] + 1 if loads else 0, limit)
    return Compose(steps)


def _resizes(steps) -> bool:
    """Whether a pipeline (or a ``TestTimeAug`` branch of it) resizes to a fixed size."""
    for step in steps:
        if isinstance(step, (list, tuple)):
            if _resizes(step):
                return True
        elif step['type'] == 'TestTimeAug':
            if _resizes(step['transforms']):
                return True
        elif 'Resize' in step['type'] and step.get('scale') is not None:
            return True
    return False


def _without_annotations(steps):
    """Copy of a pipeline without annotation loading, ``PackSalInputs`` keeping the original
    image; ``TestTimeAug``'s nested transform lists are handled too."""
    kept = []
    for step in steps:
        if isinstance(step, (list, tuple)):  # a TestTimeAug branch
            branch = _without_annotations(step)
            if branch:
                kept.append(branch)
            continue
        if 'Annotation' in step['type']:
            continue
        step = copy.deepcopy(dict(step))
        if step['type'] == 'PackSalInputs':
            step['keep_ori_img'] = True
        if step['type'] == 'TestTimeAug':
            step['transforms'] = _without_annotations(step['transforms'])
        kept.append(step)
    return kept


def _results_for(image: ImageInput) -> dict:
    if isinstance(image, str):
        if not osp.lexists(image):
            raise SalboxError(f'image not found: {image}')
        # a broken link, a link loop or an unreadable file: decode_image says which
        return dict(img_path=image, dataset_name='inference')
    if not (isinstance(image, np.ndarray) and image.ndim == 3 and image.shape[2] == 3):
        raise SalboxError('an in-memory image must be an (H, W, 3) uint8 BGR array')
    return dict(img=image, ori_img=image, img_path='', ori_shape=image.shape[:2],
                img_shape=image.shape[:2], dataset_name='inference')


def inference_pipelines(model: torch.nn.Module) -> Tuple[Compose, Compose]:
    """The model's inference pipeline (from files) and its in-memory variant (no loading),
    built once per model and again only when ``model.cfg`` is replaced."""
    cached = getattr(model, '_salbox_inference_pipelines', None)
    if cached is None or cached[0] is not model.cfg:
        pipeline = build_inference_pipeline(model.cfg)
        in_memory = Compose([t for t in pipeline.transforms
                             if not type(t).__name__.startswith(('LoadImage', 'LoadSalImage'))])
        cached = (model.cfg, pipeline, in_memory)
        model._salbox_inference_pipelines = cached
    return cached[1], cached[2]


@torch.no_grad()
def inference_model(model: torch.nn.Module, images: Union[ImageInput, Sequence[ImageInput]]
                    ) -> Union[SalDataSample, List[SalDataSample]]:
    """Predict saliency for one image or a list; returns ``SalDataSample`` with
    ``pred_sal_map`` (1, H, W) in [0, 1] at each image's original size and ``ori_img``, the
    decoded image (uint8 RGB (3, H, W), EXIF orientation applied) the map is aligned with."""
    single = not isinstance(images, (list, tuple))
    images = [images] if single else list(images)
    pipeline, in_memory = inference_pipelines(model)
    outputs = []
    for image in images:
        results = _results_for(image)
        data = (in_memory if 'img' in results else pipeline)(results)
        del results  # the decoded BGR photo: ``data`` holds its RGB copy (3 bytes per pixel)
        batch = pseudo_collate([data])  # TestTimeAug views become lists, as SalTTAModel expects
        outputs.extend(model.test_step(batch))
    return outputs[0] if single else outputs
