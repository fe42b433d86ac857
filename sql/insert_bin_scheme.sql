-- Store a bin scheme's edges from the registered frame `scheme_bins` (scheme_id, bin,
-- lower, upper). Binds: none
INSERT INTO bin_schemes SELECT scheme_id, bin, lower, upper FROM scheme_bins
