# expect: field=None; message=syntax error
"""A missing operator."""
tau_e = 100 ms                   # membrane time constant
