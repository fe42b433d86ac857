-- The slice columns the warehouse holds, with their types and the dump that brought each.
-- Binds: none
SELECT name, arrow_type, first_dump FROM slice_columns
