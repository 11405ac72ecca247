"""The e-Track ("monitoramento") API as an Airflow hook.

One ``requests`` session per hook, authenticated with HTTP Basic from the ``etrac_api``
connection (login = the platform e-mail, password = the API key), driven through the shared
``HttpClient`` so timeouts, retries with jittered backoff and ``Retry-After`` behave as for
Auvo. e-Track specifics handled here:

- every data endpoint is a POST with a JSON body;
- an ``erro`` key in the body is an error whatever the HTTP status (the API may send its
  errors with HTTP 200); it is retried when its status or ``code_header`` is 429 or 5xx and
  fails at once otherwise;
- "this vehicle has nothing / is unknown" answers are an empty list, not a failure: a plate the
  warehouse remembers but the account no longer has must not fail the day;
- a rejected credential fails at once and says so, whatever status carried it (401, or 200 with
  ``erro`` and a ``code_header`` that may be anything): "answered HTTP 200: Usuário ou chave de
  API inválidos" alone does not tell an operator to fix the connection.

The hook knows nothing about tables: it yields the API's records as dicts.
"""

from __future__ import annotations

import logging
import unicodedata
from collections.abc import Callable
from datetime import date
from typing import Any

import requests

from sync_apis.api_hook import ApiHook
from sync_apis.etrac import streams
from sync_apis.etrac.parse import api_date, api_trip_date, envelope_problem, error_message, records_of
from sync_apis.http import (
    ANY_JSON,
    ApiError,
    Expect,
    HttpClient,
    HttpPolicy,
    Pacer,
    Verdict,
    mask_secret,
)

# Where each stream is read from is the stream table's to say (etrac/streams.py).
LATEST, HISTORY, TRIPS = streams.TERMINALS.endpoint, streams.POSITIONS.endpoint, streams.TRIPS.endpoint
# e-Track documents neither timeouts nor a rate limit: HttpPolicy's defaults (60 s to answer,
# retries from 1 s, doubling). The DAG's retry Params override them per run.
DEFAULT_POLICY = HttpPolicy()

# Where each endpoint's records are (etrac-api.md §2); anything else is retried, then fails.
LIST_KEYS: dict[str, tuple[str, ...]] = {
    LATEST: ("retorno",),
    HISTORY: ("posicoes",),
    TRIPS: ("retorno", "conducoes"),
}
ENVELOPES: dict[str, Expect] = {
    LATEST: Expect('{"retorno": [...]}', lambda p: envelope_problem(p, LIST_KEYS[LATEST])),
    HISTORY: Expect(
        '{"terminal": {...}, "posicoes": [...]}', lambda p: envelope_problem(p, LIST_KEYS[HISTORY])
    ),
    TRIPS: Expect('{"retorno": [...]} (or "conducoes")', lambda p: envelope_problem(p, LIST_KEYS[TRIPS])),
}

# Error texts that mean "no data for this plate/day" rather than "the request is wrong".
# Compared accent- and case-insensitively. "Rota não encontrada" (unknown path) is NOT here.
NO_DATA_MESSAGES = (
    "terminal nao encontrado",
    "veiculo nao encontrado",
    "placa nao encontrada",
    "nenhum registro",
    "nenhuma posicao",
    "nenhum dado",
    "nenhuma viagem",
    "nenhuma conducao",
    "sem dados",
    "sem registros",
    "sem posicoes",
)


# Error texts that mean "these credentials are not accepted" (folded like NO_DATA_MESSAGES).
AUTH_MESSAGES = (
    "chave de api invalid",
    "chave invalid",
    "usuario ou chave",
    "usuario ou senha",
    "credenciais invalid",
    "nao autorizado",
    "acesso negado",
    "unauthorized",
)


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


def is_no_data(message: str) -> bool:
    folded = _fold(message)
    return any(phrase in folded for phrase in NO_DATA_MESSAGES)


