"""Events API callbacks."""
from __future__ import annotations

from slack_bolt import App
from slack_sdk import WebClient

from bot.service.hotfixes import HotfixService
from bot.service.statistics import HOME_SPAN, hotfix_stats
from bot.slack import views


def register(app: App, service: HotfixService) -> None:
    @app.event("app_home_opened")
    def on_app_home_opened(event: dict, client: WebClient) -> None:
        if event.get("tab") not in (None, "home"):
            return  # the Messages tab needs nothing from us
        now = service.clock.now()
        figures = hotfix_stats(service.engine, service.policy.times, now=now, span=HOME_SPAN)
        client.views_publish(user_id=event["user"], view=views.home_view(service.active(), now, figures))
