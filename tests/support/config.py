"""The tests' team: the stand-in team the benchmarks use too."""
from bot.standins.team import CONFIG, SECRET, TOKEN

__all__ = ["CONFIG", "SECRET", "TOKEN"]
