"""Real exchanges through ccxt: the adapter, per-exchange dialects, payload parsing, the
order stream and the error table. Importing this package loads ccxt; nothing else does."""
