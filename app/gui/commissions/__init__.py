"""The commission ledger page (SPEC §6): its model, filter bar, totals strip and dialogs."""
