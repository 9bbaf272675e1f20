"""The core layer: vocabulary, specs and defaults, units, the settings-dict edge (NumPy only)."""
