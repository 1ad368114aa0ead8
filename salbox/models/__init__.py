"""Models: importing this package registers every backbone, neck, head, refiner,
post-processor, detector, loss and the data preprocessor in ``salbox.registry.MODELS``."""
from . import backbones, detectors, heads, losses, necks, postprocessors, refiners  # noqa: F401
from .data_preprocessor import SalDataPreProcessor  # noqa: F401
from . import promoters  # noqa: F401,E402
