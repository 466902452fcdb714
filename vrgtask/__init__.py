"""vrgtask: a command-line tool for the VergeOS task engine."""

__version__ = "0.1.0"
