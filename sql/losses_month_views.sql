-- The months' views the stored `losses` view reads (sql/losses_month_view.sql), of this
-- catalog. Binds: none
SELECT view_name FROM duckdb_views()
WHERE database_name = current_database() AND schema_name = 'main'
    AND starts_with(view_name, 'losses_of_')
ORDER BY view_name
