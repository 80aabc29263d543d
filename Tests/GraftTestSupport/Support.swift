import GraftIR
