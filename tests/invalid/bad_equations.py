# expect: field=excitatory_eqs; message=invalid Brian2 equations
"""Equations without a unit after the colon."""
tau_e = 100*ms                   # membrane time constant
excitatory_eqs = '''
dv/dt = -v / tau_e
'''
