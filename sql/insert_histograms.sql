-- Store histograms another engine computed (Spark), from the registered frame
-- `computed_histograms` (the histograms columns). Binds: none
INSERT INTO histograms BY NAME SELECT * FROM computed_histograms
