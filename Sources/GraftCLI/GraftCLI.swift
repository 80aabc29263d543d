// GraftCLI: see the module's other files.
