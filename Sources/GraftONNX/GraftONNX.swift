// GraftONNX: see the module's other files.
