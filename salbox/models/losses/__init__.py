from .deep_supervision_bce import DeepSupervisionBCELoss

__all__ = ['DeepSupervisionBCELoss']
