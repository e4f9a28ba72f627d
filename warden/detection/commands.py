"""CLI commands of the detection part (train, classify, eval): registered on the `warden` group."""

import click


def register(group: click.Group) -> None:
    """Add the detection commands to the `warden` CLI group."""
