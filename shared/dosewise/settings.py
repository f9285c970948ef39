"""Configuration: a YAML file for behaviour, the environment for secrets, per-server overrides.

Every problem found is reported as `FILE: key: what is wrong`, all of them at once, so an operator can
fix a config in one pass.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from dosewise.errors import ConfigError

DEFAULT_CONFIG_NAME = "config.yaml"
DEFAULT_DATABASE = "dosewise.db"

# Secrets live in the environment only; these keys in a YAML file are an error, not a fallback.
SECRET_KEYS = frozenset(
    {"token", "bot_token", "app_token", "signing_secret", "admin_token", "user_token", "secret", "password"}
)


@dataclass(frozen=True, slots=True)
class EscalationPolicy:
    """N upheld flags for one author within T days → recommend (or apply) a timeout."""

    upheld: int = 3
    days: int = 30
    timeout_minutes: int = 60
    apply: bool = False


@dataclass(frozen=True, slots=True)
class Policy:
    """The moderation policy in force for one server (defaults merged with its overrides)."""

    mode: str = "review"
    flag_threshold: float = 0.5
    act_threshold: float | None = None
    exempt_channels: tuple[str, ...] = ()
    exempt_roles: tuple[str, ...] = ()
    allowlist: tuple[str, ...] = ()
    rule_packs: tuple[Path, ...] = ()
    escalation: EscalationPolicy = field(default_factory=EscalationPolicy)
    # Per-server only (under `servers:`): where this server's alerts go and who reviews them; None means
    # the platform section's setting. A bot in several servers must not post one server's flags in another.
    mod_channel: str | None = None
    moderators: tuple[str, ...] | None = None


@dataclass(frozen=True, slots=True)
class DiscordSettings:
    """Discord adapter configuration (the token comes from DISCORD_TOKEN)."""

    # repr=False: a logged Settings object must never print a secret.
    token: str = field(default="", repr=False)
    mod_channel: str = ""
    moderator_roles: tuple[str, ...] = ()
    shard_count: int | None = None
    shard_ids: tuple[int, ...] | None = None
    default_timeout_minutes: int = 60


@dataclass(frozen=True, slots=True)
class SlackSettings:
    """Slack adapter configuration (tokens come from SLACK_* environment variables)."""

    mode: str = "http"
    host: str = "0.0.0.0"
    port: int = 3000
    path: str = "/slack/events"
    mod_channel: str = ""
    moderators: tuple[str, ...] = ()
    answer_in_channel: bool = False
    bot_token: str = field(default="", repr=False)
    signing_secret: str = field(default="", repr=False)
    app_token: str = field(default="", repr=False)
    admin_token: str = field(default="", repr=False)
    api_url: str = ""


@dataclass(frozen=True, slots=True)
class ConsoleSettings:
    """Console adapter configuration: who is a moderator, who speaks first."""

    moderators: tuple[str, ...] = ("mod",)
    user: str = "you"
    channel: str = "general"


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything the bot needs to start; built once in the entry point and handed down."""

    database: Path = Path(DEFAULT_DATABASE)
    content_dir: Path | None = None
    retention_days: int = 30
    log_level: str = "INFO"
    policy: Policy = field(default_factory=Policy)
    servers: Mapping[str, Policy] = field(default_factory=dict)
    discord: DiscordSettings = field(default_factory=DiscordSettings)
    slack: SlackSettings = field(default_factory=SlackSettings)
    console: ConsoleSettings = field(default_factory=ConsoleSettings)
    source: str = "<defaults>"

    def policy_for(self, server_id: str) -> Policy:
        """Return the policy for a server: its overrides if configured, else the defaults."""
        return self.servers.get(server_id, self.policy)

    def with_database(self, path: str | Path | None) -> Settings:
        """Return a copy using another database file (the `--db` option)."""
        return self if path is None else replace(self, database=Path(path))


