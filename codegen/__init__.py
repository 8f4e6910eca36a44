"""Build step: OCPP 1.6 JSON schemas -> the generated part of the ocpp16 package."""
