"""The `hotfix-bot` command: serve, demo, doctor, report, stats."""
from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path

from bot import logs
from bot.config import DEFAULT_DATABASE_URL, ConfigError, database_url, load_config, load_environment

log = logging.getLogger("bot")


LOG_LEVELS = ["debug", "info", "warning", "error"]
REMOTE_CHECK_SECONDS = 60.0
STATS_FORMATS = ["table", "markdown", "csv", "json"]


def main(argv: Sequence[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    load_dotenv(Path(".env"), os.environ)
    secrets = (os.environ.get(name, "") for name in ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN"))
    logs.configure(args.log_level, *secrets)
    try:
        code = args.run(args)
    except ConfigError as problem:
        print(f"hotfix-bot: {problem}", file=sys.stderr)
        code = 2
    except KeyboardInterrupt:  # Ctrl-C or SIGTERM before serving started: nothing to clean up
        code = 130
    raise SystemExit(code)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hotfix-bot", description="Runs your team's hotfix procedure in Slack.")
    parser.add_argument("--log-level", default="info", choices=LOG_LEVELS)
    # The same option after the subcommand (`hotfix-bot serve --log-level debug`); it wins when given twice.
    log_level = argparse.ArgumentParser(add_help=False)
    log_level.add_argument("--log-level", default=argparse.SUPPRESS, choices=LOG_LEVELS,
                           help="how much to log (default: info)")
    commands = parser.add_subparsers(required=True, metavar="COMMAND")
    serve = commands.add_parser("serve", help="serve Slack requests (Socket Mode, or HTTP with --http)",
                                parents=[log_level], formatter_class=argparse.ArgumentDefaultsHelpFormatter,
                                description="Serves Slack requests until SIGTERM or Ctrl-C. Socket Mode by default "
                                            "(needs SLACK_APP_TOKEN); --http needs SLACK_SIGNING_SECRET.")
    serve.add_argument("--http", action="store_true", help="serve POST /slack/events and GET /healthz over HTTP")
    serve.add_argument("--host", default="0.0.0.0", help="address to listen on with --http or --metrics-port")
    serve.add_argument("--port", type=int, default=3000, help="port to listen on with --http")
    serve.add_argument("--metrics-port", type=int, metavar="N",
                       help="serve Prometheus metrics on port N (Socket Mode has no port; --http has GET /metrics)")
    serve.set_defaults(run=_serve)
    report = commands.add_parser("report", help="print a hotfix's post-mortem draft as Markdown", parents=[log_level])
    report.add_argument("hotfix", help="e.g. HF-12")
    report.set_defaults(run=_report)
    stats = commands.add_parser(
        "stats", parents=[log_level], help="hotfix statistics: outcomes, step times, time to restore, failures, debt",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
        description="Measures the hotfixes declared in the last --since against the same span before it, from the "
                    "database alone (DATABASE_URL; targets from hotfix.toml when it is there).")
    stats.add_argument("--since", default="90d", help='how far back: "30d", "12h", "2d12h"')
    stats.add_argument("--format", default="table", choices=STATS_FORMATS, help="how to print the figures")
    stats.set_defaults(run=_stats)
    demo = commands.add_parser(
        "demo", parents=[log_level], help="play one hotfix from declare to close, offline, in seconds",
        description="Runs the real bot against a local stand-in for Slack's Web API and a throwaway git remote in a "
                    "temp dir, plays one incident from declare to close and prints the thread. Needs git; no Slack "
                    "workspace, tokens or network.")
    kept = demo.add_mutually_exclusive_group()
    kept.add_argument("--keep", dest="cleanup", action="store_false",
                      help="keep the temp dir (database, git remote, config) and print where it is (the default)")
    kept.add_argument("--cleanup", dest="cleanup", action="store_true", help="remove the temp dir at the end")
    demo.set_defaults(run=_demo, cleanup=False)
    doctor = commands.add_parser(
        "doctor", parents=[log_level], help="check tokens, channel, repos, roles and database; one line per check",
        description="Checks the environment (.env) and hotfix.toml the way `serve` with the same --http would use "
                    "them: Slack tokens accepted, channel reachable, each repo's remote and production tag, the "
                    "database. Exits 1 if any check fails.")
    doctor.add_argument("--http", action="store_true",
                        help="check for HTTP mode (signing secret) instead of Socket Mode (app-level token)")
    doctor.set_defaults(run=_doctor)
    return parser


def _serve(args: argparse.Namespace) -> int:
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

    try:
        retry = float(os.environ.get("HOTFIX_LEADER_RETRY_SECONDS", "3"))
        return wiring.build(settings, config, leader_retry_seconds=retry)
    except (SQLAlchemyError, OSError) as err:
        raise ConfigError(f"can't open the database {_shown(settings.database_url)}: {_first_line(err)}; check "
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
        bot.reload(load_config(bot.settings.config_path))
    except ConfigError as problem:
        log.error("config not reloaded, keeping the running one: %s", problem)
        return
    log.info("config reloaded from %s", bot.settings.config_path)


def _demo(args: argparse.Namespace) -> int:
    from bot.demo import incident

    if args.log_level == "info":  # the thread is the output; the bot's own info logs would interleave with it
        logging.getLogger().setLevel(logging.WARNING)
        logging.getLogger("apscheduler").setLevel(logging.ERROR)  # "skipped" when the demo wakes a running tick
    return incident.run(cleanup=args.cleanup)


def _doctor(args: argparse.Namespace) -> int:
    from bot import doctor

    return doctor.run(os.environ, socket_mode=not args.http)


def _report(args: argparse.Namespace) -> int:
    """Needs only the database: it works on a laptop with a copy of hotfix.db, no Slack tokens. It never creates or
    migrates one: a mistyped DATABASE_URL must not leave an empty hotfix.db behind."""
    from sqlalchemy.exc import SQLAlchemyError

    from bot.domain.transitions import Refused
    from bot.report import NoSuchHotfix, post_mortem
    from bot.service.hotfixes import parse_key

    url = database_url(os.environ)
    try:
        number = parse_key(args.hotfix)
    except Refused as refusal:
        print(f"hotfix-bot: {refusal}", file=sys.stderr)
        return 2
    try:
        draft = post_mortem(_existing_database(url), number, os.environ)
    except SQLAlchemyError as err:
        raise ConfigError(f"can't read hotfixes from {_shown(url)}: {_first_line(err)}; check DATABASE_URL "
                          "(it is made by `hotfix-bot serve`).") from None
    except NoSuchHotfix as missing:
        print(f"hotfix-bot: {missing} in {_shown(url)}.", file=sys.stderr)
        return 1
    print(draft, end="")
    return 0


def _stats(args: argparse.Namespace) -> int:
    """Like `report`: the database alone, never created or migrated."""
    from datetime import UTC, datetime

    from sqlalchemy.exc import SQLAlchemyError

    from bot.domain.durations import parse_duration
    from bot.report import configured_targets
    from bot.store.statistics import hotfix_stats
    from bot.stats_report import render

    try:
        span = parse_duration(args.since)
    except ValueError as wrong:
        raise ConfigError(f"--since {wrong}") from None
    if span <= timedelta(0):
        raise ConfigError(f'--since "{args.since}" is no span of time; write it like "30d" or "90d".')
    url = database_url(os.environ)
    try:
        figures = hotfix_stats(_existing_database(url), configured_targets(os.environ), now=datetime.now(UTC),
                               span=span)
    except SQLAlchemyError as err:
        raise ConfigError(f"can't read hotfixes from {_shown(url)}: {_first_line(err)}; check DATABASE_URL "
                          "(it is made by `hotfix-bot serve`).") from None
    print(render(figures, span, args.format), end="")
    return 0


def _existing_database(url: str):
    from sqlalchemy.engine import make_url

    from bot.store.db import make_engine

    parsed = make_url(url)
    path = parsed.database
    if parsed.get_backend_name() == "sqlite" and path not in (None, "", ":memory:"):
        if not Path(path).is_file():
            raise ConfigError(f"there is no database at {path}; set DATABASE_URL to the one `hotfix-bot serve` "
                              f"uses (default {DEFAULT_DATABASE_URL}, relative to where it runs).")
    return make_engine(url)


def _shown(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def _first_line(err: Exception) -> str:
    cause = getattr(err, "orig", None) or err  # a driver's own words, not SQLAlchemy's wrapper
    return (str(cause).strip().splitlines() or [type(cause).__name__])[0][:200]


def load_dotenv(path: Path, environ: os._Environ | dict) -> None:
    """KEY=VALUE lines from .env; the real environment wins."""
    if not path.is_file():
        return
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.removeprefix("export ").partition("=")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        environ.setdefault(key.strip(), value)
