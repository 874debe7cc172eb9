"""The decision core: state tables, the entry model, the order ledger and their values.

Sans-I/O, in the manner of h11: it consumes events and returns commands, reads no
clock, calls no venue and awaits nothing. From outside ``fsm.core`` it imports only
``venues.market`` (the vocabulary) and ``venues.checks`` (the value checks its config uses).
"""
