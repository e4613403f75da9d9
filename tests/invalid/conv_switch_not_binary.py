# expect: model=adaptive-conv; field=alic_on; message=must be a whole number, got 0.5
"""A module switch that is neither 0 nor 1."""
alic_on = 0.5                    # adaptive lateral inhibition
