-- A session's own `losses` view (temporary: a reader's file is open read-only, and a
-- writer's is a copy until it is swapped in): the committed files under this warehouse
-- folder, wherever it now is. Literal: {{losses_files}} (a list of absolute paths).
-- Binds: none
CREATE OR REPLACE TEMP VIEW losses AS SELECT * FROM losses_parquet({{losses_files}})
