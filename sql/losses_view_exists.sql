-- Whether the `losses` view exists yet (a new warehouse file). Binds: none
SELECT count(*) FROM information_schema.tables WHERE table_name = 'losses'
