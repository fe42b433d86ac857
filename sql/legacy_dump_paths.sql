-- Every dump path the ledger knows, to name the dump behind a losses file an older
-- lossgram wrote (its name was derived from the dump's path). Binds: none
SELECT DISTINCT path FROM ingested_files
