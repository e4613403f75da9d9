# expect: model=mstdp; field=step_size; message=has units of
"""The step size is a dimensionless fraction of the force, not a time."""
step_size = 0.2*ms               # epsilon: step of s down the energy
