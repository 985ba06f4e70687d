"""Avviksboten: the running service."""