class _Reader:
    """Walks a parsed YAML mapping, converting values and collecting every problem with its key path."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.problems: list[str] = []

    def problem(self, key: str, what: str) -> None:
        self.problems.append(f"{self.source}: {key}: {what}")

    def section(self, data: Mapping[str, Any], key: str, prefix: str) -> Mapping[str, Any]:
        value = data.get(key)
        if value is None:
            return {}
        if not isinstance(value, Mapping):
            self.problem(prefix + key, f"must be a mapping, got {type(value).__name__}")
            return {}
        return value

    def unknown(self, data: Mapping[str, Any], known: set[str], prefix: str) -> None:
        for key in data:
            name = f"{prefix}{key}"
            if str(key).lower() in SECRET_KEYS:
                self.problem(name, "secrets are read from the environment only; remove this key")
            elif key not in known:
                self.problem(name, f"unknown key (expected one of: {', '.join(sorted(known))})")

    def get(self, data: Mapping[str, Any], key: str, prefix: str, conv: Callable[[Any], Any], default: Any) -> Any:
        if key not in data or data[key] is None:
            return default
        try:
            return conv(data[key])
        except (TypeError, ValueError) as exc:
            self.problem(prefix + key, str(exc))
            return default


def _int(low: int, high: int | None = None) -> Callable[[Any], int]:
    def conv(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"must be a whole number, got {value!r}")
        if value < low or (high is not None and value > high):
            raise ValueError(f"must be between {low} and {high}" if high else f"must be at least {low}")
        return value

    return conv


def _fraction(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"must be a number between 0 and 1, got {value!r}")
    if not 0.0 <= float(value) <= 1.0:
        raise ValueError(f"must be between 0 and 1, got {value!r}")
    return float(value)


def _bool(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"must be true or false, got {value!r}")
    return value


def _str(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ValueError(f"must be a string, got {value!r}")
    return str(value)


def _strings(value: Any) -> tuple[str, ...]:
    if isinstance(value, str | int) and not isinstance(value, bool):
        return (str(value),)
    if not isinstance(value, list) or not all(isinstance(v, str | int) for v in value):
        raise ValueError(f"must be a list of strings, got {value!r}")
    return tuple(str(v) for v in value)


def _choice(*options: str) -> Callable[[Any], str]:
    def conv(value: Any) -> str:
        if value not in options:
            raise ValueError(f"must be one of {', '.join(options)}, got {value!r}")
        return str(value)

    return conv


_POLICY_KEYS = {
    "mode",
    "flag_threshold",
    "act_threshold",
    "exempt_channels",
    "exempt_roles",
    "allowlist",
    "rule_packs",
    "escalation",
}
_SERVER_ONLY_KEYS = {"mod_channel", "moderators"}
# What moderators may change while the bot runs (`dosewise servers set`); rule packs are files, so config only.
RUNTIME_KEYS = frozenset((_POLICY_KEYS | _SERVER_ONLY_KEYS) - {"rule_packs"})


def _policy(
    r: _Reader, data: Mapping[str, Any], prefix: str, base: Policy, here: Path, *, server: bool = False
) -> Policy:
    if server:
        r.unknown(data, _POLICY_KEYS | _SERVER_ONLY_KEYS, prefix)
    else:
        for key in _SERVER_ONLY_KEYS & set(data):
            r.problem(prefix + key, "set it under discord: or slack: (or per server under servers.<id>:)")
        r.unknown({k: v for k, v in data.items() if k not in _SERVER_ONLY_KEYS}, _POLICY_KEYS, prefix)
    esc = r.section(data, "escalation", prefix)
    r.unknown(esc, {"upheld", "days", "timeout_minutes", "apply"}, prefix + "escalation.")
    ep = prefix + "escalation."
    b = base.escalation
    escalation = EscalationPolicy(
        upheld=r.get(esc, "upheld", ep, _int(1), b.upheld),
        days=r.get(esc, "days", ep, _int(1, 3650), b.days),
        timeout_minutes=r.get(esc, "timeout_minutes", ep, _int(1, 40320), b.timeout_minutes),
        apply=r.get(esc, "apply", ep, _bool, b.apply),
    )
    packs = r.get(data, "rule_packs", prefix, _strings, None)
    rule_packs = base.rule_packs
    if packs is not None:
        rule_packs = tuple((here / p) if not Path(p).is_absolute() else Path(p) for p in packs)
        for p, raw in zip(rule_packs, packs, strict=True):
            if not p.is_file():
                r.problem(prefix + "rule_packs", f"no such file: {raw}")
    policy = Policy(
        mode=r.get(data, "mode", prefix, _choice("review", "hide"), base.mode),
        flag_threshold=r.get(data, "flag_threshold", prefix, _fraction, base.flag_threshold),
        act_threshold=r.get(data, "act_threshold", prefix, _fraction, base.act_threshold),
        exempt_channels=r.get(data, "exempt_channels", prefix, _strings, base.exempt_channels),
        exempt_roles=r.get(data, "exempt_roles", prefix, _strings, base.exempt_roles),
        allowlist=r.get(data, "allowlist", prefix, _strings, base.allowlist),
        rule_packs=rule_packs,
        escalation=escalation,
        mod_channel=r.get(data, "mod_channel", prefix, _str, base.mod_channel) if server else None,
        moderators=r.get(data, "moderators", prefix, _strings, base.moderators) if server else None,
    )
    if policy.act_threshold is not None and policy.act_threshold < policy.flag_threshold:
        r.problem(prefix + "act_threshold", "must not be lower than flag_threshold")
    return policy


_TOP_KEYS = {
    "database",
    "content_dir",
    "retention_days",
    "log_level",
    "moderation",
    "servers",
    "discord",
    "slack",
    "console",
}


def server_policy(base: Policy, overrides: Mapping[str, Any], source: str) -> Policy:
    """`base` with a server's run-time overrides applied; raises ConfigError naming each bad key."""
    r = _Reader(source)
    for key in set(overrides) - RUNTIME_KEYS:
        r.problem(str(key), f"cannot be changed at run time (expected one of: {', '.join(sorted(RUNTIME_KEYS))})")
    policy = _policy(r, {k: v for k, v in overrides.items() if k in RUNTIME_KEYS}, "", base, Path("."), server=True)
    if r.problems:
        raise ConfigError(r.problems)
    return policy


