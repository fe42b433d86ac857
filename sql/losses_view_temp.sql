-- A session's own `losses` view (temporary: a reader's file is open read-only, and a
-- writer's is a copy until it is swapped in): committed files under this warehouse
-- folder, wherever it now is. Literal: {{losses_source}} (sql/losses_source.sql over
-- absolute paths, filled). Binds: none
CREATE OR REPLACE TEMP VIEW losses AS {{losses_source}}
