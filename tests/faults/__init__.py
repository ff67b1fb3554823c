"""Fault injection: the state store breaks while the app serves, and comes back."""
