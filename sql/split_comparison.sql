-- Distribution distances between a reference split (members) and a held-out split of one
-- (snapshot, model, epoch): KS statistic, Wasserstein-1, loss-threshold membership
-- inference AUC (members have lower loss) and its TPR at <= 1% FPR. All from the
-- empirical CDFs over the distinct loss values, so ties count as scipy/sklearn count them.
-- Binds: $snapshot_date, $model, $epoch, $reference_split, $heldout_split
WITH pooled AS (
    SELECT ce, split = $reference_split AS member
    FROM losses
    WHERE snapshot_date = $snapshot_date AND model = $model
      AND epoch IS NOT DISTINCT FROM $epoch
      AND split IN ($reference_split, $heldout_split)
),
totals AS (
    SELECT
        count(*) FILTER (WHERE member) AS n_member,
        count(*) FILTER (WHERE NOT member) AS n_other
    FROM pooled
),
steps AS (
    SELECT
        ce,
        count(*) FILTER (WHERE member) AS k_member,
        count(*) FILTER (WHERE NOT member) AS k_other
    FROM pooled
    GROUP BY ce
),
cdf AS (
    SELECT
        ce, k_member, k_other, n_member, n_other,
        sum(k_member) OVER running AS cum_member,
        sum(k_other) OVER running AS cum_other,
        lead(ce) OVER (ORDER BY ce) - ce AS width
    FROM steps, totals
    WINDOW running AS (ORDER BY ce ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
)
SELECT
    max(n_member) AS n_reference,
    max(n_other) AS n_heldout,
    max(abs(cum_member / n_member - cum_other / n_other)) AS ks,
    sum(abs(cum_member / n_member - cum_other / n_other) * coalesce(width, 0)) AS wasserstein,
    -- P(member loss < other loss) + P(tie) / 2
    sum(k_other * ((cum_member - k_member) + k_member / 2.0))
        / (max(n_member) * max(n_other)) AS mia_auc,
    coalesce(max(cum_member / n_member) FILTER (WHERE cum_other / n_other <= 0.01), 0)
        AS tpr_at_1pct_fpr
FROM cdf
