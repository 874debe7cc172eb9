"""Real exchanges through ccxt: the adapter, building its instances, unit and shape
conversions, order tracking, payload parsing, the order stream, per-exchange dialects
and the error table. Importing the package itself loads nothing: ``errors`` and
``instances`` (and so ``adapter``) load ccxt, and nothing outside this package imports it."""
