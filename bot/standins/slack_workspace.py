"""The stand-in's memory of one workspace (messages, threads, views, DMs) and Slack's answers to valid calls."""

from __future__ import annotations

import copy
import itertools
from collections import defaultdict
from collections.abc import Callable
from typing import Any

Answer = dict[str, Any]


class Workspace:
    """Not thread-safe on its own: FakeSlack calls it while holding its lock."""

    def __init__(self, *, team_id: str, bot_user_id: str, bot_id: str) -> None:
        self.team_id, self.bot_user_id, self.bot_id = team_id, bot_user_id, bot_id
        self._messages: dict[tuple[str, str], dict[str, Any]] = {}
        self._replies: dict[tuple[str, str], list[str]] = defaultdict(list)
        self._views: dict[str, dict[str, Any]] = {}
        self._dm_channels: dict[str, str] = {}
        self._users: dict[str, dict[str, Any]] = {}
        self._serial = itertools.count(100)
        self._answers: dict[str, Callable[[dict[str, Any]], Answer]] = {
            "chat.postMessage": self._post_message,
            "chat.update": self._update_message,
            "chat.postEphemeral": self._post_ephemeral,
            "chat.getPermalink": self._permalink,
            "views.open": self._open_view,
            "views.push": self._open_view,
            "views.update": self._update_view,
            "views.publish": self._publish_view,
            "conversations.info": self._conversation_info,
            "conversations.open": self._open_dm,
            "conversations.replies": self._replies_of,
            "auth.test": self._auth_test,
            "users.info": self._user_info,
        }

    def answer(self, method: str, args: dict[str, Any]) -> Answer:
        """Slack's answer to a call that passed validation; anything unmodelled is plain `ok`."""
        return self._answers.get(method, lambda _: {"ok": True})(args)

    def message(self, channel: str, ts: str) -> dict[str, Any] | None:
        found = self._messages.get((channel, ts))
        return copy.deepcopy(found) if found else None

    def messages(self, channel: str) -> list[dict[str, Any]]:
        return [copy.deepcopy(m) for (c, _), m in self._messages.items() if c == channel and "thread_ts" not in m]

    def thread(self, channel: str, thread_ts: str) -> list[dict[str, Any]]:
        return [copy.deepcopy(self._messages[(channel, ts)]) for ts in self._replies[(channel, thread_ts)]]

    def view(self, view_id: str) -> dict[str, Any] | None:
        return copy.deepcopy(self._views.get(view_id))

    def add_user(self, user_id: str, **fields: Any) -> None:
        self._users[user_id] = {**self._default_user(user_id), **fields}

    def _next_ts(self) -> str:
        serial = next(self._serial)
        return f"{1_700_000_000 + serial // 1_000_000}.{serial % 1_000_000:06d}"

    def _post_message(self, args: dict[str, Any]) -> Answer:
        channel, ts = args["channel"], self._next_ts()
        message = {"type": "message", "user": self.bot_user_id, "bot_id": self.bot_id, "ts": ts,
                   "text": args.get("text", ""), "blocks": args.get("blocks", []), "team": self.team_id}
        if args.get("thread_ts"):
            message["thread_ts"] = args["thread_ts"]
            self._replies[(channel, args["thread_ts"])].append(ts)
        self._messages[(channel, ts)] = message
        return {"ok": True, "channel": channel, "ts": ts, "message": copy.deepcopy(message)}

    def _update_message(self, args: dict[str, Any]) -> Answer:
        message = self._messages.get((args["channel"], args["ts"]))
        if message is None:
            return {"ok": False, "error": "message_not_found"}
        # Like Slack, fields left out of the update keep their previous value.
        message.update({k: args[k] for k in ("text", "blocks", "attachments") if k in args})
        message["edited"] = {"user": self.bot_user_id, "ts": self._next_ts()}
        return {"ok": True, "channel": args["channel"], "ts": args["ts"], "text": message["text"],
                "message": copy.deepcopy(message)}

    def _post_ephemeral(self, args: dict[str, Any]) -> Answer:
        return {"ok": True, "message_ts": self._next_ts()}

    def _permalink(self, args: dict[str, Any]) -> Answer:
        channel, ts = args["channel"], args["message_ts"]
        url = f"https://hotfix-team.slack.com/archives/{channel}/p{ts.replace('.', '')}"
        return {"ok": True, "channel": channel, "permalink": url}

    def _open_view(self, args: dict[str, Any]) -> Answer:
        return self._store_view(f"V{next(self._serial):010d}", args["view"])

    def _update_view(self, args: dict[str, Any]) -> Answer:
        view_id = args.get("view_id") or self._view_id_for_external(args.get("external_id"))
        if view_id is None or view_id not in self._views:
            return {"ok": False, "error": "not_found"}
        return self._store_view(view_id, args["view"])

    def _publish_view(self, args: dict[str, Any]) -> Answer:
        return self._store_view(f"VHOME{args['user_id']}", args["view"])

    def _store_view(self, view_id: str, view: dict[str, Any]) -> Answer:
        stored = {**view, "id": view_id, "team_id": self.team_id, "state": {"values": {}},
                  "hash": f"{next(self._serial)}.hash", "root_view_id": view_id, "bot_id": self.bot_id,
                  "private_metadata": view.get("private_metadata", ""),
                  "callback_id": view.get("callback_id", "")}
        self._views[view_id] = stored
        return {"ok": True, "view": copy.deepcopy(stored)}

    def _view_id_for_external(self, external_id: str | None) -> str | None:
        found = [vid for vid, v in self._views.items() if external_id and v.get("external_id") == external_id]
        return found[-1] if found else None

    def _conversation_info(self, args: dict[str, Any]) -> Answer:
        channel = args["channel"]
        is_dm = channel.startswith("D")
        return {"ok": True, "channel": {
            "id": channel, "name": channel.lower(), "is_channel": not is_dm, "is_im": is_dm,
            "is_private": is_dm, "is_archived": False, "is_member": True, "created": 1_600_000_000,
        }}

    def _open_dm(self, args: dict[str, Any]) -> Answer:
        if args.get("channel"):
            return {"ok": True, "channel": {"id": args["channel"]}}
        users = ",".join(sorted(str(args["users"]).split(",")))
        channel = self._dm_channels.setdefault(users, f"D{len(self._dm_channels) + 1:08d}")
        return {"ok": True, "channel": {"id": channel}}

    def _replies_of(self, args: dict[str, Any]) -> Answer:
        channel, ts = args["channel"], args["ts"]
        parent = self._messages.get((channel, ts))
        replies = [self._messages[(channel, reply)] for reply in self._replies[(channel, ts)]]
        messages = ([parent] if parent else []) + replies
        if not messages:
            return {"ok": False, "error": "thread_not_found"}
        return {"ok": True, "messages": copy.deepcopy(messages), "has_more": False}

    def _auth_test(self, args: dict[str, Any]) -> Answer:
        return {"ok": True, "url": "https://hotfix-team.slack.com/", "team": "Hotfix Team",
                "user": "hotfix-bot",
                "team_id": self.team_id, "user_id": self.bot_user_id, "bot_id": self.bot_id,
                "is_enterprise_install": False}

    def _user_info(self, args: dict[str, Any]) -> Answer:
        user_id = args["user"]
        return {"ok": True, "user": copy.deepcopy(self._users.get(user_id) or self._default_user(user_id))}

    def _default_user(self, user_id: str) -> dict[str, Any]:
        name = user_id.lower()
        return {"id": user_id, "team_id": self.team_id, "name": name, "real_name": f"User {user_id}",
                "deleted": False, "is_bot": False, "tz": "UTC", "tz_offset": 0,
                "profile": {"real_name": f"User {user_id}", "display_name": name,
                            "email": f"{name}@example.com"}}
