"""Venue adapters: the protocol, its error taxonomy, and the simulated venue."""

from loguru import logger

logger.disable("venues")
