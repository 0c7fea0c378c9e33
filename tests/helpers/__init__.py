"""Code the tests share, imported as ``helpers.<module>``: pytest's default (prepend) import mode
puts ``tests/`` on the import path for the test modules.

``make_vit_goldens`` also runs as a script (``python tests/helpers/make_vit_goldens.py``) to record
the goldens; ``mae_mm_faults`` is imported by the runs the reliability tests launch, through their
configs' ``custom_imports`` with ``tests/helpers`` on ``PYTHONPATH`` (``tests/reliability_utils.py``).
"""
