"""Local exchange doubles for ccxt: stateful fakes served over loopback TLS."""
