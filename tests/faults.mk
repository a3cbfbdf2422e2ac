# faults tests
