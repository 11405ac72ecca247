"""Background processes of the stack: started in their own session (process group), output to
.local/logs/<name>.log, pid in .local/pids/<name>.pid; stopped by group so children go too."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from pathlib import Path

from devstack.layout import Layout


def pid_alive(pid: int) -> bool:
    """Alive and not a zombie (a dead child we have not reaped yet still answers kill(pid, 0))."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True  # no /proc (not Linux): trust kill()
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def read_pid(path: Path) -> int | None:
    try:
        return int(path.read_text().strip())
    except (OSError, ValueError):
        return None


def recorded(layout: Layout) -> dict[str, int]:
    """name -> pid of every recorded process that is still alive; stale pid files are removed."""
    alive: dict[str, int] = {}
    if not layout.pids.is_dir():
        return alive
    for path in sorted(layout.pids.glob("*.pid")):
        pid = read_pid(path)
        if pid is not None and pid_alive(pid):
            alive[path.stem] = pid
        else:
            path.unlink(missing_ok=True)
    return alive


def spawn(layout: Layout, name: str, argv: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    log = layout.log(name).open("ab")
    log.write(f"\n===== {time.strftime('%Y-%m-%d %H:%M:%S')} starting: {' '.join(argv)}\n".encode())
    log.flush()
    proc = subprocess.Popen(
        argv,
        cwd=layout.repo,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
        # Own session: Ctrl+C in the terminal reaches only us, and we stop each child's whole group.
        start_new_session=True,
    )
    log.close()
    layout.pid(name).write_text(f"{proc.pid}\n")
    return proc


def stop_all(pids: dict[str, int], timeout_s: float = 25.0, *, groups: bool = True) -> list[str]:
    """SIGTERM every process (group) at once, wait for all, SIGKILL what is left. Returns the names
    that had to be killed."""

    def send(pid: int, sig: signal.Signals) -> None:
        try:
            if groups:
                os.killpg(pid, sig)
            else:
                os.kill(pid, sig)
        except ProcessLookupError:
            pass
        except PermissionError:
            os.kill(pid, sig)

    for pid in pids.values():
        send(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        for pid in pids.values():
            _reap(pid)
        if not any(pid_alive(pid) for pid in pids.values()):
            break
        time.sleep(0.2)
    # Typically the scheduler, still finishing tasks: those runs fail and Airflow retries them.
    killed = [name for name, pid in pids.items() if pid_alive(pid)]
    if groups:
        # SIGKILL the groups even when the leader exited: children (uvicorn workers, task
        # runners) must not outlive it.
        for pid in pids.values():
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pid, signal.SIGKILL)
    else:
        for name in killed:
            send(pids[name], signal.SIGKILL)
    for pid in pids.values():
        _reap(pid)
    return killed


def _reap(pid: int) -> None:
    # Only our own children can be reaped; for others (make stop) there is nothing to do.
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)


def tail(path: Path, lines: int = 15) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return ""
    return "\n".join("    " + line for line in text.splitlines()[-lines:])
