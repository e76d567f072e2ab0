"""The device console for staff (docs/ARCHITECTURE.md "The device console"): an interface module,
above the core. It asks the device's gateway adapter for what its capabilities offer and records
what comes back (the profile on the device row, a connection change through the core service)."""
