"""Domain model and rules of micromoves: plain dataclasses, no I/O (a test enforces the import rule)."""
