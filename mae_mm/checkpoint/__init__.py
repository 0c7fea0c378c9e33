"""Checkpoint files and conversions, one module per role.

- :mod:`.file_io`: reading and writing ``.pth`` and ``.safetensors`` state dicts;
- :mod:`.convert`: the official MAE, mmpretrain and timm key layouts to ours and back;
- :mod:`.convert_hf`, :mod:`.hf_config`, :mod:`.hf_files`: Hugging Face's ViTMAE (keys, the
  ``config.json`` it needs, the folder ``from_pretrained`` reads);
- :mod:`.weights_only`: the types torch's ``weights_only`` loader must accept to read mmengine's
  own checkpoints (``load_from``, ``--resume``), installed by :func:`mae_mm.runtime.setup_runtime`.

The atomic writes stay in :mod:`mae_mm.engine.atomic_backend`: they are a storage backend the
Runner's hooks write through (``default_hooks.checkpoint.backend_args``), registered like the
other Runner components. Importing this package loads none of its modules.
"""
