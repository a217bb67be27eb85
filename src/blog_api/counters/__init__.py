"""The counters' ledger: how every count is read, and the fold that keeps it small."""
