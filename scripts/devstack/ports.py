"""Is a TCP port free, and who holds it if not."""

from __future__ import annotations

import errno
import shutil
import socket
import subprocess

from devstack.errors import DevstackError


def port_is_free(host: str, port: int) -> bool:
    """True when we could listen on host:port right now."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        # SO_REUSEADDR so a port left in TIME_WAIT by a previous run is not reported as busy;
        # on Linux a live listener still makes bind() fail.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            if exc.errno in (errno.EADDRINUSE, errno.EACCES):
                return False
            raise
    return True


def port_owner(port: int) -> str | None:
    """Best effort 'users:(("python",pid=123,fd=3))' from ss, to tell the user who holds the port."""
    if shutil.which("ss") is None:
        return None
    try:
        out = subprocess.run(
            ["ss", "-ltnpH", f"sport = :{port}"], capture_output=True, text=True, timeout=5, check=False
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    for line in out.splitlines():
        if "users:" in line:
            return line[line.index("users:") :].strip()
    return None


def free_port_from(host: str, start: int, taken: set[int]) -> int | None:
    """The first port at or above ``start`` that is free and not in ``taken`` (None past 65535)."""
    for port in range(start, 65536):
        if port not in taken and port_is_free(host, port):
            return port
    return None


def require_free_ports(host: str, wanted: dict[str, tuple[int, str]]) -> None:
    """Raise one error naming every busy port, what we wanted it for and the variable that moves it,
    with a ready-to-type `make run` line that moves them all to free ports.

    ``wanted`` maps a purpose ("Airflow api-server") to (port, env var that overrides it).
    """
    busy = []
    moves = []
    taken = {port for port, _ in wanted.values()}
    for purpose, (port, env_var) in wanted.items():
        if not port_is_free(host, port):
            owner = port_owner(port)
            held = f" (held by {owner})" if owner else ""
            busy.append(
                f"  - port {port} for the {purpose} is already in use on {host}{held}; set {env_var}=<port>"
            )
            alternative = free_port_from(host, port + 1, taken)
            if alternative is not None:
                taken.add(alternative)
                moves.append(f"{env_var}={alternative}")
    if busy:
        suggestion = f"\nFor example: {' '.join(moves)} make run" if moves else ""
        raise DevstackError(
            "cannot start: ports in use\n" + "\n".join(busy) + suggestion + "\n"
            "Is another `make run` still up? `make stop` stops it; "
            "otherwise free the port or choose another one."
        )
