"""resonator."""
