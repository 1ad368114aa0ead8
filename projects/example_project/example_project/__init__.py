"""An example salbox plugin: a head, a post-processor and a refiner registered from outside
salbox.

Importing the package runs the ``@MODELS.register_module()`` decorators; a config does that
with ``custom_imports = dict(imports=['example_project'])``.
"""
from .heads import TopDownHead
from .postprocessors import LargestComponent
from .refiners import ResidualRefiner

__all__ = ['TopDownHead', 'LargestComponent', 'ResidualRefiner']
