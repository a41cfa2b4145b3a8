"""The generic sync engine: entity specs in, warehouse rows and a plain report out."""
