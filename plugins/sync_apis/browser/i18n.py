"""Labels in Portuguese (the default) and English: ``?lang=en`` or the browser's Accept-Language."""

from __future__ import annotations

from fastapi import Request

LANGS = ("pt", "en")

LABELS: dict[str, dict[str, str]] = {
    "app_title": {"pt": "Sincronização", "en": "Sync APIs"},
    "overview": {"pt": "Visão geral", "en": "Overview"},
    "tables": {"pt": "Tabelas", "en": "Tables"},
    "source": {"pt": "Origem", "en": "Source"},
    "stream": {"pt": "Fluxo", "en": "Stream"},
    "last_good_day": {"pt": "Último dia carregado", "en": "Last day loaded"},
    "lag": {"pt": "Atraso (dias)", "en": "Lag (days)"},
    "received": {"pt": "Recebidos", "en": "Received"},
    "inserted": {"pt": "Inseridos", "en": "Inserted"},
    "updated": {"pt": "Atualizados", "en": "Updated"},
    "rejected": {"pt": "Rejeitados", "en": "Rejected"},
    "api_total": {"pt": "Total da API", "en": "API total"},
    "last_30_days": {"pt": "Últimos 30 dias", "en": "Last 30 days"},
    "last_run": {"pt": "Última execução", "en": "Last run"},
    "missing": {"pt": "ausente", "en": "missing"},
    "failed": {"pt": "falhou", "en": "failed"},
    "success": {"pt": "ok", "en": "ok"},
    "warning": {"pt": "aviso: provavelmente incompleto", "en": "warning: probably incomplete"},
    "warning_column": {"pt": "Aviso", "en": "Warning"},
    "warning_column_help": {
        "pt": "Por que a última execução, embora verde, provavelmente está incompleta; ou o erro dela.",
        "en": "Why the last run, though green, is probably incomplete; or its error.",
    },
    "no_runs": {"pt": "Nenhuma execução registrada ainda.", "en": "No runs recorded yet."},
    "schema": {"pt": "Esquema", "en": "Schema"},
    "table": {"pt": "Tabela", "en": "Table"},
    "rows": {"pt": "Linhas", "en": "Rows"},
    "estimate": {"pt": "estimativa", "en": "estimate"},
    "more_than": {"pt": "mais de", "en": "more than"},
    "search": {"pt": "Buscar", "en": "Search"},
    "filter": {"pt": "Filtrar", "en": "Filter"},
    "clear_filters": {"pt": "Limpar", "en": "Clear"},
    "next_page": {"pt": "Próxima página", "en": "Next page"},
    "first_page": {"pt": "Primeira página", "en": "First page"},
    "download_csv": {"pt": "Baixar CSV", "en": "Download CSV"},
    "record": {"pt": "Registro", "en": "Record"},
    "open": {"pt": "abrir", "en": "open"},
    "not_found": {"pt": "Não encontrado", "en": "Not found"},
    "error": {"pt": "Erro", "en": "Error"},
    "run": {"pt": "Execução", "en": "Run"},
    "data_loaded": {"pt": "Dados carregados", "en": "Data loaded"},
    "run_rows": {"pt": "Linhas de sync_runs desta execução", "en": "This run's sync_runs rows"},
    "rejections": {"pt": "Registros rejeitados", "en": "Rejected records"},
    "reason": {"pt": "Motivo", "en": "Reason"},
    "day": {"pt": "Dia", "en": "Day"},
    "status": {"pt": "Situação", "en": "Status"},
    "task": {"pt": "Tarefa", "en": "Task"},
    "tables_of_day": {"pt": "Tabelas filtradas pelo dia", "en": "Tables filtered to the day"},
    "nothing_loaded": {
        "pt": "Esta execução não registrou carga em sync_meta.sync_runs.",
        "en": "This run recorded no load in sync_meta.sync_runs.",
    },
    "filter_help": {
        "pt": "Filtros: >=, <=, >, <, =, != comparam; NULL / !NULL; AAAA-MM-DD numa coluna de data "
        "= o dia em São Paulo; texto = contém.",
        "en": "Filters: >=, <=, >, <, =, != compare; NULL / !NULL; YYYY-MM-DD on a time column "
        "= that São Paulo day; text = contains.",
    },
    "sort_by": {"pt": "ordenar por", "en": "sort by"},
    "vehicle_day": {"pt": "Veículo no dia", "en": "Vehicle day"},
    "plate": {"pt": "Placa", "en": "Plate"},
    "show": {"pt": "Mostrar", "en": "Show"},
    "points": {"pt": "Pontos", "en": "Points"},
    "distance_km": {"pt": "Distância (km)", "en": "Distance (km)"},
    "driving_minutes": {"pt": "Dirigindo (min)", "en": "Driving (min)"},
    "max_speed": {"pt": "Vel. máx. (km/h)", "en": "Max speed (km/h)"},
    "stops": {"pt": "Paradas", "en": "Stops"},
    "trips": {"pt": "Viagens", "en": "Trips"},
    "start": {"pt": "Início", "en": "Start"},
    "end": {"pt": "Fim", "en": "End"},
    "fleet_now": {"pt": "Frota agora", "en": "Fleet now"},
    "vehicles": {"pt": "veículos", "en": "vehicles"},
    "stale": {"pt": "sem posição há mais de um dia", "en": "no fix for over a day"},
    "last_fix": {"pt": "Última posição", "en": "Last fix"},
    "auvo_day": {"pt": "Auvo no dia", "en": "Auvo day"},
    "tasks_word": {"pt": "tarefas", "en": "tasks"},
    "assignee": {"pt": "Responsável", "en": "Assignee"},
    "customer": {"pt": "Cliente", "en": "Customer"},
    "task_type": {"pt": "Tipo", "en": "Type"},
    "scheduled": {"pt": "Agendada", "en": "Scheduled"},
    "check_in": {"pt": "Check-in", "en": "Check-in"},
    "check_out": {"pt": "Check-out", "en": "Check-out"},
    "answers": {"pt": "Respostas dos questionários", "en": "Questionnaire answers"},
    "lang_other": {"pt": "English", "en": "Português"},
}


def language(request: Request) -> str:
    asked = request.query_params.get("lang", "")
    if asked in LANGS:
        return asked
    accept = request.headers.get("accept-language", "").lower()
    first = accept.split(",")[0].strip()
    return "en" if first.startswith("en") else "pt"


# Templates read labels as ``t.name``; Jinja finds a dict's methods first, so no label may be
# called like one (``t.clear`` once rendered "<built-in method clear ...>").
assert not set(LABELS) & set(dir(dict)), set(LABELS) & set(dir(dict))


def labels(lang: str) -> dict[str, str]:
    return {key: texts[lang] for key, texts in LABELS.items()}
