"""Layer 5: optimizers and learning-rate schedules (being written)."""
