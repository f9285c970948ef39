"""`dosewise servers …`: show a server's policy and change it at run time (stored, picked up by a running bot)."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import fields
from typing import Any

import yaml

from dosewise.errors import ConfigError
from dosewise.models import UserRef
from dosewise.moderation import POLICY_REFRESH_INTERVAL, ModerationService
from dosewise.server_detectors import ServerDetectors
from dosewise.settings import RUNTIME_KEYS, Policy, Settings
from dosewise.store import Store
from dosewise_cli.options import settings_from, store_subcommand


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `servers` command group."""
    servers = sub.add_parser("servers", help="show or change a server's moderation settings at run time")
    actions = servers.add_subparsers(dest="servers_command", metavar="ACTION", required=True)

    def action(name: str, help_text: str, func: Callable[[argparse.Namespace], int]) -> argparse.ArgumentParser:
        return store_subcommand(actions, name, help_text, func)

    action("list", "servers with settings changed at run time", list_command)
    show = action("show", "the policy in force for a server, and where each value comes from", show_command)
    show.add_argument("server", help="Discord guild id or Slack team id")
    keys = ", ".join(sorted(RUNTIME_KEYS))
    set_ = action("set", f"change one setting ({keys}); VALUE is YAML: hide, 0.6, [a, b]", set_command)
    set_.add_argument("server")
    set_.add_argument("key", choices=sorted(RUNTIME_KEYS), metavar="KEY")
    set_.add_argument("value", metavar="VALUE")
    set_.add_argument("--by", default="operator", help="who is changing it (logged)")
    unset = action("unset", "go back to the config file's value of one setting", unset_command)
    unset.add_argument("server")
    unset.add_argument("key", choices=sorted(RUNTIME_KEYS), metavar="KEY")
    unset.add_argument("--by", default="operator", help="who is changing it (logged)")


def list_command(args: argparse.Namespace) -> int:
    """Print each server with stored settings and those settings."""

    async def go(service: ModerationService) -> None:
        rows = await service.store.all_server_settings()
        if not rows:
            print("no server has settings changed at run time")
        for server, values in sorted(rows.items()):
            print(server)
            for key, value in sorted(values.items()):
                print(f"  {key}: {_yaml(value)}")

    return _run(args, go)


def show_command(args: argparse.Namespace) -> int:
    """Print the policy in force for one server, marking stored values."""

    async def go(service: ModerationService) -> None:
        print(f"server {args.server}")
        _print_policy(service.policies.policy_for(args.server), service.policies.overrides(args.server))

    return _run(args, go)


def set_command(args: argparse.Namespace) -> int:
    """Validate and store one setting of a server."""
    try:
        value = yaml.safe_load(args.value)
    except yaml.YAMLError as exc:
        raise ConfigError([f"servers set {args.server}: {args.key}: VALUE is not valid YAML ({exc})"]) from None

    async def go(service: ModerationService) -> None:
        policy = await service.set_server_setting(args.server, args.key, value, UserRef(id=args.by, name=args.by))
        print(f"server {args.server}: {args.key} set (a running bot applies it within {POLICY_REFRESH_INTERVAL:.0f} s)")
        _print_policy(policy, service.policies.overrides(args.server))

    return _run(args, go)


def unset_command(args: argparse.Namespace) -> int:
    """Remove one stored setting of a server."""
    removed: list[bool] = []

    async def go(service: ModerationService) -> None:
        removed.append(await service.unset_server_setting(args.server, args.key, UserRef(id=args.by, name=args.by)))
        if removed[0]:
            print(f"server {args.server}: {args.key} now comes from the config file")
        else:
            print(f"server {args.server}: {args.key} was not set at run time; nothing changed")

    status = _run(args, go)
    return status if removed and removed[0] else 1


def _print_policy(policy: Policy, stored: dict[str, Any]) -> None:
    for f in fields(policy):
        value = getattr(policy, f.name)
        if f.name == "rule_packs":
            value = [str(p) for p in value]
        elif f.name == "escalation":
            value = {e.name: getattr(value, e.name) for e in fields(value)}
        elif isinstance(value, tuple):
            value = list(value)
        where = "  (set at run time)" if f.name in stored else ""
        if value is None and f.name in ("mod_channel", "moderators"):
            where = "  (the discord: / slack: setting applies)"
        print(f"  {f.name}: {_yaml(value)}{where}")


def _yaml(value: Any) -> str:
    return (
        yaml.safe_dump(value, default_flow_style=True, allow_unicode=True, width=10_000)
        .strip()
        .removesuffix("...")
        .strip()
    )


def _run(args: argparse.Namespace, go: Callable[[ModerationService], Awaitable[None]]) -> int:
    settings: Settings = settings_from(args)

    async def main() -> None:
        # A longer busy timeout than the bot's: an operator can wait a moment for a running bot's write.
        store = await Store.open(settings.database, busy_timeout=5.0)
        service = ModerationService(store, settings, ServerDetectors(settings))
        try:
            await service.reload_policies()
            await go(service)
        finally:
            await service.close(within=5.0)
            await store.close()

    asyncio.run(main())
    return 0
