"""claude-max: OpenAI- and Anthropic-compatible APIs on top of the Claude Code CLI."""

__version__ = "0.1.0"
