# expect: field=tau_thetaa; message=(did you mean 'tau_theta'?)
"""A parameter whose name is misspelled, so nothing uses it."""
tau_thetaa = 1e7*ms              # decay of the adaptive threshold
