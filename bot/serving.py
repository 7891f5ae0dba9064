"""`hotfix-bot serve`: start-up checks, serving Slack over HTTP or Socket Mode, SIGHUP reloads, a clean stop."""
from __future__ import annotations

import argparse
import logging
import os
import signal
import threading

from bot import logs
from bot.config import ConfigError, load_config, load_environment

log = logging.getLogger("bot")

REMOTE_CHECK_SECONDS = 60.0


def serve(args: argparse.Namespace) -> int:
    from bot.http import make_server  # heavy imports only once settings are known to be fine

    settings, config = load_environment(socket_mode=not args.http)
    for signum in (signal.SIGTERM, signal.SIGINT):  # leave the serve loop, then stop cleanly
        signal.signal(signum, _interrupt)
    check_remotes(settings, config)
    bot = _opened(settings, config)
    stop_metrics = bot.metrics.serve(host=args.host, port=args.metrics_port) if args.metrics_port else None
    try:
        if args.http:
            server = make_server(bot, host=args.host, port=args.port)  # bound before any work is taken on
            bot.start_workers()
            signal.signal(signal.SIGHUP, lambda *_: _reload(bot))
            log.info("serving Slack on http://%s:%s/slack/events", args.host, server.effective_port)
            server.run()
        else:
            _serve_socket_mode(bot)
    except KeyboardInterrupt:
        pass
    finally:
        if stop_metrics:
            stop_metrics()
        _stop(bot)
    return 0


def _serve_socket_mode(bot) -> None:
    """Slack refusing the app-level token stops start-up; Slack unreachable does not: the workers start anyway and
    the connection is retried until Slack is back (see bot.slack.socket_mode)."""
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    from bot.slack.socket_mode import TokenRefused, keep_trying, try_connect

    log.info("connecting to Slack in Socket Mode")
    handler = SocketModeHandler(bot.app, bot.settings.app_token)
    try:
        try:
            unreachable = try_connect(handler.client)
            bot.start_workers()
            signal.signal(signal.SIGHUP, lambda *_: _reload(bot))
            if unreachable:
                keep_trying(handler.client, unreachable)
        except TokenRefused as refused:
            raise ConfigError(f"Slack refused SLACK_APP_TOKEN ({refused.error}): create an app-level token with "
                              "connections:write under Basic Information → App-Level Tokens and put it in "
                              "SLACK_APP_TOKEN, or run with --http.") from None
        threading.Event().wait()
    finally:
        handler.close()


def check_remotes(settings, config) -> None:
    """Before any traffic, one line per repository (and its mirror warmed for the first hotfix). A remote that
    refuses (no such repository, credentials) or has no production tag stops start-up. One that is merely
    unreachable is a warning: an incident bot that will not start during a network blip helps nobody, and its
    git steps retry until the remote is back."""
    from bot.git.errors import GitOpError, RemoteUnavailable
    from bot.git.ops import GitOps

    git = GitOps(settings.workdir, network_timeout=REMOTE_CHECK_SECONDS)
    for spec in config.repos:
        try:
            tag = git.production_tag(spec)
        except RemoteUnavailable as down:
            log.warning("repo %s: can't reach %s (%s); starting anyway, its git steps retry until it is back",
                        spec.name, logs.redact(spec.url), down.detail)
            continue
        except GitOpError as refused:
            raise ConfigError(f"[[repos]] {spec.name}: {refused}") from None
        if tag is None:
            raise ConfigError(f"[[repos]] {spec.name}: no tag on the remote matches production_tag "
                              f"{spec.production_tag}; tag what runs in production, or fix production_tag.")
        log.info("repo %s: remote reachable, production tag %s", spec.name, tag.name)


def _opened(settings, config):
    """The bot, with its database created or migrated; a database it cannot open is one line, not a traceback."""
    from sqlalchemy.exc import SQLAlchemyError

    from bot import wiring
    from bot.tools.database import first_line, shown

    try:
        return wiring.build(settings, config)
    except (SQLAlchemyError, OSError) as err:
        raise ConfigError(f"can't open the database {shown(settings.database_url)}: {first_line(err)}; check "
                          "DATABASE_URL, that the server is up and accepts this host, and the credentials.") from None


def _stop(bot) -> None:
    """Stop cleanly; a second SIGTERM or Ctrl-C while stopping ends the process at once (jobs and timers are rows
    in the database: whatever was under way resumes on the next start)."""
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, _stop_now)
    bot.stop()
    for signum in (signal.SIGTERM, signal.SIGINT):  # stopped: only exiting is left, which a signal must not cut short
        signal.signal(signum, signal.SIG_IGN)


def _stop_now(*_: object) -> None:
    log.warning("stopping at once; unfinished work resumes on the next start")
    logging.shutdown()
    os._exit(0)


def _interrupt(*_: object) -> None:
    """The first SIGTERM or Ctrl-C: leave the serve loop; any later one stops at once (see _stop)."""
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, _stop_now)
    raise KeyboardInterrupt


def _reload(bot) -> None:
    """SIGHUP: read hotfix.toml again; a broken file is logged and the running config kept."""
    try:
        bot.reload(load_config(bot.settings.config_path, bot.settings))  # a repo on GitHub needs a token
    except ConfigError as problem:
        log.error("config not reloaded, keeping the running one: %s", problem)
        return
    log.info("config reloaded from %s", bot.settings.config_path)
