-- Say what a month's view is (made again by each commit of the month, which drops its
-- comment). Literal: {{month_view}}. Binds: none
COMMENT ON VIEW {{month_view}} IS 'The committed per-sample files of one month, as the losses view reads them (query losses instead).'
