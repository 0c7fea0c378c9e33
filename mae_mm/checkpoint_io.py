"""Moved to :mod:`mae_mm.checkpoint.file_io` (the checkpoint code is one subpackage); this path keeps working."""
from mae_mm._moved import alias_module

alias_module(__name__, 'mae_mm.checkpoint.file_io')
