"""Engine pieces registered for the Runner: hooks (and optimiser helpers when needed)."""
from .hooks import SalVisualizationHook  # noqa: F401
