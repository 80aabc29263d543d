// GraftKernels: see the module's other files.
