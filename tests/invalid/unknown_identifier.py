# expect: field=excitatory_threshold; message=unknown identifier 'v_threshold_e' (did you mean 'v_thresh_e'?)
"""A threshold that uses a parameter name with a typo."""
v_thresh_e = -52*mV              # threshold
tau_e = 100*ms                   # membrane time constant
excitatory_eqs = '''
dv/dt = -v / tau_e : volt
'''
excitatory_threshold = 'v > v_threshold_e'
