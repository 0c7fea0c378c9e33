"""The grid of one stage's runs: every combination of ``--sweep`` values, times ``--seeds``.

A point is ``{'name': str, 'overrides': {key: value}, 'seed': int or None}``; its name is its work
dir under the stage's (``''`` for the one point of a stage without sweeps or seeds).

A sweep is ``KEY=V1,V2`` (every training stage of the run) or ``STAGE:KEY=V1,V2`` (that stage
only, e.g. ``partial:model.backbone.trainable_blocks=1,4``); :func:`parse_sweeps` reads both.
"""
import ast
import itertools
import re
from typing import Dict, List, Optional

SEED_KEY = 'randomness.seed'


def parse_value(text: str):
    """'1e-4' -> 0.0001, 'True' -> True, '(1, 2)' -> (1, 2); anything else stays a string."""
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def parse_sweeps(specs: List[str], flag: str = '--sweep') -> Dict[str, list]:
    """``['optim_wrapper.optimizer.lr=1e-4,2e-4']`` -> ``{'optim_wrapper.optimizer.lr': [1e-4, 2e-4]}``;
    a ``STAGE:`` prefix stays part of the key (:func:`sweeps_of_stage` splits it)."""
    sweeps = {}
    for spec in specs or ():
        key, sep, values = spec.partition('=')
        if not sep or not key or not values:
            raise ValueError(f'{flag} {spec!r}: expected KEY=V1[,V2...]')
        if key.rpartition(':')[2] == SEED_KEY:
            raise ValueError(f'{flag} {spec!r}: use --seeds N for seeds')
        if key in sweeps:
            raise ValueError(f'{flag} {spec!r}: {key} is swept twice')
        sweeps[key] = [parse_value(v) for v in values.split(',')]
    return sweeps


def sweeps_of_stage(sweeps: Dict[str, list], stage: str) -> Dict[str, list]:
    """The keys of ``sweeps`` that apply to ``stage``: unprefixed ones and ``stage:`` ones (prefix dropped)."""
    out = {}
    for key, values in sweeps.items():
        scope, _, bare = key.rpartition(':')
        if not scope or scope == stage:
            out[bare] = values
    return out


def sweep_scopes(sweeps: Dict[str, list]) -> List[str]:
    """The stage names that ``STAGE:KEY`` sweeps name."""
    return sorted({k.rpartition(':')[0] for k in sweeps if ':' in k})


def _short(key: str, value) -> str:
    text = f'{key.rsplit(".", 1)[-1]}={value}'
    return re.sub(r'[^A-Za-z0-9=._-]+', '-', text)


def grid(sweeps: Dict[str, list], seeds: Optional[int]) -> List[Dict]:
    """Every point of the sweep grid, seeds ``0 .. seeds - 1`` innermost (``None``: the config's seed)."""
    keys = list(sweeps)
    seed_values = list(range(seeds)) if seeds else [None]
    points = []
    for values in itertools.product(*(sweeps[k] for k in keys)):
        overrides = dict(zip(keys, values))
        for seed in seed_values:
            parts = [_short(k, v) for k, v in overrides.items()] + ([f'seed={seed}'] if seed is not None else [])
            points.append(dict(name='_'.join(parts), overrides=overrides, seed=seed))
    return points


def missing_keys(cfg: dict, keys) -> List[str]:
    """The dotted ``keys`` that the (plain-dict) config ``cfg`` does not have."""
    missing = []
    for key in keys:
        node = cfg
        for part in key.split('.'):
            if isinstance(node, dict) and part in node:
                node = node[part]
            elif isinstance(node, (list, tuple)) and part.isdigit() and int(part) < len(node):
                node = node[int(part)]
            else:
                missing.append(key)
                break
    return missing
