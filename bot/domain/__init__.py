"""The small types every layer reads: Money, the injected clock, domain errors, records and the
StrEnums of statuses. Nothing here imports another part of the bot."""
