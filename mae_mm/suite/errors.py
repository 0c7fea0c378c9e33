"""Why a suite run is refused: every refusal is raised before anything is submitted, trained or
discarded, and ``tools/transfer.py`` turns it into exit status 2 with its message."""


class RunRefused(RuntimeError):
    """A suite run that must not start (or continue), with the reason."""


class SuiteError(ValueError):
    """A suite file that cannot be run, with the file and key named."""


class NotAPretrainingCheckpoint(ValueError):
    """The file cannot be a suite's input, with the reason."""


class SlurmError(RuntimeError):
    """No Slurm client, or a Slurm command that failed, with its output."""


# what tools/transfer.py reports as a refusal (exit 2); FileNotFoundError: --compare of a run
# without results.json; ValueError: a malformed --sweep or manifest
REFUSALS = (RunRefused, SuiteError, NotAPretrainingCheckpoint, SlurmError, FileNotFoundError, ValueError)
