"""Integrations with other RL libraries (optional extras): ``prunerl.integrations.sb3``."""
