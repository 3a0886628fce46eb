"""Extract stage: article text -> named entities with offsets and canonical names. No Kafka here."""

from workers.extract.entities import Entity, EntityExtractor, get_extractor

__all__ = ["Entity", "EntityExtractor", "get_extractor"]
