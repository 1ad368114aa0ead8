from .visualization_hook import SalVisualizationHook

__all__ = ['SalVisualizationHook']
