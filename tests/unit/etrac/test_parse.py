"""Pure parsing of e-Track values and records, with the ugly inputs the docs warn about."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from sync_apis import LOCAL_TZ as SAO_PAULO
from sync_apis.etrac import parse
from sync_apis.etrac.streams import POSITIONS, TERMINALS, TRIPS, Stream
from sync_apis.rejected import Rejected
from sync_apis.values import ETRAC

LOCAL_1432 = datetime(2025, 11, 15, 14, 32, 10, tzinfo=SAO_PAULO)


@pytest.mark.parametrize(
    "text",
    [
        "15/11/2025 14:32:10",
        "2025-11-15 14:32:10",
        "2025-11-15T14:32:10",
        "15-11-2025 14:32:10",
        " 15/11/2025  14:32:10 ",
        "2025-11-15T17:32:10Z",
        "2025-11-15T14:32:10-03:00",
        "2025-11-15T18:32:10+01:00",
    ],
)
def test_datetimes_in_every_accepted_form_are_the_same_instant(text: str) -> None:
    parsed = ETRAC.timestamp(text)
    assert parsed is not None and parsed.tzinfo is not None
    assert parsed == LOCAL_1432
    assert parsed.astimezone(UTC) == datetime(2025, 11, 15, 17, 32, 10, tzinfo=UTC)


def test_offsetless_times_are_sao_paulo_local() -> None:
    parsed = ETRAC.timestamp("10/03/2025 00:00:00")
    assert parsed is not None
    assert parsed.utcoffset() == timedelta(hours=-3)


def test_fractional_seconds_are_kept() -> None:
    parsed = ETRAC.timestamp("15/11/2025 14:32:10.250")
    assert parsed == LOCAL_1432.replace(microsecond=250000)


@pytest.mark.parametrize("text", ["15/11/2025", "15-11-2025", "2025-11-15"])
def test_plain_dates(text: str) -> None:
    assert ETRAC.date(text) == date(2025, 11, 15)
    assert ETRAC.timestamp(text) == datetime(2025, 11, 15, tzinfo=SAO_PAULO)


@pytest.mark.parametrize("text", [None, "", "  ", "0001-01-01T00:00:00", "0001-01-01 00:00:00", "null"])
def test_empty_dates_are_none(text: str | None) -> None:
    assert ETRAC.timestamp(text) is None


@pytest.mark.parametrize("text", ["31/02/2025 10:00:00", "yesterday", "15/11/25 14:32", 12345])
def test_bad_dates_raise(text: object) -> None:
    with pytest.raises(ValueError):
        ETRAC.timestamp(text)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("42 km/h", 42.0),
        ("0 km/h", 0.0),
        ("12,6 V", 12.6),
        ("12.6 V", 12.6),
        ("1.234,5", 1234.5),
        ("1,234.5", 1234.5),
        ("1.234.567", 1234567.0),
        ("-19.9166813", -19.9166813),
        ("-43,9344931", -43.9344931),
        (42, 42.0),
        (12.6, 12.6),
        ("  7 ", 7.0),
    ],
)
def test_numbers(value: object, expected: float) -> None:
    assert ETRAC.number(value) == pytest.approx(expected)


def test_dot_is_thousands_only_for_integer_fields() -> None:
    assert ETRAC.number("123.456 km", dot_groups_thousands=True) == 123456.0
    assert ETRAC.number("123.456 km") == pytest.approx(123.456)
    # a dot followed by other than three digits stays a decimal point even there
    assert ETRAC.number("123456.7 km", dot_groups_thousands=True) == pytest.approx(123456.7)


@pytest.mark.parametrize("value", ["km", "abc 12", "--5x", [1]])
def test_bad_numbers_raise(value: object) -> None:
    with pytest.raises(ValueError):
        ETRAC.number(value)


@pytest.mark.parametrize("value", [None, "", " "])
def test_empty_numbers_are_none(value: object) -> None:
    assert ETRAC.number(value) is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("abc-1d23", "ABC1D23"),
        ("ABC1D23", "ABC1D23"),
        (" abc 1234 ", "ABC1234"),
        ("", None),
        (None, None),
        ("AB#123", None),
    ],
)
def test_plates(value: object, expected: str | None) -> None:
    assert parse.normalize_plate(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [(1, True), (0, False), ("1", True), ("0", False), (True, True), ("ligada", True), (None, None)],
)
def test_ignition(value: object, expected: bool | None) -> None:
    assert ETRAC.boolean(value) is expected


def test_durations() -> None:
    assert ETRAC.duration("01:11:35") == timedelta(hours=1, minutes=11, seconds=35)
    assert ETRAC.duration("26:00:01") == timedelta(hours=26, seconds=1)
    assert ETRAC.duration("") is None
    with pytest.raises(ValueError):
        ETRAC.duration("1h11")


def test_request_date_forms() -> None:
    assert parse.api_date(date(2025, 3, 10)) == "10/03/2025"
    assert parse.api_trip_date(date(2025, 3, 10)) == "10-03-2025"


# --------------------------------------------------------------------------- records

E1_ITEM = {
    "placa": "ABC1D23",
    "descricao": "VW CONSTELLATION 24.280 - CAMINHÃO 12",
    "frota": "12",
    "equipamento_serial": "860000000000001",
    "data_transmissao": "15/11/2025 14:32:10",
    "data_gravacao": "15/11/2025 14:32:14",
    "latitude": "-19.9166813",
    "longitude": "-43.9344931",
    "logradouro": "Av. Amazonas, 1234 - Centro, Belo Horizonte - MG",
    "velocidade": 42,
    "ignicao": 1,
    "odometro": 123456,
    "odometro_can": 0,
    "horimetro": 4321,
    "bateria": 12.6,
}


def as_dict(row: dict, stream: Stream) -> dict:
    """The builder's row, checked to carry exactly the stream's columns (those it adds aside)."""
    added = {"positions": {"origin"}, "trips": {"reported_day"}}.get(stream.name, set())
    assert set(row) == set(stream.all_columns) - added
    return row


def test_position_row_from_a_documented_item() -> None:
    row = as_dict(POSITIONS.build(E1_ITEM), POSITIONS)
    assert row["placa"] == "ABC1D23"
    assert row["data_transmissao"] == LOCAL_1432
    assert row["data_gravacao"] == LOCAL_1432 + timedelta(seconds=4)
    assert row["latitude"] == pytest.approx(-19.9166813)
    assert row["velocidade"] == 42.0 and row["ignicao"] is True
    assert row["odometro"] == 123456.0 and row["bateria"] == 12.6
    assert row["extra"] == {}


def test_position_row_formatted_mode_and_null_logradouro() -> None:
    item = {
        **E1_ITEM,
        "velocidade": "42 km/h",
        "odometro": "123.456 km",
        "bateria": "12,6 V",
        "horimetro": "1.234,5",
        "logradouro": None,
        "data_transmissao": "2025-11-15 14:32:10",
        "placa": "abc-1d23",
    }
    row = as_dict(POSITIONS.build(item), POSITIONS)
    assert row["placa"] == "ABC1D23"
    assert row["data_transmissao"] == LOCAL_1432
    assert row["velocidade"] == 42.0
    assert row["odometro"] == 123456.0
    assert row["bateria"] == pytest.approx(12.6)
    assert row["horimetro"] == pytest.approx(1234.5)
    assert row["logradouro"] is None
    assert row["extra"] == {}


def test_history_item_without_plate_takes_the_requested_one() -> None:
    item = {k: v for k, v in E1_ITEM.items() if k not in ("placa", "equipamento_serial", "data_gravacao")}
    row = as_dict(POSITIONS.build(item, plate="abc-1d23"), POSITIONS)
    assert row["placa"] == "ABC1D23"
    assert row["equipamento_serial"] is None and row["data_gravacao"] is None


def test_unknown_fields_go_to_extra_and_only_them() -> None:
    item = {**E1_ITEM, "temperatura": "4,5 °C", "evento": {"codigo": 7}}
    row = as_dict(POSITIONS.build(item), POSITIONS)
    assert row["extra"] == {"temperatura": "4,5 °C", "evento": {"codigo": 7}}


def test_unreadable_known_values_become_null_and_are_kept() -> None:
    item = {**E1_ITEM, "bateria": "N/D volts", "ignicao": "talvez"}
    row = as_dict(POSITIONS.build(item), POSITIONS)
    assert row["bateria"] is None and row["ignicao"] is None
    assert row["extra"] == {"_invalid": {"bateria": "N/D volts", "ignicao": "talvez"}}


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"placa": None}, "missing placa"),
        ({"placa": "###"}, "unreadable placa"),
        ({"data_transmissao": ""}, "missing data_transmissao"),
        ({"data_transmissao": "ontem"}, "unreadable data_transmissao"),
        ({"data_transmissao": "0001-01-01T00:00:00"}, "empty data_transmissao"),
        ({"latitude": None}, "missing latitude"),
        ({"latitude": "-99.5"}, "latitude out of range"),
        ({"longitude": "leste"}, "unreadable longitude"),
    ],
)
def test_unusable_positions_are_rejected_with_a_reason(change: dict, reason: str) -> None:
    with pytest.raises(Rejected) as info:
        POSITIONS.build({**E1_ITEM, **change})
    assert info.value.reason.startswith(reason)


def test_non_object_records_are_rejected() -> None:
    with pytest.raises(Rejected, match="not a JSON object"):
        POSITIONS.build(["ABC1D23"])


def test_terminal_row() -> None:
    row = as_dict(TERMINALS.build({**E1_ITEM, "frota": 12}), TERMINALS)
    assert row["placa"] == "ABC1D23" and row["frota"] == "12"
    assert row["equipamento_serial"] == "860000000000001"
    assert row["data_transmissao"] == LOCAL_1432
    assert row["raw"]["descricao"].startswith("VW")


def test_terminal_without_fix_is_kept() -> None:
    row = as_dict(TERMINALS.build({"placa": "XYZ-9876", "data_transmissao": ""}), TERMINALS)
    assert row["placa"] == "XYZ9876" and row["data_transmissao"] is None


TRIP = {
    "cliente": "EMPRESA EXEMPLO LTDA", "cliente_fantasia": "EXEMPLO", "placa": "ABC1D23",
    "descricao": "VW", "frota": "12",
    "data_inicio_conducao": "15/11/2025 06:01:05", "data_fim_conducao": "15/11/2025 07:12:40",
    "latitude_inicio_conducao": "-19.9012", "longitude_inicio_conducao": "-43.9501",
    "latitude_fim_conducao": "-19.8123", "longitude_fim_conducao": "-43.9788",
    "localizacao_inicio_conducao": "R. Exemplo, 10", "localizacao_fim_conducao": "Rod. BR-040",
    "odometro_inicio_conducao": "123400", "odometro_fim_conducao": "123431",
    "duracao_conducao": "01:11:35", "distancia_conducao": "31,2",
    "condutor_nome": "", "condutor_identificacao": "",
}  # fmt: skip


def test_trip_row() -> None:
    row = as_dict(TRIPS.build(TRIP), TRIPS)
    assert row["data_inicio_conducao"] == datetime(2025, 11, 15, 6, 1, 5, tzinfo=SAO_PAULO)
    assert row["duracao_conducao"] == timedelta(hours=1, minutes=11, seconds=35)
    assert row["distancia_conducao"] == pytest.approx(31.2)
    assert row["condutor_nome"] is None
    assert row["raw"] == TRIP


def test_trip_without_start_is_rejected() -> None:
    with pytest.raises(Rejected, match="missing data_inicio_conducao"):
        TRIPS.build({**TRIP, "data_inicio_conducao": None})


def test_envelopes() -> None:
    assert parse.records_of({"retorno": [1], "code_header": "200"}, "retorno") == [1]
    assert parse.records_of({"conducoes": [2]}, "retorno", "conducoes") == [2]
    assert parse.records_of({"terminal": {"placa": "X"}, "posicoes": []}, "posicoes") == []
    # Undocumented shapes are not "no data" (they used to be accepted: a bare list, any list
    # under another key, a null list): each names what it is.
    for payload, problem in (
        ({"lista": [3]}, "an object without 'retorno'"),
        ({"posicoes": None, "terminal": {}}, "'posicoes' is null"),
        ([4], "a JSON list instead of an object"),
        (None, "a JSON null instead of an object"),
        ({"code_header": "200"}, "an object without 'retorno'"),
        ({"retorno": {"placa": "X"}}, "'retorno' is object"),
        ({"terminal": [], "posicoes": []}, "'terminal' is list"),
    ):
        keys = ("posicoes",) if "posicoes" in str(payload) else ("retorno",)
        with pytest.raises(ValueError, match=problem):
            parse.records_of(payload, *keys)
    assert (
        parse.error_message({"erro": "Terminal não encontrado", "code_header": "400"})
        == "Terminal não encontrado"
    )
    assert parse.error_message({"retorno": []}) is None
    assert parse.error_message({"erro": ""}) is None


# --------------------------------------------------------------------------- hostile records


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"data_transmissao": "31/02/2025 10:00:00"}, "unreadable data_transmissao: '31/02/2025 10:00:00'"),
        ({"data_transmissao": "2025-13-45T99:00:00"}, "unreadable data_transmissao: '2025-13-45T99:00:00'"),
        ({"data_transmissao": "29/02/2025"}, "unreadable data_transmissao"),
        ({"data_transmissao": {"d": "15/11/2025"}}, "unreadable data_transmissao"),
        ({"data_transmissao": 1731681130}, "unreadable data_transmissao"),
        ({"latitude": "91"}, "latitude out of range"),
        ({"latitude": -90.0001}, "latitude out of range"),
        ({"longitude": "180,5"}, "longitude out of range"),
        ({"longitude": -181}, "longitude out of range"),
        ({"latitude": "abc"}, "unreadable latitude"),
        ({"latitude": {"graus": -19}}, "unreadable latitude"),
        ({"latitude": True}, "unreadable latitude"),
        ({"longitude": [-43.9]}, "unreadable longitude"),
        ({"placa": {"numero": "ABC1D23"}}, "unreadable placa"),
    ],
)
def test_positions_with_an_impossible_key_field_are_rejected(change: dict, reason: str) -> None:
    with pytest.raises(Rejected) as info:
        POSITIONS.build({**E1_ITEM, **change})
    assert info.value.reason.startswith(reason)


@pytest.mark.parametrize(
    "change",
    [
        {"velocidade": "abc"},
        {"velocidade": {"kmh": 42}},
        {"odometro": "muito"},
        {"odometro_can": [1, 2]},
        {"horimetro": "1.2.3,4,5"},
        {"bateria": "abc V"},
        {"ignicao": {"on": True}},
        {"ignicao": 2},
        {"data_gravacao": "31/02/2025 10:00:00"},
        {"data_gravacao": "2025-13-45T99:00:00"},
        {"logradouro": {"rua": "Av. Amazonas"}},
        {"equipamento_serial": ["860000000000001"]},
    ],
)
def test_positions_with_an_unreadable_descriptive_field_load_it_null_kept_in_extra(change: dict) -> None:
    item = {**E1_ITEM, **change, "novo_campo": "kept"}
    row = as_dict(POSITIONS.build(item), POSITIONS)
    ((name, value),) = change.items()
    assert row[name] is None
    assert row["extra"] == {"novo_campo": "kept", "_invalid": {name: value}}
    assert row["data_transmissao"] == LOCAL_1432 and row["latitude"] == pytest.approx(-19.9166813)


@pytest.mark.parametrize(
    ("change", "column"),
    [
        ({"latitude": "95"}, "latitude"),
        ({"longitude": "abc"}, "longitude"),
        ({"data_transmissao": "31/02/2025 10:00:00"}, "data_transmissao"),
        ({"descricao": {"modelo": "VW"}}, "descricao"),
        ({"frota": ["12"]}, "frota"),
    ],
)
def test_terminals_keep_the_vehicle_with_the_bad_field_null_and_the_original_in_raw(
    change: dict, column: str
) -> None:
    item = {**E1_ITEM, **change}
    row = as_dict(TERMINALS.build(item), TERMINALS)
    assert row["placa"] == "ABC1D23" and row[column] is None
    assert row["raw"] == item


@pytest.mark.parametrize(
    ("change", "column"),
    [
        ({"distancia_conducao": "abc"}, "distancia_conducao"),
        ({"duracao_conducao": "uma hora"}, "duracao_conducao"),
        ({"data_fim_conducao": "2025-13-45T99:00:00"}, "data_fim_conducao"),
        ({"latitude_fim_conducao": "-95"}, "latitude_fim_conducao"),
        ({"longitude_inicio_conducao": {"x": 1}}, "longitude_inicio_conducao"),
        ({"odometro_fim_conducao": "x"}, "odometro_fim_conducao"),
        ({"condutor_nome": {"nome": "Ana"}}, "condutor_nome"),
    ],
)
def test_trips_load_an_unreadable_field_null_with_the_original_in_raw(change: dict, column: str) -> None:
    item = {**TRIP, **change}
    row = as_dict(TRIPS.build(item), TRIPS)
    assert row[column] is None and row["raw"] == item


@pytest.mark.parametrize(
    "change",
    [{"data_inicio_conducao": "31/02/2025 06:01:05"}, {"data_inicio_conducao": [1]}, {"placa": {"p": 1}}],
)
def test_trips_with_an_unreadable_key_are_rejected(change: dict) -> None:
    with pytest.raises(Rejected, match="unreadable"):
        TRIPS.build({**TRIP, **change}, plate=None)


def _by_the_rules(raw: object, read: object) -> object:
    """The positions builder's value for a required field before its fast paths, or the reason."""
    try:
        value = read(raw)  # type: ignore[operator]
    except ValueError:
        return f"unreadable: {raw!r}"
    return "missing or empty" if value is None else value


