"""The knowledge base: YAML data under data/, its schema, loader and integrity checks."""
