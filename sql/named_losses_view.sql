-- The per-sample losses with the names of the true and the predicted class (made with
-- the losses view it reads, at each commit). Binds: none
CREATE OR REPLACE VIEW named_losses AS
SELECT l.*, label_names.name AS label_name, pred_names.name AS pred_name
FROM losses AS l
LEFT JOIN class_names AS label_names
    ON label_names.snapshot_date = l.snapshot_date AND label_names.model = l.model
    AND label_names.label = l.label
LEFT JOIN class_names AS pred_names
    ON pred_names.snapshot_date = l.snapshot_date AND pred_names.model = l.model
    AND pred_names.label = l.pred
