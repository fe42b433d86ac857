-- Remove one bin scheme's edges (before they are written again). Binds: $scheme_id
DELETE FROM bin_schemes WHERE scheme_id = $scheme_id
