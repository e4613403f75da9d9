# expect: field=nu_pre; message=out of range
"""A negative learning rate."""
nu_pre = -0.0001                 # depression learning rate