def is_auth_error(status: int | None, message: str) -> bool:
    """Whether an error answer rejects the credentials (by status, or by its words on HTTP 200)."""
    if status in (401, 403):
        return True
    folded = _fold(message)
    return any(phrase in folded for phrase in AUTH_MESSAGES)


def _code_header(payload: Any) -> int | None:
    if not isinstance(payload, dict):
        return None
    raw = str(payload.get("code_header") or "").strip()
    digits = raw[:3]
    return int(digits) if len(digits) == 3 and digits.isdigit() else None


def classify(response: requests.Response, payload: Any) -> Verdict:
    """e-Track's reading of a response: ``erro`` in the body is an error even with HTTP 200."""
    status = response.status_code
    failed = status >= 400 or error_message(payload) is not None
    if not failed:
        return "ok"
    code = _code_header(payload)
    if status == 429 or status >= 500 or (code is not None and (code == 429 or code >= 500)):
        return "retry"
    return "fail"


class EtracHook(ApiHook):
    """Domain methods over the e-Track API: ``latest()``, ``history(plate, day)``, ``trips(plate, day)``."""

    conn_name_attr = "etrac_conn_id"
    default_conn_name = "etrac_api"
    conn_type = "http"
    hook_name = "e-Track"

    def __init__(
        self,
        etrac_conn_id: str = default_conn_name,
        *,
        policy: HttpPolicy | None = None,
        pacer: Pacer | None = None,
        logger: logging.Logger | Any | None = None,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        super().__init__(
            etrac_conn_id,
            method="POST",
            policy=policy or DEFAULT_POLICY,
            pacer=pacer,
            logger=logger,
            sleep=sleep,
        )
        self.no_data_answers = 0

    def _open(self, session: requests.Session) -> HttpClient:
        """Basic auth from the connection's login/password (``HttpHook.get_conn`` puts them on
        the session); e-Track's answers read by ``classify``."""
        connection = self.get_connection(self.http_conn_id)
        # Airflow masks the password; the e-mail identifies the account and is masked too.
        mask_secret(connection.login)
        mask_secret(connection.password)
        session.headers.setdefault("Accept", "application/json")
        return HttpClient(session, self.base_url, self.policy, classify=classify, **self._client_options())

    def _records(self, endpoint: str, body: dict[str, Any] | None) -> list[dict[str, Any]]:
        """The endpoint's records; [] only for the API's own "no data" answers."""
        payload = self._post(endpoint, body, no_data_ok=True)
        return [] if payload is None else records_of(payload, *LIST_KEYS[endpoint])

    def _post(self, endpoint: str, body: dict[str, Any] | None, *, no_data_ok: bool) -> Any:
        try:
            reply = self.client.send("POST", endpoint, json=body, expect=ENVELOPES.get(endpoint, ANY_JSON))
        except ApiError as exc:
            if no_data_ok and exc.status is not None and exc.status < 500 and is_no_data(exc.api_message):
                self.no_data_answers += 1
                self.log.info("%s: no data (%s)", endpoint, exc.api_message)
                return None
            if is_auth_error(exc.status, exc.api_message):
                raise ApiError(
                    f"e-Track rejected the credentials of connection {self.http_conn_id!r} (login = the "
                    f"platform e-mail, password = its API key); check the connection. {exc}",
                    status=exc.status,
                    endpoint=exc.endpoint,
                    api_message=exc.api_message,
                ) from None
            raise
        return reply.payload

    def latest(self) -> list[dict[str, Any]]:
        """E1 ``/ultimas-posicoes``: the last fix of every vehicle of the account."""
        return self._records(LATEST, None)

    def history(self, plate: str, day: date) -> list[dict[str, Any]]:
        """E3 ``/ultimasposicoesterminal`` for one plate and local day (the ``data`` form)."""
        return self._records(HISTORY, {"placa": plate, "data": api_date(day)})

    def trips(self, plate: str, day: date) -> list[dict[str, Any]]:
        """E4 ``/resumoviagens`` for one plate and local day (``DD-MM-YYYY``)."""
        return self._records(TRIPS, {"placa": plate, "data": api_trip_date(day)})
