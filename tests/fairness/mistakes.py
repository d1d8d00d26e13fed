"""Single-mistake variants (filled in below)."""
MISTAKES = []


def build(mistake, base_source):
    raise NotImplementedError
