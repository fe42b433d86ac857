-- Say what the empty loss_columns table is for (made again with the per-sample schema,
-- which drops its comment). Binds: none
COMMENT ON TABLE loss_columns IS 'Always empty: the losses view''s columns before any per-sample file is committed.'
