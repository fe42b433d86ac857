-- Where the catalog was when its stored view was made. Binds: none
SELECT path FROM catalog_location
