# expect: model=mstdp; field=synapse_eqs; message=unknown identifier 'learning_rte' (did you mean 'learning_rate'?)
"""A weight rule that uses a misspelled learning rate."""
learning_rate = 0.001            # alpha of the weight rule
synapse_eqs = '''
dw/dt = learning_rte * w / dt : 1 (clock-driven)
'''
