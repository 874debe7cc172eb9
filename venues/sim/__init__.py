"""The simulated venue: deterministic matching, scripted reactions and faults, virtual time."""
