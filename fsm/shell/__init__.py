"""The imperative shell: the asyncio engine that runs the core against venues, the
venue gateway that reports each answer as an event, the journal it writes before
sending anything, and recovery from that journal."""
