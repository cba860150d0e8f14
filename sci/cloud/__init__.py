"""Fetching provider data into files the collectors read (never at run time by default)."""
