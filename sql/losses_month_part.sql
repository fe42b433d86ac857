-- One month's view as a part of the stored `losses` source. Literal: {{month_view}}.
-- Binds: none
SELECT * FROM {{month_view}}
