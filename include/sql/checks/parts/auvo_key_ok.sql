    (SELECT count(*) = count(DISTINCT {key}) AND count(*) = count({key}) FROM {table}) AS {ok}
