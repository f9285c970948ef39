"""`dosewise config check`: validate a configuration and report every problem at once."""

from __future__ import annotations

import argparse
import sys

from dosewise.errors import ConfigError, RulePackError
from dosewise.settings import Settings, load_settings, resolve_config_path
from dosewise_cli.options import add_config_option


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `config` command group."""
    config = sub.add_parser("config", help="check a configuration file")
    config_sub = config.add_subparsers(dest="config_command", metavar="ACTION", required=True)
    check = config_sub.add_parser("check", help="validate a config: each problem as FILE: key: what is wrong")
    add_config_option(check)
    check.set_defaults(func=check_config)


def check_config(args: argparse.Namespace) -> int:
    """Print `FILE: ok` or one line per problem; exit status 2 when there are problems."""
    path = resolve_config_path(getattr(args, "config", None))
    if path is None:
        print("no config file given (--config FILE, $DOSEWISE_CONFIG or ./config.yaml); defaults are valid")
        return 0
    try:
        settings = load_settings(path)
    except ConfigError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return 2
    problems = _check_rule_packs(settings.source, settings)
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        return 2
    print(f"{path}: ok")
    return 0


def _check_rule_packs(source: str, settings: Settings) -> list[str]:
    """Compile every extra rule pack the config names, so a bad pattern is caught before startup."""
    # Imported here so that `dosewise config check` on a config without packs needs no detector build.
    from dosewise.screening import Detector

    problems: list[str] = []
    policies = {"moderation": settings.policy, **{f"servers.{k}": v for k, v in settings.servers.items()}}
    for key, policy in policies.items():
        if not policy.rule_packs:
            continue
        try:
            Detector.build(extra_packs=policy.rule_packs, allowlist=policy.allowlist)
        except RulePackError as exc:
            problems.append(f"{source}: {key}.rule_packs: {exc.user_message}")
    return problems
