"""Weighted k-nearest-neighbour classification of features, as DINO's evaluation does it."""
from typing import Optional

import torch
import torch.nn.functional as F


def knn_predict(train_feats: torch.Tensor, train_labels: torch.Tensor, test_feats: torch.Tensor,
                k: int = 20, temperature: float = 0.07, num_classes: Optional[int] = None) -> torch.Tensor:
    """Predicts each test feature's class by a weighted vote of its k nearest train features.

    Similarity is the cosine of the two features; each of the ``k`` most similar train features
    votes for its class with weight ``exp(similarity / temperature)``, and the class with the
    largest sum wins (on a tie, the lowest class index).

    Args:
        train_feats: (N, D) features of the labelled reference set.
        train_labels: (N,) integer class indices.
        test_feats: (M, D) features to classify.
        k: Neighbours per test feature (at most N are used).
        temperature: Softness of the vote.
        num_classes: Number of classes (default: the largest train label + 1).

    Returns:
        (M,) predicted class indices.
    """
    train_labels = train_labels.long()
    num_classes = int(train_labels.max()) + 1 if num_classes is None else num_classes
    sim = F.normalize(test_feats.float(), dim=1) @ F.normalize(train_feats.float(), dim=1).T  # (M, N)
    top_sim, top_idx = sim.topk(min(k, sim.shape[1]), dim=1)  # (M, k)
    votes = torch.zeros(sim.shape[0], num_classes, dtype=sim.dtype, device=sim.device)
    votes.scatter_add_(1, train_labels[top_idx], (top_sim / temperature).exp())  # (M, C)
    return votes.argmax(dim=1)


def knn_top1(train_feats: torch.Tensor, train_labels: torch.Tensor, test_feats: torch.Tensor,
             test_labels: torch.Tensor, k: int = 20, temperature: float = 0.07) -> float:
    """Top-1 accuracy (%) of :func:`knn_predict` on ``test_feats`` (M, D) with labels (M,)."""
    num_classes = int(max(train_labels.max(), test_labels.max())) + 1
    pred = knn_predict(train_feats, train_labels, test_feats, k, temperature, num_classes)
    return 100.0 * (pred == test_labels.long().to(pred.device)).double().mean().item()
