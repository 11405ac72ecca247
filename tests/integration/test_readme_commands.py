"""The READMEs' commands as a reader sees them (``tests/support/readme_commands.py`` finds them).

Each of them is run, pasted as written, against a running `make run` stack by
``tests/integration/test_devstack.py::test_make_run_wires_everything_stops_cleanly_and_keeps_data``.
"""

from __future__ import annotations

from tests.support.readme_commands import READMES, readme_commands


def test_the_readmes_commands_are_found_and_agree() -> None:
    """Pure: the extraction sees what a reader sees, in both languages."""
    en, pt = (readme_commands(path) for path in READMES)
    assert len(en) == len(pt), (en, pt)
    texts = {c.text for c in en}
    assert 'make airflow ARGS="dags pause etrac_daily"' in texts
    assert any(c.typed_inside and c.typed_inside[0].startswith("airflow connections add") for c in en)
    # Nothing old-style is left: every bare command is one typed inside `make shell`.
    assert all(c.text.startswith(("make ", "eval ")) for c in en + pt)
