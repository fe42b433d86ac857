-- Session settings of a writer connection: timestamps in UTC. Binds: none
SET TimeZone = 'UTC'