def _position_field(field: str, raw: object) -> object:
    """The positions builder's value of ``field`` when the record sends ``raw``, or the rejection's reason."""
    try:
        return POSITIONS.build({**E1_ITEM, field: raw})[field]
    except Rejected as exc:
        return exc.reason


@pytest.mark.parametrize(
    "raw",
    ["-19.9166813", "90", "-90.0", "0", "-0.0", "90.0000001", "-99.5", "1.234,5", " -19.5", "-19.5 ",
     "+19.5", "1e1", "\u0663", "19.", ".5", "-", "", None, 12, -19.5, True, "nan"],
)  # fmt: skip
def test_latitude_fast_path_reads_as_the_rules_do(raw: object) -> None:
    expected, got = _by_the_rules(raw, ETRAC.number), _position_field("latitude", raw)
    if isinstance(expected, float) and -90 <= expected <= 90:
        assert got == expected and type(got) is float
    elif isinstance(expected, float):
        assert got == f"latitude out of range: {raw!r}"
    elif expected == "missing or empty":
        assert got in ("missing latitude", f"latitude out of range: {raw!r}")
    else:
        assert got == f"unreadable latitude: {raw!r}"


@pytest.mark.parametrize(
    "raw",
    ["15/11/2025 14:32:10", "15-11-2025 14:32:10", "2025-11-15T14:32:10", "2025-11-15 14:32:10",
     "31/02/2025 10:00:00", "00/00/0000 00:00:00", "01/01/0001 00:00:00", "0001-01-01T00:00:00",
     "15/11/2025 14:32:1x", "2025-11-15T14:32:10Z", "16/02/2019 23:30:00", "03/11/2018 23:59:59",
     "04/11/2018 00:30:00", "-", None],
)  # fmt: skip
def test_fix_time_fast_path_reads_as_the_rules_do(raw: object) -> None:
    expected, got = _by_the_rules(raw, ETRAC.timestamp), _position_field("data_transmissao", raw)
    if isinstance(expected, datetime):
        assert got == expected and got.utcoffset() == expected.utcoffset()  # type: ignore[union-attr]
        assert repr(got) == repr(expected)
    elif expected == "missing or empty":
        assert got in ("missing data_transmissao", f"empty data_transmissao: {raw!r}")
    else:
        assert got == f"unreadable data_transmissao: {raw!r}"


def test_a_plate_is_normalised_the_same_from_the_cache() -> None:
    for _ in range(2):
        assert parse.normalize_plate("abc-1d23") == "ABC1D23"
        assert parse.normalize_plate(" abc 1d23 ") == "ABC1D23"
        assert parse.normalize_plate("-") is None
        assert parse.normalize_plate(1234567) == "1234567"

    class Text(str):
        def __str__(self) -> str:
            return "XYZ9999"

    assert parse.normalize_plate(Text("abc-1d23")) == "XYZ9999"  # not the cached "ABC1D23"


def test_unknown_fields_go_to_extra_in_the_order_sent() -> None:
    record = {"zeta": 1, **E1_ITEM, "alfa": 2, "velocidade": "rápido"}
    row = POSITIONS.build(record)
    assert list(row["extra"]) == ["zeta", "alfa", "_invalid"]
    assert POSITIONS.build(E1_ITEM)["extra"] == {}
