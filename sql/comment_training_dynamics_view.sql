-- Say what training_dynamics is (made again at every commit). Binds: none
COMMENT ON VIEW training_dynamics IS 'Per sample of each night, model and split dumped at 3+ epochs (Dataset Cartography): confidence, variability, correctness, forgetting_events (NULL when never_learnt) and region (ambiguous / easy-to-learn / hard-to-learn by rank: the top 33% as the authors'' selection takes).';
