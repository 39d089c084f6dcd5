"""Optional integrations with third-party packages (each imports its package only when used)."""
