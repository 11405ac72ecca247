-- The browser transaction's statement timeout. Parameter: timeout (text, e.g. '5000ms').
SELECT set_config('statement_timeout', %(timeout)s, true)
