"""Plan: a suite file, a checkpoint and the sweeps/seeds become the run's manifest, a graph of
stages and their points (:mod:`.build`), checked before anything runs (:mod:`.checks`).

Modules: :mod:`.suite` (suite files), :mod:`.points` (the sweep grid), :mod:`.checkpoint` (the
checkpoint's identity and kind), :mod:`.manifest` (the manifest and the run's folders),
:mod:`.graph` (stages, their needs, what runs), :mod:`.checks` (refusals), :mod:`.build` (the plan).
"""
