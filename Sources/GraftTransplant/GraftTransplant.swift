// GraftTransplant: DPIAT-style weight transfer, analytic init, architecture similarity.
