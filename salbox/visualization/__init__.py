"""Visualisation: curve plotting (PR and F-measure-vs-threshold) and the sample visualizer.

``SalLocalVisualizer`` needs mmengine (and so torch): it is imported on first access (module
``__getattr__``, PEP 562), so plotting curves (``tools/eval_maps.py``) imports neither. The
registry imports ``salbox.visualization.visualizer`` itself (``locations`` in
``salbox/registry.py``).
"""
from salbox.utils.lazy_exports import lazy_exports
from .curves import plot_curves, plot_dataset_curves

__all__ = ['plot_curves', 'plot_dataset_curves', 'SalLocalVisualizer']

__getattr__, __dir__ = lazy_exports(__name__, {'SalLocalVisualizer': '.visualizer'})
