"""Reference code lists shipped with the engine (ISO 3166-1 countries, ISO 4217 currencies)."""
