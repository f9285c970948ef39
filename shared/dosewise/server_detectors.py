"""One compiled detector per distinct server policy (rule packs, allowlist, flag threshold), built once."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Protocol

from dosewise.models import Verdict
from dosewise.server_policies import ServerPolicies
from dosewise.settings import Policy, Settings


class Screener(Protocol):
    """Anything that judges a text: the detector, as the moderation workflow sees it."""

    def screen(self, text: str) -> Verdict:
        """Judge one message text."""
        ...


# (extra rule packs, allowlist phrases, flag threshold) → a screener.
ScreenerBuilder = Callable[[tuple[Path, ...], tuple[str, ...], float], Screener]


def build_detector(extra_packs: tuple[Path, ...], allowlist: tuple[str, ...], flag_threshold: float) -> Screener:
    """Compile the real detector: the default rule pack plus a server's extra packs and allowlist."""
    # Imported here so that loading the core does not compile rule packs until a bot actually starts.
    from dosewise.screening import Detector

    return Detector.build(extra_packs=extra_packs, allowlist=allowlist, flag_threshold=flag_threshold)


class ServerDetectors:
    """Detectors per server; servers with the same screening policy share one compiled detector."""

    def __init__(
        self, settings: Settings, build: ScreenerBuilder = build_detector, policies: ServerPolicies | None = None
    ) -> None:
        self._settings = settings
        self.policies = policies if policies is not None else ServerPolicies(settings)
        self._build = build
        self._by_key: dict[tuple[tuple[Path, ...], tuple[str, ...], float], Screener] = {}
        self._by_server: dict[str, Screener] = {}

    def for_server(self, server_id: str) -> Screener:
        """The detector for a server's policy (compiled on first use)."""
        found = self._by_server.get(server_id)
        if found is None:
            found = self._for_policy(self.policies.policy_for(server_id))
            self._by_server[server_id] = found
        return found

    def update_policies(self, rows: Mapping[str, Mapping[str, Any]]) -> bool:
        """Take new run-time overrides (server → key → value); True if any server's policy may have changed."""
        if not self.policies.update(rows):
            return False
        # Compiled detectors stay keyed by their screening policy; only the server → detector map is redone.
        self._by_server.clear()
        return True

    def warm(self) -> None:
        """Compile the default and every configured server's detector now, so bad rule packs fail at start."""
        self._for_policy(self._settings.policy)
        for server_id in self._settings.servers:
            self.for_server(server_id)

    def _for_policy(self, policy: Policy) -> Screener:
        key = (tuple(policy.rule_packs), tuple(policy.allowlist), policy.flag_threshold)
        found = self._by_key.get(key)
        if found is None:
            found = self._build(*key)
            self._by_key[key] = found
        return found
