"""Events API callbacks."""
from __future__ import annotations

from slack_bolt import App
from slack_sdk import WebClient

from bot.slack import views
from bot.slack.handlers.uses import UseCases


def register(app: App, uses: UseCases) -> None:
    @app.event("app_home_opened")
    def on_app_home_opened(event: dict, client: WebClient) -> None:
        if event.get("tab") not in (None, "home"):
            return  # the Messages tab needs nothing from us
        now = uses.clock.now()
        client.views_publish(user_id=event["user"], view=views.home_view(uses.read.active(), now, uses.stats(now)))
