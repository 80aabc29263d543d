// GraftBackend: see the module's other files.
