"""``python -m sandbox``: serve the fake Auvo and e-Track APIs on loopback until Ctrl+C / SIGTERM.

Every field of ``EtracConfig`` and ``AuvoConfig`` is a flag (``--etrac-<field>``,
``--auvo-<field>``, underscores as dashes), so each quirk can be reproduced from a shell; the
running servers also accept changes over HTTP (``POST /_sandbox/etrac/config``,
``POST /_sandbox/auvo/config``) and faults (``POST /_sandbox/faults``).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import signal
import sys
import threading
import typing
from collections.abc import Sequence
from datetime import datetime
from types import FrameType
from typing import Any

from sandbox.core import SAO_PAULO, Clock, SandboxServer

EPILOG = """\
examples:
  python -m sandbox                                   both fakes on :8081 (Auvo) and :8082 (e-Track)
  python -m sandbox --seed 3 --vehicles 1000          a bigger e-Track fleet
  python -m sandbox --now 2025-03-13T12:00:00-03:00   pin the sandbox clock
  python -m sandbox --etrac-errors-as-200 1 --etrac-date-format iso_space
  python -m sandbox --etrac-option order=desc --auvo-option tasks_per_day=50

at run time (curl):
  curl -u sandbox@example.com:1234567890123 -X POST http://127.0.0.1:8082/monitoramento/ultimas-posicoes
  curl http://127.0.0.1:8082/_sandbox/etrac/help
  curl -X POST -d '{"long_window": "truncate"}' http://127.0.0.1:8082/_sandbox/etrac/config
  curl -X POST -d '{"kind": "status", "status": 503, "times": 3}' http://127.0.0.1:8082/_sandbox/faults

