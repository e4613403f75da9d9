# expect: model=adaptive-conv; field=conv_on_post; message=unknown identifier 'x_ofset' (did you mean 'x_offset'?)
"""An STDP rule that uses a misspelled offset."""
a_plus = 1                       # STDP: presynaptic trace at a spike
x_offset = 0.3                   # STDP: traces below x_offset depress, above potentiate
conv_on_post = '''
dw_pre += learning_on_post * (a_plus * pixel - x_ofset)
'''
