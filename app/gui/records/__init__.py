"""Leads, appointments, clients, listings and escrows: a table page and a form for each."""
