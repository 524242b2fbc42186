"""The workflow model, YAML/JSON loading and sandboxed templating."""
