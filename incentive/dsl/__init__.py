"""The plan language: grammar, parser to a typed AST, and semantic checks (no evaluation)."""
