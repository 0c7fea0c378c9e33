"""The one line format of a suite run's progress on stdout: ``[transfer HH:MM:SS] ...``."""
import time


def say(line: str) -> None:
    print(f'[transfer {time.strftime("%H:%M:%S")}] {line}', flush=True)
