"""Moved to :mod:`mae_mm.launch.cpu_distributed` (launch-time preparation is not a Runner component)."""
from mae_mm._moved import alias_module

alias_module(__name__, 'mae_mm.launch.cpu_distributed')
