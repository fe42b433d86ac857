-- The columns of the losses view as it is bound now (a page's view covers its model's
-- files alone, which may lack slice columns other models brought). Binds: none
SELECT column_name FROM (DESCRIBE losses)
