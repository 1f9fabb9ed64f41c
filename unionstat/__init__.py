"""unionstat: a checked, queryable warehouse of the evidence on Russia-Belarus S&T integration."""

__version__ = "0.1.0"
