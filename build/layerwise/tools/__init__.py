"""The tools: the command line, the build that runs both halves, serve, scaffold and bench."""
