from .reconstruction_metric import ReconstructionLossMetric

__all__ = ['ReconstructionLossMetric']
