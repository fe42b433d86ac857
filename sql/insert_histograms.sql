-- Store the histograms either engine computed (sql/histograms.sql), from the registered
-- frame `computed_histograms` (the histograms columns). Binds: none
INSERT INTO histogram_rows BY NAME SELECT * FROM computed_histograms
