-- A reader's own `losses` view (temporary: the file is open read-only), following a
-- warehouse folder that moved since the stored view was made. Literal: :losses_glob.
-- Binds: none
CREATE OR REPLACE TEMP VIEW losses AS SELECT * FROM losses_parquet(:losses_glob)
