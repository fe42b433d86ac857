-- The largest move of one shared sample's loss either way (sets the difference
-- histogram's range). Binds: none
SELECT max(abs(difference)) FROM paired_losses
