"""The `hotfix-bot` command: serve, demo, doctor, report, stats."""
from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path

from bot import logs
from bot.config import ConfigError, database_url

LOG_LEVELS = ["debug", "info", "warning", "error"]
STATS_FORMATS = ["table", "markdown", "csv", "json"]
# Never written to a log, whatever the line that carries them.
SECRET_SETTINGS = ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN", "GITHUB_TOKEN",
                   "GITHUB_WEBHOOK_SECRET")


def main(argv: Sequence[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    load_dotenv(Path(".env"), os.environ)
    secrets = (os.environ.get(name, "").strip() for name in SECRET_SETTINGS)
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
    for add in (_add_serve, _add_report, _add_stats, _add_demo, _add_doctor):
        add(commands, log_level)
    return parser


def _add_serve(commands, log_level: argparse.ArgumentParser) -> None:
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


def _add_report(commands, log_level: argparse.ArgumentParser) -> None:
    report = commands.add_parser("report", help="print a hotfix's post-mortem draft as Markdown", parents=[log_level])
    report.add_argument("hotfix", help="e.g. HF-12")
    report.set_defaults(run=_report)


def _add_stats(commands, log_level: argparse.ArgumentParser) -> None:
    stats = commands.add_parser(
        "stats", parents=[log_level], help="hotfix statistics: outcomes, step times, time to restore, failures, debt",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
        description="Measures the hotfixes declared in the last --since against the same span before it, from the "
                    "database alone (DATABASE_URL; targets from hotfix.toml when it is there).")
    stats.add_argument("--since", default="90d", help='how far back: "30d", "12h", "2d12h"')
    stats.add_argument("--format", default="table", choices=STATS_FORMATS, help="how to print the figures")
    stats.set_defaults(run=_stats)


def _add_demo(commands, log_level: argparse.ArgumentParser) -> None:
    demo = commands.add_parser(
        "demo", parents=[log_level], help="play one hotfix from declare to close, offline, in seconds",
        description="Runs the real bot against a local stand-in for Slack's Web API and a throwaway git remote in a "
                    "temp dir, plays one incident from declare to close and prints the thread. Needs git; no Slack "
                    "workspace, tokens or network.")
    kept = demo.add_mutually_exclusive_group()
    kept.add_argument("--keep", dest="cleanup", action="store_false",
                      help="keep the temp dir (database, git remote, config) and print where it is (the default)")
    kept.add_argument("--cleanup", dest="cleanup", action="store_true", help="remove the temp dir at the end")
    demo.add_argument("--github", action="store_true",
                      help="play it on the pull-request path against a local stand-in GitHub: review, CI and "
                           "merge-backs on pull requests (no GitHub account needed)")
    demo.set_defaults(run=_demo, cleanup=False)


def _add_doctor(commands, log_level: argparse.ArgumentParser) -> None:
    doctor = commands.add_parser(
        "doctor", parents=[log_level], help="check tokens, channel, repos, roles and database; one line per check",
        description="Checks the environment (.env) and hotfix.toml the way `serve` with the same --http would use "
                    "them: Slack tokens accepted, channel reachable, each repo's remote and production tag, the "
                    "GitHub token's access to each repo on GitHub, the database. Exits 1 if any check fails.")
    doctor.add_argument("--http", action="store_true",
                        help="check for HTTP mode (signing secret) instead of Socket Mode (app-level token)")
    doctor.set_defaults(run=_doctor)


def _serve(args: argparse.Namespace) -> int:
    from bot import serving  # the bot's heavy imports, only for `serve`

    return serving.serve(args)


def _demo(args: argparse.Namespace) -> int:
    from bot.demo import incident

    if args.log_level == "info":  # the thread is the output; the bot's own info logs would interleave with it
        logging.getLogger().setLevel(logging.WARNING)
        logging.getLogger("apscheduler").setLevel(logging.ERROR)  # "skipped" when the demo wakes a running tick
    if args.github:
        from bot.demo.github import GitHubScene

        return incident.run(cleanup=args.cleanup, scene=GitHubScene())
    return incident.run(cleanup=args.cleanup)


def _doctor(args: argparse.Namespace) -> int:
    from bot.tools import doctor

    return doctor.run(os.environ, socket_mode=not args.http)


def _report(args: argparse.Namespace) -> int:
    """Needs only the database: it works on a laptop with a copy of hotfix.db, no Slack tokens. It never creates or
    migrates one: a mistyped DATABASE_URL must not leave an empty hotfix.db behind."""
    from sqlalchemy.exc import SQLAlchemyError

    from bot.domain.transitions import Refused
    from bot.service.hotfixes import parse_key
    from bot.tools.database import existing_database, first_line, shown
    from bot.tools.report import NoSuchHotfix, configured_targets, post_mortem

    url = database_url(os.environ)
    try:
        number = parse_key(args.hotfix)
    except Refused as refusal:
        print(f"hotfix-bot: {refusal}", file=sys.stderr)
        return 2
    try:
        draft = post_mortem(existing_database(url), number, configured_targets(os.environ))
    except SQLAlchemyError as err:
        raise ConfigError(f"can't read hotfixes from {shown(url)}: {first_line(err)}; check DATABASE_URL "
                          "(it is made by `hotfix-bot serve`).") from None
    except NoSuchHotfix as missing:
        print(f"hotfix-bot: {missing} in {shown(url)}.", file=sys.stderr)
        return 1
    print(draft, end="")
    return 0


def _stats(args: argparse.Namespace) -> int:
    """Like `report`: the database alone, never created or migrated."""
    from datetime import UTC, datetime

    from sqlalchemy.exc import SQLAlchemyError

    from bot.domain.durations import parse_duration
    from bot.store.statistics import hotfix_stats
    from bot.tools.database import existing_database, first_line, shown
    from bot.tools.report import configured_targets
    from bot.tools.stats_report import render

    try:
        span = parse_duration(args.since)
    except ValueError as wrong:
        raise ConfigError(f"--since {wrong}") from None
    if span <= timedelta(0):
        raise ConfigError(f'--since "{args.since}" is no span of time; write it like "30d" or "90d".')
    url = database_url(os.environ)
    try:
        figures = hotfix_stats(existing_database(url), configured_targets(os.environ), now=datetime.now(UTC),
                               span=span)
    except SQLAlchemyError as err:
        raise ConfigError(f"can't read hotfixes from {shown(url)}: {first_line(err)}; check DATABASE_URL "
                          "(it is made by `hotfix-bot serve`).") from None
    print(render(figures, span, args.format), end="")
    return 0


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
