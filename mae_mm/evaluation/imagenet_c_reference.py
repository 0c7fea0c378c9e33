"""ImageNet-C's corruptions and AlexNet's errors on them, the normaliser of the corruption error.

Hendrycks & Dietterich, "Benchmarking Neural Network Robustness to Common Corruptions and
Perturbations", ICLR 2019: 15 benchmark corruptions in four families (noise, blur, weather,
digital), each at severities 1-5, and 4 extra corruptions released for validation (reported apart,
never in the mCE). The corruption error of a classifier f on corruption c is
``CE_c = sum_s E_{s,c}(f) / sum_s E_{s,c}(AlexNet)`` and the mCE is the mean of ``CE_c`` over the
15 (Sec. 3 of the paper).

:data:`ALEXNET_TOP1_ERROR` is AlexNet's top-1 error per corruption and severity as released with
ImageNet-C's evaluation code (cited, not measured here; the same table is in timm's utilities as
``imagenetc_alexnet_error_rates_list``). Their means over the five severities are the normalisers
quoted with the benchmark (e.g. Gaussian noise 0.886428, brightness 0.564592). No AlexNet table
is published with the benchmark for the 4 extra corruptions: they are reported as plain errors.
"""

FAMILIES = {
    'noise': ('gaussian_noise', 'shot_noise', 'impulse_noise'),
    'blur': ('defocus_blur', 'glass_blur', 'motion_blur', 'zoom_blur'),
    'weather': ('snow', 'frost', 'fog', 'brightness'),
    'digital': ('contrast', 'elastic_transform', 'pixelate', 'jpeg_compression'),
    'extra': ('speckle_noise', 'gaussian_blur', 'spatter', 'saturate'),
}
BENCHMARK_CORRUPTIONS = tuple(c for family in ('noise', 'blur', 'weather', 'digital') for c in FAMILIES[family])
EXTRA_CORRUPTIONS = FAMILIES['extra']
SEVERITIES = (1, 2, 3, 4, 5)

ALEXNET_TOP1_ERROR = {  # corruption -> error at severities 1..5 (fractions)
    'gaussian_noise': (0.69528, 0.82542, 0.93554, 0.98138, 0.99452),
    'shot_noise': (0.71224, 0.85108, 0.93574, 0.98182, 0.99146),
    'impulse_noise': (0.78374, 0.89808, 0.9487, 0.9872, 0.99548),
    'defocus_blur': (0.65624, 0.73202, 0.85036, 0.91364, 0.94714),
    'glass_blur': (0.64308, 0.75054, 0.88806, 0.91622, 0.93344),
    'motion_blur': (0.5843, 0.70048, 0.82108, 0.8975, 0.92638),
    'zoom_blur': (0.70008, 0.76992, 0.80784, 0.84198, 0.87198),
    'snow': (0.71726, 0.88392, 0.86468, 0.9187, 0.94952),
    'frost': (0.6139, 0.79734, 0.8879, 0.89942, 0.9343),
    'fog': (0.67474, 0.7605, 0.84378, 0.8726, 0.945),
    'brightness': (0.4514, 0.48502, 0.54048, 0.62166, 0.7244),
    'contrast': (0.64548, 0.7615, 0.88874, 0.9776, 0.9927),
    'elastic_transform': (0.52596, 0.70116, 0.55686, 0.64076, 0.80554),
    'pixelate': (0.52218, 0.5462, 0.73728, 0.87092, 0.91262),
    'jpeg_compression': (0.51002, 0.54718, 0.57294, 0.65458, 0.74778),
}


def family_of(corruption: str) -> str:
    """The family folder ImageNet-C's archives put ``corruption`` in (``noise``, ..., ``extra``)."""
    for family, members in FAMILIES.items():
        if corruption in members:
            return family
    raise KeyError(corruption)
