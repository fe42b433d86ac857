-- Forget retired files whose files the run deleted (expired_files). Binds: $paths
DELETE FROM retired_files WHERE path IN (SELECT unnest($paths::VARCHAR[]))
