"""Execute: a plan's points run locally one after another (:mod:`.launch_local`) or as Slurm jobs
(:mod:`.launch_slurm`), whose state is polled (:mod:`.poll`). Every point runs through the
project's tools, its checkpoint on their command lines (:mod:`.tools`); :mod:`.prepare` makes the
work dir ready first (``--replace``, checkpoint conversion).
"""
