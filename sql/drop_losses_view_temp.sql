-- Drop this session's own `losses` view: a commit that makes the stored view again after
-- one (a moved warehouse followed, then the night's) would otherwise comment the
-- temporary view, which comes first by name. Binds: none
DROP VIEW IF EXISTS temp.main.losses
