"""Building, online fitting, fast inference copies and checkpoints of :class:`MIRelationNet`.

The label-free fit (Chen et al., AAAI 2020, Sec. 5.3) is ordinary Runner training: the
configs' ``optim_wrapper``/``param_scheduler``/``train_cfg`` hold the official ``MIOperator``
recipe, and ``tools/promote.py`` runs it on a user's folders (``salbox/apis/promoter_fit.py``).

The per-image online mode (Sec. 5.4, the comparison with DenseCRF: "we also initialize our model
for each image ... learning rate and training iteration steps is set to 0.2 and 10") is
:func:`promote_online`. The released code has no online mode; choices (documented in
``configs/mi_promoter/README.md``): the backbone is frozen (its features computed once), the
ASPP, transformers and discriminator are re-initialised for every image (fixed seed) and trained
with SGD at lr 0.2, momentum 0.9, no weight decay; BatchNorm uses the image's own statistics at
the final prediction (10 steps cannot estimate running statistics).
"""
import copy
import io
import warnings
from typing import Optional, Tuple

import torch
from mmcv.cnn import fuse_conv_bn

from salbox.engine.atomic_io import atomic_write_bytes
from salbox.registry import MODELS
from salbox.utils.checkpoint import MODEL_CFG_KEY, load_checkpoint_file, stamp_checkpoint
from salbox.utils.checkpoint_match import check_state_dict
from salbox.utils.safe_config import (UnsafeConfigError, check_registered_types,
                                      literal_assignment, plain_data)
from salbox.utils.cpu_features import bf16_units
from salbox.utils.errors import SalboxError
from .mi_relation_net import MIRelationNet

# The LDPS model as the official code builds it (MobileNetV2 taps 0/3/13/17, ImageNet mean/std).
DEFAULT_PROMOTER = dict(type='MIRelationNet', backbone=dict(type='MobileNetV2'))


def build_promoter(cfg: Optional[dict] = None, init_weights: bool = False) -> MIRelationNet:
    """Build the promoter (default: the LDPS MobileNetV2 model); ``init_weights`` runs the
    ``init_cfg`` (e.g. ImageNet weights for the backbone). A ``first_stage`` (the prior source
    of Runner training, ``salbox/models/promoters/first_stage.py``) is left out: here the
    priors are given."""
    cfg = copy.deepcopy(dict(cfg or DEFAULT_PROMOTER))
    cfg.pop('first_stage', None)
    model = MODELS.build(cfg)
    if init_weights and 'init_cfg' in repr(cfg):  # mmengine logs every weight otherwise
        model.init_weights()
    return model


def _reset_head(model: MIRelationNet, seed: int) -> None:
    torch.manual_seed(seed)
    for module in (model.aspp, model.certain_transformer, model.all_transformer,
                   model.discriminator):
        for m in module.modules():
            if hasattr(m, 'reset_parameters') and m is not module:
                m.reset_parameters()


def promote_online(template: MIRelationNet, image: torch.Tensor, prior: torch.Tensor,
                   iters: int = 10, lr: float = 0.2, momentum: float = 0.9,
                   seed: int = 0) -> Tuple[torch.Tensor, bool]:
    """Fit a fresh relation head to one image and promote its prior (Sec. 5.4 online mode).

    ``template`` provides the backbone (frozen) and the architecture; it is not modified.
    Returns ((1, H, W) map, has_anchor); an image without an anchor keeps its prior."""
    model = copy.deepcopy(template)
    _reset_head(model, seed)
    device = model.aspp.fuse.conv.weight.device
    prior_b = prior[None].to(device, torch.float32)
    inputs = model.normalise_rgb(image)
    size = model.network_size(inputs.shape[-2:])
    net_inputs, net_prior = model._resize(inputs, size), model._resize(prior_b, size)
    if not bool(net_prior.max() >= model.theta_fg):
        return prior.clone(), False
    model.backbone.eval()
    with torch.no_grad():
        taps = model.backbone(net_inputs)
    params = [p for n, p in model.named_parameters() if not n.startswith('backbone.')]
    optimizer = torch.optim.SGD(params, lr=lr, momentum=momentum)
    model.train()
    model.backbone.eval()
    for _ in range(iters):
        loss = model.loss_from_tensors(net_inputs, net_prior,
                                       features=model.head_features(taps))['loss_mi']
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    with torch.no_grad():  # BN on this image's own statistics (train mode), see module doc
        model.random_pair_order = False
        out, has = model.promote_tensors(net_inputs, prior_b, features=model.head_features(taps))
    return out[0], bool(has[0])


PRECISIONS = ('fp32', 'bf16')


