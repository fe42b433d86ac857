"""The `lossgram` command line: parse options, call one function of the core, print.

app (the Typer commands) with options (shared flags), console (progress and summaries),
user_sql (`lossgram sql`), losses_command (`lossgram losses`), demo (the bundled dumps).
"""
