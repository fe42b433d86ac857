-- The nights whose histograms are in histogram_rows, to be moved out. Binds: none
SELECT DISTINCT snapshot_date FROM histogram_rows ORDER BY snapshot_date
