"""Simulation: scenario files, running them on simulated venues in virtual time, crashing
them on purpose, and the scenarios shipped with the package (``scenarios/``)."""

# Named here, not in the modules that use them, so that the command line can show them
# in its help without loading the simulator (``import fsm.cli`` stays cheap).
DEFAULT_SCENARIO = "one_leg_fills_first"  # what ``atomic-entry simulate`` runs by default
SIMULATED = "simulated"  # a journal origin's kind for a simulated run
DEFAULT_DOWNTIME_S = 5.0  # how long ``recover`` lets a rebuilt simulated venue run on
