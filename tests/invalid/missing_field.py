# expect: field=dt; message=missing
"""A file that defines only one parameter."""
tau_e = 100*ms                   # membrane time constant
