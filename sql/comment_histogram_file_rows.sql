-- Say what histogram_file_rows is (made again at every commit, which drops its comment).
-- Binds: none
COMMENT ON VIEW histogram_file_rows IS 'The rows of the committed histogram files (histogram_files), by absolute path; read histograms instead.'
