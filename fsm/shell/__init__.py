"""The imperative shell: the asyncio engine that runs the core against venues, the
journal it writes before sending anything, and recovery from that journal."""
