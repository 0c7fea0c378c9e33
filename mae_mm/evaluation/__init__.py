from .reconstruction_metric import MaskedReconstructionMetric

__all__ = ['MaskedReconstructionMetric']
