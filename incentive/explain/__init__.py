"""Explanations: statements built from a trace, rendered in English or Chinese."""
