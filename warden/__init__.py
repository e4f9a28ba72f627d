"""Warden: a Mastodon-compatible microblogging server with a built-in trust & safety engine."""

__version__ = "0.1.0"
