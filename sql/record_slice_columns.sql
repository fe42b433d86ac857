-- Note slice columns seen for the first time, from the registered frame `new_slices`
-- (name, arrow_type, first_dump). Binds: none
INSERT INTO slice_columns SELECT name, arrow_type, first_dump FROM new_slices
WHERE name NOT IN (SELECT name FROM slice_columns)
