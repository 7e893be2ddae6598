"""People's accounts: signing in (with locks after repeated failures), choosing a password by the
rules, and the administrators' management of officers' and administrators' accounts."""
