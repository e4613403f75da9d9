# expect: model=mstdp; field=momentum_clamped; message=out of range
"""An inertia above 1: the velocity would grow without bound."""
momentum_clamped = 1.5           # inertia m of the velocity in clamped phases
