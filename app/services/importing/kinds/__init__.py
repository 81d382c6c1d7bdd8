"""The import kinds of SPEC §11, one module per area; listed in ``registry.KINDS``."""
