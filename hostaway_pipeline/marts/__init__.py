"""The marts' computations (pure pandas) and the warehouse reads they need."""
