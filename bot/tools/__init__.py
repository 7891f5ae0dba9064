"""The commands beside `serve`: `doctor`, `report` and `stats`, each given what it needs by bot.cli."""
