"""Python side of salbox's csrc operators: autograd Functions and pure-PyTorch references."""
from .extension import extension_available
from .local_propagation import (PROPAGATION_MODES, LocalPropagationFunction, local_propagation,
                                local_propagation_reference)

__all__ = [
    'PROPAGATION_MODES', 'LocalPropagationFunction', 'extension_available',
    'local_propagation', 'local_propagation_reference'
]
