"""SQLite storage through aiosqlite: one module per feature, raw SQL in, domain objects out."""
