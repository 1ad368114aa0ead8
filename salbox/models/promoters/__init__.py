"""The LDPS mutual-information promoter: a label-free relation model that promotes any
detector's saliency maps (model, online fit, checkpoints and the ``MIPromoter`` post-processor)."""
from .mi_relation_net import MIRelationNet
from .relation_modules import (FeatureTransformer, PairDiscriminator, RelationASPP,
                               fuse_taps, project_fused_taps)
from .relation_ops import (confidence, confidence_merge, foreground_anchor, minmax_normalise,
                           pair_targets)

__all__ = [
    'MIRelationNet', 'FeatureTransformer', 'PairDiscriminator', 'RelationASPP', 'fuse_taps',
    'project_fused_taps',
    'confidence', 'confidence_merge', 'foreground_anchor', 'minmax_normalise', 'pair_targets'
]
from .fitting import (build_promoter, inference_copy, load_promoter,  # noqa: E402
                      promote_online, save_promoter)
from .mi_promoter import MIPromoter  # noqa: E402

__all__ += ['build_promoter', 'inference_copy', 'load_promoter', 'promote_online',
            'save_promoter', 'MIPromoter']
