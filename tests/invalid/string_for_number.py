# expect: field=tau_e; message=expected a number with units, got a string
"""A quantity written as a string."""
tau_e = '100*ms'                 # membrane time constant
