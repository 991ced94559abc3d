"""Projections of the knowledge graph into other data models (the Neo4j property graph)."""
