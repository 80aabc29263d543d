// GraftPasses: see the module's other files.
