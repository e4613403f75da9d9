# expect: field=min_spikes; message=must be a whole number
"""A spike count that is not a whole number."""
min_spikes = 4.5                 # fewer excitatory spikes than this: show again
