"""Visualisation: curve plotting (PR and F-measure-vs-threshold) and the sample visualizer."""
from .curves import plot_curves, plot_dataset_curves
from .visualizer import SalLocalVisualizer

__all__ = ['plot_curves', 'plot_dataset_curves', 'SalLocalVisualizer']
