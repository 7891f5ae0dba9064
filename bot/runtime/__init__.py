"""The threads that run the bot: job runners, the timer scheduler, retention, leadership."""
