-- A month whose files are all gone (a rerun replaced them elsewhere). Literal:
-- {{month_view}}. Binds: none
DROP VIEW IF EXISTS {{month_view}}
