"""The MAE train step with the decoder on a fraction of the masked patches (``model.decoder.decode_fraction``):
step time and FLOPs per fraction.

One model of the config, built once (seeded), runs every fraction: only ``decoder.decode_fraction``
changes between them, so the weights, the input batch and the optimizer are the same. One step is
``model.train_step`` (data preprocessor, forward, backward, optimizer step through the config's
optimizer wrapper, as ``tools/benchmark.py`` times a config). Its time is the median over
``windows`` timed windows of ``steps`` steps each, after ``warmup`` untimed steps per fraction;
the fractions take turns window by window, so a change of machine load hits all of them alike.

FLOPs are counted over one train step by torch's ``FlopCounterMode``: matrix products,
convolutions and attention, forward and backward, 2 FLOPs per multiply-add; elementwise ops,
norms, softmax, the loss and the optimizer are not counted. The CPU's attention kernel has no
formula in torch, so it gets the one torch gives the GPU kernels (:data:`CPU_ATTENTION_FLOPS`):
the forward's two products, and a backward that recomputes the scores (five). The decoder's
share is what the counter attributes to the ``MAEDecoder`` module, its forward and backward.
"""
import logging
import statistics
from dataclasses import dataclass
from typing import Callable, List, Sequence, Tuple

import torch
from mmengine.config import Config
from mmengine.logging import MMLogger
from mmengine.optim import build_optim_wrapper
from mmengine.registry import init_default_scope
from torch.utils.flop_counter import FlopCounterMode, sdpa_backward_flop_count, sdpa_flop_count

from mae_mm.registry import MODELS

from .batches import synthetic_batches, task_of
from .references import optim_wrapper_cfg
from .step import Refused, StepOptions, resolved, seconds_per_step

PAPER_FRACTIONS = (1.0, 0.5, 0.25)


def _cpu_attention(query_shape, key_shape, value_shape, *args, out_shape=None, **kwargs) -> int:
    return sdpa_flop_count(query_shape, key_shape, value_shape)


def _cpu_attention_backward(grad_out_shape, query_shape, key_shape, value_shape, *args, out_shape=None,
                            **kwargs) -> int:
    return sdpa_backward_flop_count(grad_out_shape, query_shape, key_shape, value_shape)


# FlopCounterMode's custom_mapping for the CPU's fused attention (torch counts only its GPU kernels)
CPU_ATTENTION_FLOPS = {
    torch.ops.aten._scaled_dot_product_flash_attention_for_cpu: _cpu_attention,
    torch.ops.aten._scaled_dot_product_flash_attention_for_cpu_backward: _cpu_attention_backward,
}


@dataclass(frozen=True)
class FractionFigures:
    """One decode fraction's figures (per train step of ``batch`` images)."""
    fraction: float
    decoded_masked: int  # M, the masked patches decoded per sample
    decoder_tokens: int  # 1 + K + M: the cls token, the K visible patches and the M decoded masked ones
    window_ms: Tuple[float, ...]  # ms per step in each timed window
    flops: int  # the whole train step, forward + backward
    decoder_flops: int  # of which the decoder's

    @property
    def step_ms(self) -> float:
        """The median of the windows' ms per step."""
        return statistics.median(self.window_ms)

    @property
    def decoder_share(self) -> float:
        return self.decoder_flops / self.flops


def step_flops(model, data: dict, optim_wrapper) -> Tuple[int, int]:
    """The FLOPs of one ``model.train_step`` (it runs): the whole step's and its decoder's."""
    with FlopCounterMode(display=False, custom_mapping=CPU_ATTENTION_FLOPS) as counter:
        model.train_step(data, optim_wrapper=optim_wrapper)
    # the counter names a module by its class, or its path from the outermost module it saw called
    decoder = [counts for name, counts in counter.get_flop_counts().items()
               if name == type(model.decoder).__name__ or name.endswith('.decoder')]
    return counter.get_total_flops(), sum(decoder[0].values()) if decoder else 0


def time_decode_fractions(config: str, fractions: Sequence[float] = PAPER_FRACTIONS,
                          options: StepOptions = StepOptions(), on_ready: Callable[[str], None] = lambda line: None
                          ) -> Tuple[StepOptions, List[FractionFigures]]:
    """Times and counts ``config``'s MAE train step at each decode fraction.

    Args:
        config: A pretraining config file.
        fractions: ``decode_fraction`` values, each in (0, 1].
        options: ``batch`` (None: the config's), ``steps``, ``windows``, ``warmup``, ``device``, ``amp``
            (see :class:`~mae_mm.benchmark.step.StepOptions`); ``compile``, ``versus`` and ``data='jpeg'``
            are refused.
        on_ready: Called with a line describing the model and optimizer once they are built.

    Returns:
        The options as run (batch and amp resolved), and each fraction's figures, in ``fractions``' order.

    Raises:
        Refused: Not a pretraining config, a fraction outside (0, 1], or an option this benchmark does not take.
    """
    MMLogger.get_instance('benchmark', log_level=logging.WARNING)
    cfg = Config.fromfile(config)
    init_default_scope(cfg.get('default_scope', 'mae_mm'))
    if task_of(cfg) != 'pretrain':
        raise Refused(f'--decode-fractions: {cfg.filename} is not a pretraining (MaskedAutoencoder) config')
    bad = [f for f in fractions if not 0.0 < f <= 1.0]
    if bad or not fractions:
        raise Refused(f'--decode-fractions: each decode_fraction must lie in (0, 1], got {list(fractions)}')
    if options.compile or options.versus or options.data != 'synthetic':
        raise Refused('--decode-fractions times our eager step on synthetic batches: '
                      'leave out --compile, --vs-mmpretrain/--vs-mmseg and --data jpeg')
    options = resolved(cfg, options)
    torch.manual_seed(0)
    model = MODELS.build(cfg.model).to(options.device).train()
    wrapper = build_optim_wrapper(model, optim_wrapper_cfg(cfg, options.amp))
    data = next(synthetic_batches(cfg, options.batch, options.device))
    on_ready(f'{type(model).__name__}: {type(wrapper).__name__}, {type(wrapper.optimizer).__name__}, '
             f'batch {options.batch}, amp {options.amp}')

    def step() -> None:
        model.train_step(data, optim_wrapper=wrapper)

    for fraction in fractions:
        model.decoder.decode_fraction = fraction
        for _ in range(options.warmup):
            step()
    window_ms = {fraction: [] for fraction in fractions}
    for _ in range(options.windows):  # the fractions take turns
        for fraction in fractions:
            model.decoder.decode_fraction = fraction
            window_ms[fraction].append(1e3 * seconds_per_step(options.device, options.steps, step))

    visible = model.encoder.num_visible
    figures = []
    for fraction in fractions:
        model.decoder.decode_fraction = fraction
        decoded = model.decoder.num_decoded(model.encoder.num_patches - visible)
        flops, decoder_flops = step_flops(model, data, wrapper)
        figures.append(FractionFigures(fraction, decoded, 1 + visible + decoded, tuple(window_ms[fraction]),
                                       flops, decoder_flops))
    return options, figures
