"""Visualisation: curve plotting (PR and F-measure-vs-threshold) and the sample visualizer.

``SalLocalVisualizer`` needs mmengine (and so torch): it is imported on first access (module
``__getattr__``, PEP 562), so plotting curves (``tools/eval_maps.py``) imports neither. The
registry imports ``salbox.visualization.visualizer`` itself (``locations`` in
``salbox/registry.py``).
"""
import importlib

from .curves import plot_curves, plot_dataset_curves

__all__ = ['plot_curves', 'plot_dataset_curves', 'SalLocalVisualizer']


def __getattr__(name):
    if name == 'SalLocalVisualizer':
        value = importlib.import_module('.visualizer', __name__).SalLocalVisualizer
        globals()[name] = value
        return value
    raise AttributeError(f'module {__name__!r} has no attribute {name!r}')


def __dir__():
    return sorted(set(globals()) | set(__all__))
