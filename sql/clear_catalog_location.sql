-- Forget where the catalog was (before noting where it is now). Binds: none
DELETE FROM catalog_location
