"""``tools/gpu_check.py``: does the whole stack work on one GPU, and how fast is it.

- :mod:`.rows`: the rows in their order, their caps; each row (:mod:`.cuda_ops`, :mod:`.demo_tasks`,
  :mod:`.speed`) yields its parts as records of figures, taken from the benchmark library's data;
- :mod:`.worker`: the isolated process that runs rows on request, and the parent's handle on it;
- :mod:`.parent`: the budget and caps, the worker's life (killed at a cap, replaced after a failure);
- :mod:`.report`: each row's state and ``gpu_check.json`` / ``gpu_check.md``.

Only the worker imports torch: the parent stays light, so it keeps time while a worker imports.
"""
