"""The subcommands of ``prr``: each module registers its parser with ``register``."""
