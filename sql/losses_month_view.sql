-- One month's committed per-sample files, by absolute path: the stored `losses` view reads
-- the months' views, so a commit makes again only its night's month (binding a view over
-- every file of a year took ~0.2 s a commit). Literal: {{month_view}} (the view's name),
-- {{groups}} (losses_group parts joined by UNION ALL BY NAME). Binds: none
CREATE OR REPLACE VIEW {{month_view}} AS {{groups}}
