-- No later statement may change a setting (or undo the two above). Binds: none
SET lock_configuration = true
