"""Notifications after a run: what to say (message), where and how it is sent (send),
and the run's side of it (deliver: which nights, the ledger record). Apprise speaks to
Slack, Teams, e-mail and 100+ services; JSON webhooks get lossgram's own document."""
