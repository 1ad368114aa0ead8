"""The first stage a promoter owns: a frozen salbox detector whose maps are the priors.

LDPS promotes the maps of another detector (Sec. 5.3: PiCANet's). Saved maps come from a
folder (``PriorMapDataset`` with ``data_prefix.prior_path``); a salbox detector instead is a
first stage of the promoter model, as ``RefinedDetector`` holds ``first_stage``:
``model.first_stage=dict(config=PATH, checkpoint=PATH or None, cfg_options=None)``. The
detector is built from its config's ``model`` (its own ``init_cfg``s are not run), its weights
come from ``checkpoint`` in ``init_weights`` and are then saved inside the promoter's
checkpoints, it always stays frozen and in eval mode, and it runs on the promoter's input
batch (same data preprocessing required): the prior is the sigmoid of its final logits at
the input size (its post-processors are not run; chosen).
"""
import os.path as osp
from typing import Optional

import torch

from salbox.registry import MODELS
from salbox.utils.errors import SalboxError


def build_first_stage(config: str, checkpoint: Optional[str] = None,
                      cfg_options: Optional[dict] = None) -> torch.nn.Module:
    """The frozen detector of ``config`` (weights not loaded yet, see :func:`load_weights`)."""
    from mmengine.config import Config
    if not osp.isfile(config):
        raise SalboxError(f'model.first_stage.config not found: {config}')
    cfg = Config.fromfile(config)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    model = MODELS.build(cfg.model)
    model.requires_grad_(False)
    return model.eval()


def load_weights(model: torch.nn.Module, checkpoint: Optional[str]) -> None:
    """Load ``checkpoint`` (salbox's checked, weights-only loader) into the first stage;
    its own ``init_cfg``s are marked done either way."""
    from mmengine.runner import load_state_dict

    from salbox.utils.checkpoint import load_checkpoint_file
    model.is_init = True
    if checkpoint is None:
        return
    if not osp.isfile(checkpoint):
        raise FileNotFoundError(f'model.first_stage.checkpoint not found: {checkpoint}')
    loaded = load_checkpoint_file(checkpoint)
    state = loaded.get('state_dict', loaded) if isinstance(loaded, dict) else loaded
    load_state_dict(model, state, strict=True)


def preprocessing(pre) -> tuple:
    """What a data preprocessor does to an image, to compare two of them."""
    normalize = bool(getattr(pre, 'normalize', False))
    return (type(pre).__name__, normalize,
            tuple(pre.mean.flatten().tolist()) if normalize else None,
            tuple(pre.std.flatten().tolist()) if normalize else None,
            getattr(pre, 'bgr_to_rgb', None), getattr(pre, 'scale_by_max', None))
