"""Simulation: scenario files, running them on simulated venues in virtual time, crashing
them on purpose, and the scenarios shipped with the package (``scenarios/``)."""
