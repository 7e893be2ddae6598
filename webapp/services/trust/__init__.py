"""Trust material: signing keys and the signed status list."""
