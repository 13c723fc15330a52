"""The JSON API (v1) for analysts' tools and other systems, with its OpenAPI document, and
the personal API tokens people manage from their profile. The API is the top floor: it calls
every feature's services and nothing imports it."""