def parse_settings(data: Any, source: str, env: Mapping[str, str], here: Path) -> Settings:
    """Build Settings from parsed YAML and the environment; raises ConfigError listing every problem."""
    r = _Reader(source)
    if data is None:
        data = {}
    if not isinstance(data, Mapping):
        raise ConfigError([f"{source}: (top level): must be a mapping of keys, got {type(data).__name__}"])
    r.unknown(data, _TOP_KEYS, "")
    policy = _policy(r, r.section(data, "moderation", ""), "moderation.", Policy(), here)
    servers: dict[str, Policy] = {}
    for server_id, overrides in r.section(data, "servers", "").items():
        prefix = f"servers.{server_id}."
        if not isinstance(overrides, Mapping):
            r.problem(prefix.rstrip("."), "must be a mapping of moderation keys")
            continue
        servers[str(server_id)] = _policy(r, overrides, prefix, policy, here, server=True)

    d = r.section(data, "discord", "")
    r.unknown(
        d,
        {"mod_channel", "moderator_roles", "shard_count", "shard_ids", "default_timeout_minutes"},
        "discord.",
    )
    shard_count = r.get(d, "shard_count", "discord.", _int(1), None)
    shard_ids_raw = r.get(d, "shard_ids", "discord.", _strings, None)
    shard_ids: tuple[int, ...] | None = None
    if shard_ids_raw is not None:
        try:
            shard_ids = tuple(int(s) for s in shard_ids_raw)
        except ValueError:
            r.problem("discord.shard_ids", "must be a list of whole numbers")
        if shard_ids and (shard_count is None or any(not 0 <= s < shard_count for s in shard_ids)):
            r.problem("discord.shard_ids", "needs shard_count, and every id must be below it")
    discord = DiscordSettings(
        token=env.get("DISCORD_TOKEN", ""),
        mod_channel=r.get(d, "mod_channel", "discord.", _str, ""),
        moderator_roles=r.get(d, "moderator_roles", "discord.", _strings, ()),
        shard_count=shard_count,
        shard_ids=shard_ids,
        default_timeout_minutes=r.get(d, "default_timeout_minutes", "discord.", _int(1, 40320), 60),
    )

    s = r.section(data, "slack", "")
    r.unknown(s, {"mode", "host", "port", "path", "mod_channel", "moderators", "answer_in_channel"}, "slack.")
    slack = SlackSettings(
        mode=r.get(s, "mode", "slack.", _choice("http", "socket"), "http"),
        host=r.get(s, "host", "slack.", _str, "0.0.0.0"),
        port=r.get(s, "port", "slack.", _int(0, 65535), 3000),
        path=r.get(s, "path", "slack.", _str, "/slack/events"),
        mod_channel=r.get(s, "mod_channel", "slack.", _str, ""),
        moderators=r.get(s, "moderators", "slack.", _strings, ()),
        answer_in_channel=r.get(s, "answer_in_channel", "slack.", _bool, False),
        bot_token=env.get("SLACK_BOT_TOKEN", ""),
        signing_secret=env.get("SLACK_SIGNING_SECRET", ""),
        app_token=env.get("SLACK_APP_TOKEN", ""),
        admin_token=env.get("SLACK_ADMIN_TOKEN", ""),
        api_url=env.get("SLACK_API_URL", ""),
    )

    c = r.section(data, "console", "")
    r.unknown(c, {"moderators", "user", "channel"}, "console.")
    console = ConsoleSettings(
        moderators=r.get(c, "moderators", "console.", _strings, ("mod",)),
        user=r.get(c, "user", "console.", _str, "you"),
        channel=r.get(c, "channel", "console.", _str, "general"),
    )

    content_raw = r.get(data, "content_dir", "", _str, None)
    content_dir = None if content_raw is None else here / content_raw
    if content_dir is not None and not content_dir.is_dir():
        r.problem("content_dir", f"no such directory: {content_raw}")
    settings = Settings(
        database=here / r.get(data, "database", "", _str, DEFAULT_DATABASE),
        content_dir=content_dir,
        retention_days=r.get(data, "retention_days", "", _int(1, 3650), 30),
        log_level=r.get(data, "log_level", "", _choice("DEBUG", "INFO", "WARNING", "ERROR"), "INFO"),
        policy=policy,
        servers=servers,
        discord=discord,
        slack=slack,
        console=console,
        source=source,
    )
    if r.problems:
        raise ConfigError(r.problems)
    return settings


def resolve_config_path(explicit: str | None, env: Mapping[str, str] | None = None) -> Path | None:
    """Pick the config file: `--config`, then $DOSEWISE_CONFIG, then ./config.yaml if it exists."""
    env = os.environ if env is None else env
    if explicit:
        return Path(explicit)
    if env.get("DOSEWISE_CONFIG"):
        return Path(env["DOSEWISE_CONFIG"])
    default = Path(DEFAULT_CONFIG_NAME)
    return default if default.is_file() else None


def load_settings(path: str | Path | None, env: Mapping[str, str] | None = None) -> Settings:
    """Read a YAML config (or defaults when `path` is None) plus secrets from the environment."""
    env = os.environ if env is None else env
    if path is None:
        return parse_settings({}, "<defaults>", env, Path.cwd())
    path = Path(path)
    source = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError([f"{source}: (file): not found"]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError([f"{source}: (file): cannot be read: {exc}"]) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark is not None else "(syntax)"
        what = getattr(exc, "problem", None) or str(exc)
        raise ConfigError([f"{source}: {where}: invalid YAML: {what}"]) from None
    return parse_settings(data, source, env, path.resolve().parent)
