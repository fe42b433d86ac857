-- Schema signatures read from the footers of live files that had none (files of an older
-- lossgram), from the registered frame `found_columns` (path, column_set). Binds: none
INSERT OR REPLACE INTO file_columns SELECT path, column_set FROM found_columns
