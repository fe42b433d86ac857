-- Drop the temp view night_losses once a night's aggregates are read. Binds: none
DROP VIEW IF EXISTS night_losses
