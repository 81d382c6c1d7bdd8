"""The Dashboard page: brokerage overview, Team Business cards, recent activity, My Business."""
