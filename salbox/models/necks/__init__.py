from .r3net_neck import R3NetNeck

__all__ = ['R3NetNeck']
from .contextual_weighting import ContextualWeightingFusion, ContextualWeightingModule  # noqa: E402

__all__ += ['ContextualWeightingModule', 'ContextualWeightingFusion']
from .arn_neck import ARNNeck  # noqa: E402

__all__ += ['ARNNeck']
