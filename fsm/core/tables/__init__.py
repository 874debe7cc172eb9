"""The state tables of an entry and of its orders: one table per machine (see ``fsm.core.spec``)."""
