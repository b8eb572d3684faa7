"""How updates come and go: the durable inbox and its lanes, long polling, the notices sender,
parked updates, Stars reconciliation, the scheduled jobs and the Telegram session. These need
the Bot, so they live here rather than in bot/services/."""
