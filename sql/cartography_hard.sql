-- The hard-to-learn samples (low confidence, low variability: the model never learned
-- them, often a wrong label), least confident first: label-issue candidates.
-- Binds: $ambiguous, $easy, $limit
SELECT sample_id, label, epochs, confidence, variability, correctness, forgetting_events
FROM sample_dynamics
WHERE variability < $ambiguous AND confidence < $easy
ORDER BY confidence, sample_id
LIMIT $limit
