"""Post-close performance (SPEC §9): buyers and buy boxes, performance records with a locked
pro forma, monthly rent-roll periods, their grades and feedback, and portfolio analytics."""
