-- The scope a plate-day's complete history answer vouches for (Stage.delete_missing, target
-- aliased t): fixes a history answer once reported, of the plates, inside the local day.
t.placa = ANY(%(plates)s) AND t.origin = 'history'
AND t.data_transmissao >= %(start)s AND t.data_transmissao < %(end)s
