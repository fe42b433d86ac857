-- Initial warehouse schema: aggregate tables, the run ledger and the ingest ledger.
-- The `losses` view is not here: it points at this warehouse's Parquet folder by
-- absolute path and is refreshed by the code (sql/losses_view.sql).
CREATE TABLE bin_schemes (
    scheme_id VARCHAR NOT NULL,
    bin INTEGER NOT NULL,
    lower DOUBLE NOT NULL,
    upper DOUBLE NOT NULL,
    PRIMARY KEY (scheme_id, bin)
);

CREATE TABLE histograms (
    snapshot_date DATE NOT NULL,
    model VARCHAR NOT NULL,
    split VARCHAR NOT NULL,
    epoch BIGINT,
    label BIGINT,            -- NULL: all classes
    scheme_id VARCHAR NOT NULL,
    bin INTEGER NOT NULL,
    lower DOUBLE NOT NULL,
    upper DOUBLE NOT NULL,
    count BIGINT NOT NULL,
    weight_sum DOUBLE NOT NULL,
    fraction DOUBLE NOT NULL  -- count / samples of the (snapshot, model, split, epoch, label) group
);

CREATE TABLE summaries (
    snapshot_date DATE NOT NULL,
    model VARCHAR NOT NULL,
    split VARCHAR NOT NULL,
    epoch BIGINT,
    n BIGINT NOT NULL,
    mean_ce DOUBLE,
    std_ce DOUBLE,
    median_ce DOUBLE,
    p90_ce DOUBLE,
    p99_ce DOUBLE,
    max_ce DOUBLE,
    accuracy DOUBLE,
    mean_confidence DOUBLE,
    ece DOUBLE,
    brier DOUBLE,
    clipped BIGINT NOT NULL,
    n_classes INTEGER,
    ln_c DOUBLE,
    label_entropy DOUBLE
);

CREATE TABLE verdicts (
    snapshot_date DATE NOT NULL,
    model VARCHAR NOT NULL,
    heldout_split VARCHAR NOT NULL,
    reference_split VARCHAR NOT NULL,
    epoch BIGINT,
    verdict VARCHAR NOT NULL,
    reason VARCHAR NOT NULL,
    hints VARCHAR[] NOT NULL,
    n_reference BIGINT,
    n_heldout BIGINT,
    mean_reference DOUBLE,
    mean_heldout DOUBLE,
    gap DOUBLE,
    normalised_gap DOUBLE,
    gap_ci_low DOUBLE,
    gap_ci_high DOUBLE,
    ks DOUBLE,
    wasserstein DOUBLE,
    mia_auc DOUBLE,
    tpr_at_1pct_fpr DOUBLE,
    prior_entropy DOUBLE,
    ln_c DOUBLE,
    best_epoch BIGINT,
    thresholds JSON NOT NULL,
    PRIMARY KEY (snapshot_date, model, heldout_split)
);

CREATE TABLE job_runs (
    run_id VARCHAR PRIMARY KEY,
    command VARCHAR NOT NULL,
    started_at TIMESTAMPTZ NOT NULL,
    finished_at TIMESTAMPTZ,
    status VARCHAR NOT NULL,  -- running / succeeded / partial / failed
    snapshot_dates VARCHAR,
    files_seen BIGINT,
    files_ingested BIGINT,
    files_rejected BIGINT,
    files_unchanged BIGINT,
    rows_ingested BIGINT,
    rows_rejected BIGINT,
    seconds DOUBLE,
    error VARCHAR
);

CREATE TABLE ingested_files (
    path VARCHAR NOT NULL,
    size BIGINT NOT NULL,
    mtime DOUBLE NOT NULL,
    sha256 VARCHAR NOT NULL,
    snapshot_date DATE NOT NULL,
    status VARCHAR NOT NULL,  -- ingested / rejected
    rows BIGINT,
    rows_ignored BIGINT,
    rows_rejected BIGINT,
    error VARCHAR,
    run_id VARCHAR NOT NULL,
    PRIMARY KEY (path, snapshot_date)
);

CREATE TABLE rejected_rows (
    snapshot_date DATE NOT NULL,
    path VARCHAR NOT NULL,
    sample_id VARCHAR,
    column_name VARCHAR NOT NULL,
    problem VARCHAR NOT NULL,
    run_id VARCHAR NOT NULL
);
