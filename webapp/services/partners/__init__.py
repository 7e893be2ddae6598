"""Partners: their organisations, API keys (and, later, offers, eligibility and redemptions)."""
