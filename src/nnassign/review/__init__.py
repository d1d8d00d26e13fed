"""The review stage: score written answers in a browser (app.py), kept in SQLite (store.py)."""