ETRAC_FAKE_ERRORS_AS_200=1 in the environment turns on --etrac-errors-as-200 (etrac-api.md §6).
"""


def main(argv: Sequence[str] | None = None) -> int:
    from sandbox.etrac import EtracConfig
    from sandbox.etrac import make_server as make_etrac

    auvo = _import_auvo()
    parser = build_parser(EtracConfig, auvo[0] if auvo else None)
    args = parser.parse_args(argv)
    clock = Clock(datetime.fromisoformat(args.now)) if args.now else Clock()
    if args.now and clock.now().tzinfo is None:
        clock.set(clock.now().replace(tzinfo=SAO_PAULO))

    servers: list[tuple[str, SandboxServer]] = []
    try:
        if not args.no_etrac:
            etrac_config = config_from_args(EtracConfig, args, "etrac", parser)
            if os.environ.get("ETRAC_FAKE_ERRORS_AS_200") == "1":
                etrac_config.errors_as_200 = True
            servers.append(
                ("e-Track", make_etrac(etrac_config, clock=clock, port=args.etrac_port, host=args.host))
            )
        if not args.no_auvo:
            if auvo is None:
                parser.error(f"the Auvo sandbox cannot be imported ({_AUVO_ERROR}); use --no-auvo")
            auvo_config = config_from_args(auvo[0], args, "auvo", parser)
            servers.append(("Auvo", auvo[1](auvo_config, clock=clock, port=args.auvo_port, host=args.host)))
    except OSError as exc:
        for _, server in servers:
            server.stop()
        print(f"sandbox: cannot listen on {args.host}: {exc}", file=sys.stderr)
        return 2

    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    for name, server in servers:
        server.start()
        print(describe(name, server, args.host), flush=True)
    print(
        f"clock: {'pinned at ' + clock.now().isoformat() if args.now else 'real time'}; Ctrl+C stops.",
        flush=True,
    )
    while not stop.wait(0.5):
        pass
    for _, server in servers:
        server.stop()
    print("sandbox stopped", flush=True)
    return 0


def describe(name: str, server: SandboxServer, host: str) -> str:
    base = f"http://{host}:{server.port}"
    config: Any = getattr(server, "config", None)
    if name == "e-Track":
        email, key = next(iter(config.credentials.items()))
        return (
            f"e-Track sandbox: {base}/monitoramento  (Basic auth user {email}, key {key}; "
            f"{len(config.credentials)} account(s); admin {base}/_sandbox/etrac/help)"
        )
    api_key = getattr(config, "api_key", "sandbox-api-key")
    api_token = getattr(config, "api_token", "sandbox-api-token")
    return f"Auvo sandbox:    {base}/v2  (apiKey {api_key}, apiToken {api_token}; admin {base}/_sandbox/auvo)"


# ---- command line -------------------------------------------------------------------------------

_AUVO_ERROR = ""


def _import_auvo() -> tuple[type[Any], Any] | None:
    global _AUVO_ERROR
    try:
        from sandbox.auvo import AuvoConfig
        from sandbox.auvo import make_server as make_auvo
    except ImportError as exc:  # the Auvo fake is developed separately; e-Track still works
        _AUVO_ERROR = f"{type(exc).__name__}: {exc}"
        return None
    return AuvoConfig, make_auvo


def build_parser(etrac_cls: type[Any], auvo_cls: type[Any] | None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m sandbox",
        usage="python -m sandbox [--host H] [--auvo-port P] [--etrac-port P] [--seed N] [--vehicles N] "
        "[--now ISO] [--etrac-FIELD V ...] [--auvo-FIELD V ...]",
        description="Serve the fake Auvo (/v2) and e-Track (/monitoramento) APIs on loopback, with "
        "deterministic worlds, until Ctrl+C or SIGTERM. No credentials needed.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    common = parser.add_argument_group("common")
    common.add_argument("--host", default="127.0.0.1", help="address to bind (default: %(default)s)")
    common.add_argument("--auvo-port", type=int, default=8081, help="Auvo port (default: %(default)s)")
    common.add_argument("--etrac-port", type=int, default=8082, help="e-Track port (default: %(default)s)")
    common.add_argument("--seed", type=int, help="seed of both worlds (per-API --*-seed wins)")
    common.add_argument("--vehicles", type=int, help="e-Track fleet size (same as --etrac-vehicles)")
    common.add_argument("--now", help="pin the sandbox clock, ISO 8601 (local São Paulo time without offset)")
    common.add_argument("--no-auvo", action="store_true", help="serve only e-Track")
    common.add_argument("--no-etrac", action="store_true", help="serve only Auvo")
    _add_config_flags(parser, "etrac", "e-Track world and switches (EtracConfig, etrac-api.md §6)", etrac_cls)
    if auvo_cls is not None:
        _add_config_flags(parser, "auvo", "Auvo world and switches (AuvoConfig, auvo-api.md §8.5)", auvo_cls)
    else:
        parser.add_argument(
            "--auvo-option",
            action="append",
            default=[],
            metavar="KEY=VALUE",
            help=f"Auvo setting (Auvo sandbox not importable: {_AUVO_ERROR})",
        )
    return parser


def _add_config_flags(parser: argparse.ArgumentParser, prefix: str, title: str, cls: type[Any]) -> None:
    from sandbox.etrac.config import is_supported

    group = parser.add_argument_group(title)
    hints = typing.get_type_hints(cls)
    defaults = cls()
    for f in dataclasses.fields(cls):
        if not is_supported(hints[f.name]):
            continue
        default = getattr(defaults, f.name)
        text = f.metadata.get("help") or f"{cls.__name__}.{f.name}"
        shown = ",".join(map(str, default)) if isinstance(default, tuple) else default
        group.add_argument(
            f"--{prefix}-{f.name.replace('_', '-')}",
            dest=f"{prefix}__{f.name}",
            metavar=_metavar(hints[f.name]),
            help=f"{text} (default: {shown})".replace("%", "%%"),
        )
    group.add_argument(
        f"--{prefix}-option",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help=f"any {cls.__name__} field by name (repeatable)",
    )


def _metavar(tp: Any) -> str:
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin is typing.Literal:
        return "{" + ",".join(map(str, args)) + "}"
    if origin is tuple:
        return "LOW,HIGH"
    if origin is dict:
        return "EMAIL:KEY[,...]"
    if type(None) in args:
        inner = next(a for a in args if a is not type(None))
        return f"{_metavar(inner)}|none"
    return {"date": "YYYY-MM-DD", "bool": "0|1"}.get(
        getattr(tp, "__name__", ""), getattr(tp, "__name__", "VALUE").upper()
    )


def config_from_args(
    cls: type[Any], args: argparse.Namespace, prefix: str, parser: argparse.ArgumentParser
) -> Any:
    """``cls()`` with --seed/--vehicles, then --<prefix>-option items, then --<prefix>-<field> flags."""
    from sandbox.etrac.config import ConfigError, coerce_value

    hints = typing.get_type_hints(cls)
    raw: dict[str, Any] = {}
    if args.seed is not None and "seed" in hints:
        raw["seed"] = args.seed
    if prefix == "etrac" and args.vehicles is not None:
        raw["vehicles"] = args.vehicles
    for item in getattr(args, f"{prefix}_option"):
        key, sep, value = item.partition("=")
        if not sep:
            parser.error(f"--{prefix}-option expects KEY=VALUE, got {item!r}")
        raw[key.strip()] = value
    for name in hints:
        value = getattr(args, f"{prefix}__{name}", None)
        if value is not None:
            raw[name] = value
    try:
        unknown = sorted(set(raw) - set(hints))
        if unknown:
            raise ConfigError(f"unknown {cls.__name__} field(s): {', '.join(unknown)}")
        changes = {name: coerce_value(hints[name], value, name) for name, value in raw.items()}
        return dataclasses.replace(cls(), **changes)
    except (ConfigError, TypeError, ValueError) as exc:
        parser.error(str(exc))


if __name__ == "__main__":
    sys.exit(main())
