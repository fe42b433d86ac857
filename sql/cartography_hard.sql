-- The hard-to-learn samples (lowest confidence: the model did not learn them, often a
-- wrong label when the model learns the rest), least confident first, with the class
-- name where the dumps declared one. Binds: $limit
SELECT d.sample_id, d.label, n.name AS class, d.epochs, d.confidence, d.variability,
    d.correctness, d.forgetting_events, d.never_learnt
FROM sample_dynamics AS d
LEFT JOIN class_names AS n
    ON n.snapshot_date = d.snapshot_date AND n.model = d.model AND n.label = d.label
WHERE d.region = 'hard-to-learn'
ORDER BY d.confidence, d.sample_id
LIMIT $limit
