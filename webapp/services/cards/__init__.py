"""Cards: numbers, signed tokens, QR codes, the lifecycle and the national roll-out."""
