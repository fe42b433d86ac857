-- Past the allowed folders, no file, network or extension access. Binds: none
SET enable_external_access = false
