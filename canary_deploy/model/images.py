"""Container image references: `registry/repository:tag` (a port in the registry is not a tag)."""


def image_tag(image: str) -> str | None:
    """The tag of an image reference, or None when it has none."""
    name = image.rsplit("/", 1)[-1]
    return name.rsplit(":", 1)[1] if ":" in name else None