def inference_copy(model: MIRelationNet, precision: str = 'fp32') -> MIRelationNet:
    """An eval-mode copy for fast promotion.

    With ``test_bn_stats='running'`` every BatchNorm is folded into the conv before it
    (``mmcv.cnn.fuse_conv_bn``; BN in eval mode is a per-channel affine map): the same maps up
    to float rounding. With ``'image'`` the statistics change per image, so nothing is folded.

    ``precision='bf16'`` also casts the network to bfloat16 with channels-last weights, which
    oneDNN runs on the CPU's bfloat16 units (AVX512-BF16 / AMX) several times faster than
    float32. Only the network is bfloat16: the anchor (a weighted mean over pixels), the
    sigmoid, the confidence merge and the min-max run in float32. The maps differ from float32
    by bfloat16 rounding of the relation scores (measured in ``benchmarks/bench_mi_promoter.py``
    and ``configs/mi_promoter/README.md``). On a CPU without bfloat16 units (``bf16_units``)
    it warns: there bfloat16 is emulated. ``model`` is not modified; keep it for further
    fitting or the online mode."""
    if precision not in PRECISIONS:
        raise ValueError(f'inference_copy: precision must be one of {PRECISIONS}, '
                         f'got {precision!r}')
    if precision == 'bf16' and model.aspp.fuse.conv.weight.device.type == 'cpu' \
            and bf16_units() == []:
        warnings.warn('this CPU reports no bfloat16 units (avx512_bf16 / amx_bf16), so '
                      'bfloat16 promotion is emulated and likely slower than fp32', stacklevel=2)
    copy_ = copy.deepcopy(model).eval()
    if copy_.test_bn_stats == 'running':
        fuse_conv_bn(copy_)
    if precision == 'bf16':  # the network only; the data preprocessor's mean/std stay float32
        for part in (copy_.backbone, copy_.aspp, copy_.certain_transformer,
                     copy_.all_transformer, copy_.discriminator):
            part.to(torch.bfloat16).to(memory_format=torch.channels_last)
    return copy_


# ------------------------------------------------------------------------------ checkpoints
def save_promoter(model: MIRelationNet, path: str, model_cfg: dict, meta: Optional[dict] = None
                  ) -> str:
    """A plain checkpoint (``state_dict`` + ``meta.promoter_cfg``) that loads with
    ``weights_only=True`` and rebuilds the model without a config file."""
    meta = dict(meta or {})
    meta['promoter_cfg'] = plain_data(dict(model_cfg))
    checkpoint = stamp_checkpoint(dict(
        state_dict={k: v.detach().cpu() for k, v in model.state_dict().items()}, meta=meta))
    buffer = io.BytesIO()
    torch.save(checkpoint, buffer)
    atomic_write_bytes(path, buffer.getvalue())
    return path


def _without_pretrained(cfg):
    """Drop nested ``init_cfg`` (ImageNet weights): the checkpoint holds every weight."""
    if isinstance(cfg, dict):
        return {k: _without_pretrained(v) for k, v in cfg.items() if k != 'init_cfg'}
    if isinstance(cfg, (list, tuple)):
        return type(cfg)(_without_pretrained(v) for v in cfg)
    return cfg


def _strip_prefix(state_dict: dict) -> dict:
    """Accept a bare promoter state dict or one saved inside a runner (``model.*`` keys are
    already bare for ``MIRelationNet`` trained by tools/train.py)."""
    return {k[len('module.'):] if k.startswith('module.') else k: v for k, v in state_dict.items()}


def stored_model_cfg(path: str, meta) -> Optional[dict]:
    """The model config a checkpoint records, read as data, never executed: ``promoter_cfg``
    (tools/promote.py), ``model_cfg`` (salbox's checkpoint hook) or the ``model = dict(...)``
    of mmengine's config text ``cfg`` (parsed by ``literal_assignment``; the rest of the text
    is ignored). Every ``type`` must be a registered name (``check_registered_types``)."""
    if not isinstance(meta, dict):
        return None
    cfg = meta.get('promoter_cfg') or meta.get(MODEL_CFG_KEY)
    if cfg is None and isinstance(meta.get('cfg'), str):
        cfg = literal_assignment(meta['cfg'], 'model', source=f"{path} (meta['cfg'])")
    if cfg is None:
        return None
    if not isinstance(cfg, dict):
        raise UnsafeConfigError(f'{path}: the stored model config is a {type(cfg).__name__}, '
                                'not a dict')
    check_registered_types(cfg, path)
    return cfg


def load_promoter(path: str, model_cfg: Optional[dict] = None) -> MIRelationNet:
    """Build the promoter from ``model_cfg``, the model config the checkpoint records (as data,
    :func:`stored_model_cfg`) or the default LDPS model, and load its weights: every key must
    be present and of the same shape (``salbox.utils.checkpoint_match``); errors name the
    file."""
    try:
        ckpt = load_checkpoint_file(path)
    except FileNotFoundError:
        raise SalboxError(f'MI promoter checkpoint not found: {path}') from None
    meta = ckpt.get('meta', {}) if isinstance(ckpt, dict) else {}
    cfg = model_cfg or stored_model_cfg(path, meta)
    model = build_promoter(_without_pretrained(cfg or DEFAULT_PROMOTER))
    state = ckpt.get('state_dict', ckpt) if isinstance(ckpt, dict) else ckpt
    if not isinstance(state, dict):
        raise SalboxError(f'{path} holds no state dict (a {type(state).__name__})')
    state = {k: v for k, v in _strip_prefix(state).items()
             if not k.startswith('first_stage.')}  # the prior source, not needed here
    check_state_dict(model, state, path, what='the promoter model')
    model.load_state_dict(state, strict=False)
    return model.eval()
