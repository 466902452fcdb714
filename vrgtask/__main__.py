"""Allow ``python -m vrgtask``."""

from vrgtask.cli import run

if __name__ == "__main__":
    run()
