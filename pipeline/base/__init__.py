"""What every stage shares and nothing heavy: errors and exit codes, the small frozen
option objects, the result records of a run, the progress callback, durable file writes
and the named fault points the crash tests kill at."""
