-- A user's query may read files only in these folders (the warehouse's losses).
-- Binds: $folders
SET allowed_directories = $folders
