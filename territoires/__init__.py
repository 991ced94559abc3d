"""Territories: the COG referential as a hierarchy, collectivities by code or name, distances, maps.

- :mod:`territoires.referentiel`: the loaded referential (commune → EPCI → département → région), names,
  seats and centres, what a territory lies in (:func:`territoires.referentiel.territoires`);
- :mod:`territoires.collectivites`: a collectivity from a code, a SIREN or an IRI, lookup by name;
- :mod:`territoires.distance`: great-circle distances, vectorised;
- :mod:`territoires.carte`: points of the graph's carriers and places, map clusters, GeoJSON.
"""
