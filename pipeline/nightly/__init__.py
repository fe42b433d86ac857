"""The nightly job: one run wired from the steps of the stages below it.

driver (open, plan, land each night, finish) with engine (embedded or Spark) ->
service (the run, then its reports) -> schedule (the daemon's cron).
"""
