-- Record the outcomes of a run's notifications, from the registered frame `delivered`
-- (the notifications columns). Binds: none
INSERT INTO notifications BY NAME SELECT * FROM delivered
