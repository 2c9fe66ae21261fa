"""One router module per operation family, plus the HTML pages."""
