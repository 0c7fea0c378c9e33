from .knn import knn_predict, knn_top1
from .reconstruction_metric import MaskedReconstructionMetric

__all__ = ['MaskedReconstructionMetric', 'knn_predict', 'knn_top1']
