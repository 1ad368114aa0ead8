from .atomic_checkpoint_hook import AtomicCheckpointHook
from .visualization_hook import SalVisualizationHook

__all__ = ['SalVisualizationHook', 'AtomicCheckpointHook']
