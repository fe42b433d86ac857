-- Why a run tripped the fail_on gate, decided after its last commit. Binds: $run_id, $gate
UPDATE job_runs SET gate = $gate WHERE run_id = $run_id
