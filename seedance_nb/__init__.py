"""seedance-nb: Seedance video generation from notebooks (placeholder, filled in below)."""
