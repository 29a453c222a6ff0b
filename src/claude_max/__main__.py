"""`python -m claude_max` runs the same app as the `claude-max` script."""

from claude_max.cli import main

main()
