from .atomic_checkpoint_hook import AtomicCheckpointHook
from .visualization_hook import SalVisualizationHook, make_panel

__all__ = ['SalVisualizationHook', 'make_panel', 'AtomicCheckpointHook']
