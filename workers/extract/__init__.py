"""Extract stage: article text -> named entities with offsets and canonical names. No Kafka here."""

from workers.extract.entities import Entity, EntityExtractor, EntityRow, get_extractor

__all__ = ["Entity", "EntityExtractor", "EntityRow", "get_extractor"]
