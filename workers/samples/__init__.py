"""Sample pages for ``newsflow up --demo`` (written for newsflow; no third-party text)."""
