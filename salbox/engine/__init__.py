"""Engine pieces registered for the Runner: hooks, loops and crash-safe file writes."""
from .hooks import AtomicCheckpointHook, SalVisualizationHook  # noqa: F401
from .resume_maps_loop import ResumeMapsTestLoop  # noqa: F401
from .optim import AutocastOptimWrapper, SalOptimWrapperConstructor  # noqa: F401
