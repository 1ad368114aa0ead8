"""Visualisation: curve plotting (PR and F-measure-vs-threshold)."""
from .curves import plot_curves, plot_dataset_curves

__all__ = ['plot_curves', 'plot_dataset_curves']
