from .r3net_head import R3NetHead

__all__ = ['R3NetHead']
from .rln_head import RLNHead  # noqa: E402

__all__ += ['RLNHead']
from .arn_head import ARNHead  # noqa: E402

__all__ += ['ARNHead']
from .u2net_head import U2NetHead  # noqa: E402

__all__ += ['U2NetHead']
