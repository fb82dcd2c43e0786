"""The one exception hierarchy of hinge-edge: every error a user can cause is one of these."""


class EdgeError(Exception):
    """Base of every error hinge-edge raises on purpose."""


class ConfigError(EdgeError):
    """The configuration is invalid (names the key and what is wrong)."""


class SourceError(EdgeError):
    """A camera or video source cannot be opened or read."""


class ModelError(EdgeError):
    """A model file is missing, altered, or does not have the expected interface."""


class PublishError(EdgeError):
    """Events cannot be delivered (broker, spool)."""
