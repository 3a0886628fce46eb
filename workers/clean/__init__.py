"""Clean stage: a raw page (HTML or flattened text) -> article text, title, date. No Kafka here."""

from workers.clean.page import CleanedPage, clean_page, clean_page_bytes, sniff_content_type

__all__ = ["CleanedPage", "clean_page", "clean_page_bytes", "sniff_content_type"]
