"""The `hotfix-bot` command: serve, demo, doctor, report."""
from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

from bot import logs
from bot.config import ConfigError, load_config, load_environment

log = logging.getLogger("bot")


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
    raise SystemExit(code)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hotfix-bot", description="Runs your team's hotfix procedure in Slack.")
    parser.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
    commands = parser.add_subparsers(required=True, metavar="COMMAND")
    serve = commands.add_parser("serve", help="serve Slack requests (Socket Mode, or HTTP with --http)")
    serve.add_argument("--http", action="store_true", help="serve POST /slack/events and GET /healthz over HTTP")
    serve.add_argument("--host", default="0.0.0.0")
    serve.add_argument("--port", type=int, default=3000)
    serve.set_defaults(run=_serve)
    report = commands.add_parser("report", help="print a hotfix's post-mortem draft as Markdown")
    report.add_argument("hotfix", help="e.g. HF-12")
    report.set_defaults(run=_report)
    demo = commands.add_parser(
        "demo", help="play one hotfix from declare to close, offline, in seconds",
        description="Runs the real bot against a local stand-in for Slack's Web API and a throwaway git remote in a "
                    "temp dir, plays one incident from declare to close and prints the thread. Needs git; no Slack "
                    "workspace, tokens or network.")
    kept = demo.add_mutually_exclusive_group()
    kept.add_argument("--keep", dest="cleanup", action="store_false",
                      help="keep the temp dir (database, git remote, config) and print where it is (the default)")
    kept.add_argument("--cleanup", dest="cleanup", action="store_true", help="remove the temp dir at the end")
    demo.set_defaults(run=_demo, cleanup=False)
    doctor = commands.add_parser(
        "doctor", help="check tokens, channel, repos, roles and database; one line per check",
        description="Checks the environment (.env) and hotfix.toml the way `serve` would use them: Slack tokens "
                    "accepted, channel reachable, each repo's remote and production tag, the database. Exits 1 if "
                    "any check fails.")
    doctor.set_defaults(run=_doctor)
    return parser


def _serve(args: argparse.Namespace) -> int:
    from bot import wiring  # heavy imports only once settings are known to be fine
    from bot.http import make_server

    settings, config = load_environment(needs_app_token=not args.http)
    bot = wiring.build(settings, config)
    bot.start_workers()
    signal.signal(signal.SIGHUP, lambda *_: _reload(bot))
    signal.signal(signal.SIGTERM, _interrupt)  # stop like Ctrl-C: leave the serve loop, then stop cleanly
    try:
        if args.http:
            server = make_server(bot, host=args.host, port=args.port)
            log.info("serving Slack on http://%s:%s/slack/events", args.host, server.effective_port)
            server.run()
        else:
            from slack_bolt.adapter.socket_mode import SocketModeHandler

            log.info("connecting to Slack in Socket Mode")
            SocketModeHandler(bot.app, settings.app_token).start()
    except KeyboardInterrupt:
        pass
    finally:
        bot.stop()
    return 0


def _interrupt(*_: object) -> None:
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
    from bot import demo

    if args.log_level == "info":  # the thread is the output; the bot's own info logs would interleave with it
        logging.getLogger().setLevel(logging.WARNING)
        logging.getLogger("apscheduler").setLevel(logging.ERROR)  # "skipped" when the demo wakes a running tick
    return demo.run(cleanup=args.cleanup)


def _doctor(args: argparse.Namespace) -> int:
    from bot import doctor

    return doctor.run(os.environ)


def _report(args: argparse.Namespace) -> int:
    from bot.domain.transitions import Refused
    from bot.report import NoSuchHotfix, post_mortem
    from bot.service.hotfixes import parse_key

    try:
        number = parse_key(args.hotfix)
    except Refused as refusal:
        print(f"hotfix-bot: {refusal}", file=sys.stderr)
        return 2
    try:
        print(post_mortem(number, os.environ), end="")
    except NoSuchHotfix as missing:
        print(f"hotfix-bot: {missing}", file=sys.stderr)
        return 1
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
