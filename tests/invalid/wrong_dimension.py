# expect: field=tau_e; message=has units of
"""A membrane time constant given in millivolts."""
tau_e = 100*mV                   # membrane time constant
