from .inference import inference_model, init_model
from .tta import use_tta

__all__ = ['init_model', 'inference_model', 'use_tta']
