"""The pact document: the standard template (Markdown, translated) and the diff between versions."""


def initial_text(pact):
    """The standard pact template as Markdown, filled with the pact's data."""
    raise NotImplementedError


def diff_versions(old, new):
    """Line diff of two PactVersions: a list of (op, text) with op in {"same", "added", "removed"}."""
    raise NotImplementedError
